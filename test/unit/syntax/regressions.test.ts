import { describe, expect, test } from "vitest";
import { dumpSexp, parseDockerfile } from "../../../src/syntax/index.js";

// Parser bugs found while building the acceptance harness, each pinned to
// what BuildKit does.

function parse(text: string) {
  const { ast, diagnostics } = parseDockerfile(text);
  return { ast, sexp: dumpSexp(ast), errors: diagnostics.filter((d) => d.severity === "error") };
}

describe("heredoc bodies end where BuildKit's scanner says, whatever the line grammar saw", () => {
  // The line grammar lexes the whole file before heredocs are known, so a
  // body line ending in the escape character joined the terminator line (or
  // lines after it) into one item, and the next instruction was lost.
  test("a terminator that looks like a comment", () => {
    const { ast, sexp, errors } = parse("FROM a\nRUN <<#EOF\nfoo \\\n#EOF\nRUN next\n");
    expect(errors).toEqual([]);
    expect(sexp).toBe('(from "a")\n(run "<<#EOF")\n(run "next")\n');
    expect(ast.instructions[1]!.heredocs[0]!.content).toBe("foo \\\n");
    expect(ast.instructions[2]!.range.start.line).toBe(5);
  });

  test("a terminator that is blank", () => {
    const { sexp, errors } = parse('FROM a\nRUN <<" "\nfoo \\\n \nRUN next\n');
    expect(errors).toEqual([]);
    expect(sexp).toBe('(from "a")\n(run "<<\\" \\"")\n(run "next")\n');
  });

  test("a terminator that ends in the escape character", () => {
    const { ast, sexp, errors } = parse("FROM a\nRUN <<'E\\'\nbody\nE\\\nRUN next\n");
    expect(errors).toEqual([]);
    expect(ast.instructions[1]!.heredocs.map((h) => h.name)).toEqual(["E\\"]);
    expect(sexp).toBe('(from "a")\n(run "<<\'E\\\\\'")\n(run "next")\n');
  });

  test("the ranges after a re-lexed body are still file positions", () => {
    const { ast } = parse("FROM a\nRUN <<#EOF\nx \\\n#EOF\n\n  RUN   next \\\n   more\n");
    const next = ast.instructions[2]!;
    expect(next.range).toEqual({ start: { line: 6, column: 3 }, end: { line: 7, column: 7 } });
    expect(next.keywordRange).toEqual({ start: { line: 6, column: 3 }, end: { line: 6, column: 5 } });
  });

  test("an unterminated heredoc at the start of an indented line has an ordered range", () => {
    const { errors } = parse("FROM a\n\tRUN <<EOF cat");
    expect(errors.map((e) => [e.message, e.range])).toEqual([
      ["unterminated heredoc", { start: { line: 2, column: 2 }, end: { line: 2, column: 14 } }],
    ]);
  });

  test("a line BuildKit's shell lexer rejects has no heredocs", () => {
    // BuildKit ignores ProcessWords' error (unterminated quote) and so finds no words at all.
    const { ast, errors } = parse('FROM a\nRUN <<EOF echo "unterminated\nCMD ["x"]\n');
    expect(errors).toEqual([]);
    expect(ast.instructions[1]!.heredocs).toEqual([]);
    expect(ast.instructions.map((n) => n.keyword)).toEqual(["FROM", "RUN", "CMD"]);
    expect(parse("FROM a\nRUN <<EOF ${}\nCMD x\n").ast.instructions[1]!.heredocs).toEqual([]);
    expect(parse("FROM a\nRUN <<EOF ${X\nCMD x\n").ast.instructions[1]!.heredocs).toEqual([]);
  });
});

describe("flags", () => {
  test("the escape in flags is always the backslash, as in BuildKit's extractBuilderFlags", () => {
    const { ast, sexp } = parse("# escape=`\nFROM a\nCOPY --chown=DOMAIN\\user --from=x`y C:\\a C:\\b\n");
    expect(ast.instructions[1]!.flags.map((f) => f.text)).toEqual(["--chown=DOMAINuser", "--from=x`y"]);
    expect(sexp).toBe('(from "a")\n(copy ["--chown=DOMAINuser" "--from=x`y"] "C:\\\\a" "C:\\\\b")\n');
  });
});

