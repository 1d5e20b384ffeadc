import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { formatDiagnostic, type SourcePosition, type SourceRange } from "../../../src/diagnostics/index.js";
import { dumpJson, dumpSexp, dumpText, parseDockerfile } from "../../../src/syntax/index.js";

// Robustness of the parser on inputs nobody would write: mutated real-world
// Dockerfiles and random text. Whatever the input, parseDockerfile must
// return (never throw), quickly, with diagnostics whose ranges point inside
// the file, and every diagnostic must render.

const dir = join(import.meta.dirname, "../../../../shared/corpus/dockerfiles");
const corpus = readdirSync(dir)
  .filter((n) => n !== "README.md" && n !== "SOURCES.tsv")
  .sort()
  .map((n) => readFileSync(join(dir, n), "utf8"));

/**
 * Per input. A typical parse takes well under a millisecond; this bound is
 * generous enough never to flake on a loaded machine and low enough to catch
 * catastrophic backtracking or a quadratic loop on a few KB of input.
 */
const MAX_MS = 200;

/** `FUZZ_SCALE=20 npx vitest run test/unit/syntax/fuzz.test.ts` fuzzes 20 times longer. */
const SCALE = Math.max(1, Number(process.env["FUZZ_SCALE"] ?? 1) || 1);
const runs = (n: number): number => Math.round(n * SCALE);
/** Per-test timeout, scaled with the runs. */
const TIMEOUT = 30_000 * SCALE;

// The first parses build the grammars (one per escape character) and warm
// up the JIT; time bounds apply to warm parses only.
beforeAll(() => {
  for (const text of corpus.slice(0, 50)) {
    parseDockerfile(text);
    parseDockerfile(`# escape=\`\n${text}`);
  }
});

/** Physical lines as the parser counts them (split on `\n`; BOM-only or empty text has none). */
function physicalLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body === "") return [];
  const lines = body.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * A plain assertion: `expect` costs microseconds per call, and the fuzzers
 * make millions of checks, so the hot path throws only on failure.
 */
function ensure(ok: boolean, message: () => string): void {
  if (!ok) throw new Error(message());
}

function checkPosition(p: SourcePosition, lines: readonly string[], what: () => string): void {
  const line = lines[p.line - 1] ?? "";
  ensure(
    Number.isInteger(p.line) &&
      Number.isInteger(p.column) &&
      p.line >= 1 &&
      p.line <= Math.max(1, lines.length) &&
      p.column >= 1 &&
      // A column may point just past the last character (an empty range at the line end).
      p.column <= line.length + 1,
    () => `${what()}: position ${JSON.stringify(p)} outside the file (${lines.length} lines, line ${p.line} has ${line.length} characters)`,
  );
}

function checkRange(r: SourceRange, lines: readonly string[], what: () => string): void {
  checkPosition(r.start, lines, () => `${what()} start`);
  checkPosition(r.end, lines, () => `${what()} end`);
  const ordered = r.start.line < r.end.line || (r.start.line === r.end.line && r.start.column <= r.end.column);
  ensure(ordered, () => `${what()}: range ends before it starts: ${JSON.stringify(r)}`);
}

/** Parses `text` and checks every invariant; returns the parse time in ms. */
function checkInput(text: string): number {
  const source = { path: "Dockerfile", text };
  let t0 = performance.now();
  const { ast, diagnostics } = parseDockerfile(source);
  let elapsed = performance.now() - t0;
  // A garbage collection or a busy machine can stall one parse; a slow
  // algorithm is slow every time. Only the best of three counts.
  for (let retry = 0; retry < 2 && elapsed >= MAX_MS; retry++) {
    t0 = performance.now();
    parseDockerfile(source);
    elapsed = Math.min(elapsed, performance.now() - t0);
  }
  ensure(elapsed < MAX_MS, () => `parse took ${elapsed.toFixed(1)} ms, best of 3 (limit ${MAX_MS} ms)`);

  const lines = physicalLines(text);
  for (const d of diagnostics) {
    ensure(d.severity === "error" || d.severity === "warning", () => `bad severity ${d.severity}`);
    ensure(d.message.length > 0, () => "empty diagnostic message");
    if (d.range) checkRange(d.range, lines, () => `diagnostic "${d.message}"`);
    const rendered = formatDiagnostic(source, d);
    const head = d.range ? `Dockerfile:${d.range.start.line}:${d.range.start.column}: ` : "Dockerfile: ";
    ensure(rendered.startsWith(head), () => `rendered diagnostic does not start with ${head}: ${rendered}`);
  }
  for (const n of ast.instructions) {
    checkRange(n.range, lines, () => `${n.keyword} range`);
    checkRange(n.keywordRange, lines, () => `${n.keyword} keyword`);
    for (const f of n.flags) checkRange(f.range, lines, () => `${n.keyword} flag ${f.text}`);
    for (const h of n.heredocs) {
      ensure(
        h.range.start.line > n.range.start.line && h.range.end.line <= Math.max(1, lines.length),
        () => `heredoc ${h.name} range ${JSON.stringify(h.range)} outside its instruction or the file`,
      );
    }
  }
  // Every output format must render whatever was parsed.
  dumpSexp(ast);
  dumpText(ast);
  JSON.stringify(dumpJson(ast));
  return elapsed;
}

// ---------------------------------------------------------------------------
// Mutations of real Dockerfiles.

/** Snippets that stress the parser's corners when dropped anywhere. */
const SNIPPETS = [
  "\\",
  "`",
  "\\\n",
  "`\n",
  "\\ \t\n",
  "<<EOF",
  "<<-EOF",
  "<<'EOF'",
  '<<"EOF"',
  "3<<EOF",
  "\nEOF\n",
  "\n\tEOF\n",
  "[",
  "]",
  '["a", ["b"]]',
  '"',
  "'",
  "\r",
  "\r\n",
  "\0",
  "\uFEFF",
  "\n",
  "\n\n",
  "#",
  "# escape=`\n",
  "# escape=\\\n",
  "# syntax=docker/dockerfile:1\n",
  "--",
  "--mount=type=cache,target=/x ",
  "=",
  "${",
  "$",
  "ONBUILD ",
  "HEALTHCHECK ",
  "RUN ",
  "ENV ",
  "\u00a0",
  "\u2028",
  "é",
  "😀",
  "\ud800",
];

type Mutation =
  | { kind: "deleteLine"; at: number }
  | { kind: "duplicateLine"; at: number }
  | { kind: "swapLines"; at: number; with: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "insertLine"; at: number; text: string }
  | { kind: "deleteChars"; at: number; count: number }
  | { kind: "truncate"; at: number };

// Positions are fractions of the current length, so they fit any file.
const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const unicodeText = fc.string({ unit: "binary", minLength: 1, maxLength: 8 });
const insertText = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SNIPPETS) }, { weight: 1, arbitrary: unicodeText });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("deleteLine" as const), at: fraction }),
  fc.record({ kind: fc.constant("duplicateLine" as const), at: fraction }),
  fc.record({ kind: fc.constant("swapLines" as const), at: fraction, with: fraction }),
  fc.record({ kind: fc.constant("insert" as const), at: fraction, text: insertText }),
  fc.record({ kind: fc.constant("insert" as const), at: fraction, text: insertText }),
  fc.record({ kind: fc.constant("insertLine" as const), at: fraction, text: insertText }),
  fc.record({ kind: fc.constant("deleteChars" as const), at: fraction, count: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fraction }),
);

function applyMutation(text: string, m: Mutation): string {
  const lines = text.split("\n");
  const line = (f: number): number => Math.floor(f * lines.length);
  const char = (f: number): number => Math.floor(f * (text.length + 1));
  switch (m.kind) {
    case "deleteLine":
      lines.splice(line(m.at), 1);
      return lines.join("\n");
    case "duplicateLine": {
      const i = line(m.at);
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    }
    case "swapLines": {
      const i = line(m.at);
      const j = line(m.with);
      [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
      return lines.join("\n");
    }
    case "insert": {
      const i = char(m.at);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    case "insertLine":
      lines.splice(line(m.at), 0, m.text);
      return lines.join("\n");
    case "deleteChars": {
      const i = char(m.at);
      return text.slice(0, i) + text.slice(i + m.count);
    }
    case "truncate":
      return text.slice(0, char(m.at));
  }
}

describe("fuzz: mutated corpus files", () => {
  test("the corpus is present", () => {
    expect(corpus.length).toBeGreaterThan(400);
  });

  test("3000 mutated Dockerfiles parse without throwing, quickly, with valid ranges", () => {
    fc.assert(
      fc.property(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 8 }), (index, mutations) => {
        let text = corpus[index]!;
        for (const m of mutations) text = applyMutation(text, m);
        checkInput(text);
      }),
      { numRuns: runs(3000) },
    );
  }, TIMEOUT);

  test("corpus files with CRLF endings, a BOM, a backtick escape directive, or cut at a random point", () => {
    fc.assert(
      fc.property(fc.nat({ max: corpus.length - 1 }), fraction, (index, cut) => {
        const text = corpus[index]!;
        checkInput(text.replace(/\r?\n/g, "\r\n"));
        checkInput(`\uFEFF${text}`);
        checkInput(`# escape=\`\n${text}`);
        checkInput(text.slice(0, Math.floor(cut * text.length)));
      }),
      { numRuns: runs(500) },
    );
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
// Random text.

/** Pieces of Dockerfile syntax, so random strings reach deep into the parser. */
const PIECES = [
  ...SNIPPETS,
  "FROM alpine",
  "FROM --platform=$BUILDPLATFORM golang AS build",
  "RUN echo hi",
  'CMD ["a", "b"]',
  "COPY --from=build --chmod=755 a b",
  "ENV A=1 B='2 3'",
  "ENV A 1",
  "LABEL a=b",
  "ARG X=1",
  "EXPOSE 80",
  "HEALTHCHECK --interval=5s CMD true",
  "HEALTHCHECK NONE",
  "ONBUILD RUN x",
  "RUN <<EOF cat",
  "EOF",
  " ",
  "\t",
  "a",
];

describe("fuzz: random text", () => {
  test("random Unicode strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        checkInput(text);
      }),
      { numRuns: runs(2000) },
    );
  }, TIMEOUT);

  test("random bytes decoded as UTF-8", () => {
    const decoder = new TextDecoder("utf-8");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        checkInput(decoder.decode(bytes));
      }),
      { numRuns: runs(2000) },
    );
  }, TIMEOUT);

  test("random sequences of Dockerfile pieces", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), (pieces) => {
        checkInput(pieces.join(""));
      }),
      { numRuns: runs(4000) },
    );
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------
// Inputs that once made the parser slow: each must stay linear.