describe("ranges", () => {
  test("an instruction that begins with a line holding only the escape starts on that line", () => {
    // BuildKit's Parse sets startLine before folding the continuation.
    const { ast } = parse("FROM a\n\\\nRUN x\n");
    expect(ast.instructions[1]!.range).toEqual({ start: { line: 2, column: 1 }, end: { line: 3, column: 5 } });
    expect(ast.instructions[1]!.keywordRange.start).toEqual({ line: 3, column: 1 });
  });
});

describe("directives", () => {
  test("only blanks after = still make a value: BuildKit's lazy (.+?) takes the last blank", () => {
    const { ast, errors } = parse("# escape= \nFROM a\n");
    expect(ast.directives).toEqual([{ name: "escape", value: " ", range: expect.anything() }]);
    expect(errors.map((e) => e.message)).toEqual(["invalid escape token ' ' does not match ` or \\"]);
  });

  test("the value is trimmed of blanks, not of other Unicode white space", () => {
    expect(parse("# syntax = docker/dockerfile:1 \t\nFROM a\n").ast.directives[0]!.value).toBe("docker/dockerfile:1");
    expect(parse("# syntax=x\u00a0\nFROM a\n").ast.directives[0]!.value).toBe("x\u00a0");
  });

  test("no value is no directive, and ends the block", () => {
    const { ast } = parse("# syntax=\n# escape=`\nFROM a\nRUN x `\n");
    expect(ast.directives).toEqual([]);
    expect(ast.escapeChar).toBe("\\");
  });
});

describe("Go semantics where JavaScript differs", () => {
  test("a JSON number beyond float64 makes the array not JSON (shell form), not an error", () => {
    const { ast, errors } = parse('FROM a\nCMD ["a", 1e999]\nCMD ["a", [1e999]]\n');
    expect(errors).toEqual([]);
    expect(ast.instructions.slice(1).map((n) => [n.json, n.args])).toEqual([
      [false, ['["a", 1e999]']],
      [false, ['["a", [1e999]]']],
    ]);
    expect(parse('FROM a\nCMD ["a", 1e300]\n').errors.map((e) => e.message)).toEqual([
      "when using JSON array syntax, arrays must be comprised of strings only",
    ]);
  });

  test("an unpaired surrogate escape in JSON decodes to U+FFFD, a pair to its character", () => {
    const { ast } = parse('FROM a\nCMD ["\\ud800x", "\\ud83d\\ude00", "\\udc00"]\n');
    expect(ast.instructions[1]!.args).toEqual(["\ufffdx", "😀", "\ufffd"]);
  });

  test("keywords are matched lower-cased the Go way", () => {
    // Go lower-cases the Kelvin sign to k; JavaScript's upper case of ſ (long s) is S, Go's lower case keeps ſ.
    const { ast, sexp, errors } = parse("FROM a\nWOR\u212aDIR /x\n\u017fHELL x\n");
    expect(ast.instructions[1]!.keyword).toBe("WORKDIR");
    expect(sexp.split("\n")[1]).toBe('(workdir "/x")');
    expect(errors.map((e) => e.message)).toEqual(["unknown instruction: \u017fHELL"]);
  });
});

describe("no input exhausts the stack", () => {
  test("ONBUILD nesting is parsed like BuildKit up to 64 levels, then reported", () => {
    expect(parse("FROM a\nONBUILD ONBUILD RUN x\n").sexp).toBe('(from "a")\n(onbuild (onbuild (run "x")))\n');
    const { ast, errors } = parse(`FROM a\n${"ONBUILD ".repeat(10_000)}RUN x\n`);
    expect(errors.map((e) => e.message)).toEqual(["ONBUILD nested more than 64 levels deep"]);
    expect(ast.instructions.map((n) => n.keyword)).toEqual(["FROM"]);
  });
});

describe("heredoc chomping", () => {
  test("<<- strips leading tabs after \\n only, as Go's (?m)^ does (not after a lone \\r or U+2028)", () => {
    const { ast } = parse("FROM a\nRUN <<-EOF\n\ta\r\tb\u2028\tc\n\t\td\r\n\tEOF\n");
    expect(ast.instructions[1]!.heredocs[0]!.content).toBe("a\r\tb\u2028\tc\nd\r\n");
  });
});