describe("no catastrophic backtracking", () => {
  const big = 50_000;
  const cases: [string, string][] = [
    // The lexer's regexes backtracked quadratically on a run of \r before a
    // line end (3.4 s for a 50k-\r comment line).
    ["a \\r run before a newline", `FROM a\nRUN x${"\r".repeat(big)}\n`],
    ["a \\r run inside a comment line", `# c${"\r".repeat(big)}x\nFROM a\n`],
    ["a \\r run at the end of the file", `FROM a\nRUN x${"\r".repeat(big)}`],
    // BuildKit's directive regex (.+?)\s*$ backtracked on a value followed by blanks.
    ["a directive value followed by many blanks", `# syntax=x${" ".repeat(big)}y\nFROM a\n`],
    ["many escapes", `FROM a\nRUN ${"\\".repeat(big)}\n`],
    ["escapes and blanks", `FROM a\nRUN ${"\\ ".repeat(big)}x\n`],
    ["an escape then many tabs", `FROM a\nRUN \\${"\t".repeat(big)}x\n`],
    ["many heredoc markers", `FROM a\nRUN ${"<<E ".repeat(big / 4)}\n`],
    ["an unterminated ${ in a heredoc line", `FROM a\nRUN <<EOF ${"${".repeat(big)}\n`],
    ["many quotes", `FROM a\nENV a=${'"'.repeat(big)}\n`],
    // The nested-array check recursed: 10k levels overflowed the stack and parseDockerfile threw.
    ["deeply nested JSON", `FROM a\nCMD ${"[".repeat(big / 5)}${"]".repeat(big / 5)}\n`],
    ["deeply nested JSON with a huge number", `FROM a\nCMD ["a", ${"[".repeat(big / 5)}1e999${"]".repeat(big / 5)}]\n`],
    // ONBUILD recursed once per level: 5000 levels overflowed the stack.
    ["deeply nested ONBUILD", `FROM a\n${"ONBUILD ".repeat(big / 2)}RUN x\n`],
    ["many flags", `FROM a\nCOPY ${"--a ".repeat(big / 4)}x y\n`],
    ["a very long unknown keyword", "\0".repeat(big)],
    ["one long line", `FROM a\nRUN ${"a".repeat(big * 4)}\n`],
  ];
  test.each(cases)("%s", (_name, text) => {
    const once = (): number => {
      const t0 = performance.now();
      const { ast, diagnostics } = parseDockerfile(text);
      for (const d of diagnostics) formatDiagnostic(ast.source, d);
      dumpSexp(ast);
      JSON.stringify(dumpJson(ast));
      return performance.now() - t0;
    };
    // Bigger inputs than the fuzzers make, so allow a little more than MAX_MS; best of three, as above.
    let elapsed = once();
    for (let retry = 0; retry < 2 && elapsed >= MAX_MS * 2; retry++) elapsed = Math.min(elapsed, once());
    expect(elapsed).toBeLessThan(MAX_MS * 2);
  });

  test("rendering every error of a big bad file is linear, not quadratic", () => {
    // Every code frame used to split the whole file again. Compare sizes
    // rather than clocks: from 1000 to 8000 errors linear work grows 8x,
    // quadratic 64x (allow up to 24x for garbage collection and a busy
    // machine); best of three of each, rendering only.
    const renderAll = (lines: number): number => {
      const { ast, diagnostics } = parseDockerfile("RUNN x\n".repeat(lines));
      expect(diagnostics).toHaveLength(lines);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        for (const d of diagnostics) formatDiagnostic(ast.source, d);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    renderAll(500); // warm up
    const small = renderAll(1000);
    const large = renderAll(8000);
    expect(large / small).toBeLessThan(24);
  });
});
