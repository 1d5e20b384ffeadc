import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../../src/diagnostics/index.js";
import { dumpSexp, parseDockerfile, type DockerfileAst, type InstructionNode } from "../../../src/syntax/index.js";

// 471 real-world Dockerfiles, byte-for-byte (CRLF, no final newline, BOMs,
// backtick escapes kept); see shared/corpus/dockerfiles/README.md.
const dir = join(import.meta.dirname, "../../../../shared/corpus/dockerfiles");
const files = readdirSync(dir)
  .filter((n) => n !== "README.md" && n !== "SOURCES.tsv")
  .sort();

function parseFile(name: string): { text: string; ast: DockerfileAst; errors: string[] } {
  const text = readFileSync(join(dir, name), "utf8");
  const { ast, diagnostics } = parseDockerfile({ path: name, text });
  const errors = diagnostics.filter((d) => d.severity === "error").map((d) => formatDiagnostic(ast.source, d));
  return { text, ast, errors };
}

function keywords(ast: DockerfileAst): string[] {
  return ast.instructions.map((n) => n.keyword);
}

function lines(n: InstructionNode): [number, number] {
  return [n.range.start.line, n.range.end.line];
}

describe("real-world corpus", () => {
  test("the corpus is present", () => {
    expect(files.length).toBe(471);
  });

  test.each(files)("%s parses without errors", (name) => {
    const { ast, errors } = parseFile(name);
    expect(errors).toEqual([]);
    expect(ast.instructions.length).toBeGreaterThan(0);
    // Every corpus file was selected for containing a FROM line.
    expect(ast.instructions.some((n) => n.keyword === "FROM")).toBe(true);
    for (const n of ast.instructions) {
      expect(n.range.start.line).toBeLessThanOrEqual(n.range.end.line);
    }
  });
});

describe("what BuildKit gives on specific corpus files", () => {
  test("an empty continuation line folds the next CMD into the RUN before it (node 7.8)", () => {
    const { ast, errors } = parseFile("StefanScherer__dockerfiles-windows__node__7.8__Dockerfile");
    expect(errors).toEqual([]);
    // Second stage: FROM, SHELL, ENV, COPY, RUN — and no CMD: it became part of the RUN.
    expect(keywords(ast).slice(-5)).toEqual(["FROM", "SHELL", "ENV", "COPY", "RUN"]);
    expect(keywords(ast)).not.toContain("CMD");
    const run = ast.instructions.at(-1)!;
    expect(run.hasEmptyContinuation).toBe(true);
    expect(run.json).toBe(false);
    expect(run.args).toHaveLength(1);
    expect(run.args[0]).toMatch(/^New-Item \$\(\$env:APPDATA \+ '\\npm'\) ; {5}\$env:PATH/);
    expect(run.args[0]).toMatch(/\[EnvironmentVariableTarget\]::Machine\) ; CMD \[ "node\.exe" \]$/);
    expect(lines(run)).toEqual([46, 50]);
    expect(dumpSexp({ ...ast, instructions: [run] })).toBe(
      `(run "New-Item $($env:APPDATA + '\\\\npm') ;     $env:PATH = 'C:\\\\nodejs;{0}\\\\npm;{1}' -f $env:APPDATA, $env:PATH ;     [Environment]::SetEnvironmentVariable('PATH', $env:PATH, [EnvironmentVariableTarget]::Machine) ; CMD [ \\"node.exe\\" ]")\n`,
    );
  });

  test("the other old revisions with empty continuation lines still parse, with the flag set", () => {
    for (const name of [
      "wernight__docker-qbittorrent__Dockerfile",
      "nodejs__docker-node__6__Dockerfile",
      "jupyter__docker-stacks__datascience-notebook__Dockerfile",
    ]) {
      const { ast, errors } = parseFile(name);
      expect(errors, name).toEqual([]);
      expect(ast.instructions.some((n) => n.hasEmptyContinuation), name).toBe(true);
    }
  });

  test("a CRLF file with a backtick escape: no \\r in any argument, backslashes literal", () => {
    const { text, ast, errors } = parseFile("StefanScherer__dockerfiles-windows__longpath__Dockerfile");
    expect(text).toContain("\r\n");
    expect(errors).toEqual([]);
    expect(ast.escapeChar).toBe("`");
    expect(ast.directives).toEqual([{ name: "escape", value: "`", range: expect.anything() }]);
    expect(keywords(ast)).toEqual(["FROM", "SHELL", "COPY", "RUN", "RUN", "RUN"]);
    for (const n of ast.instructions) for (const a of n.args) expect(a).not.toContain("\r");
    expect(ast.instructions[2]!.args).toEqual([".", "."]);
    expect(ast.instructions[3]!.args).toEqual(["mkdir C:\\target"]);
    // Backtick continuations fold; the commented-out RUN below it stays a comment.
    const last = ast.instructions[5]!;
    expect(lines(last)).toEqual([14, 16]);
    expect(last.args[0]).toMatch(/^tar czf C:\\test\.tar\.gz target ; {5}\$output = \$\(tar tzvf test\.tar\.gz\) ; {5}if /);
    expect(last.range.end.column).toBe(161);
  });

  test("a file without a final newline keeps its last instruction", () => {
    const { text, ast, errors } = parseFile("GoogleContainerTools__kaniko__integration__dockerfiles__Dockerfile_test_arg_multi");
    expect(text.endsWith("\n")).toBe(false);
    expect(errors).toEqual([]);
    expect(keywords(ast)).toEqual(["ARG", "FROM", "ARG", "RUN", "FROM", "ARG", "RUN", "COPY"]);
    const copy = ast.instructions.at(-1)!;
    expect(copy.flags.map((f) => f.text)).toEqual(["--from=builder"]);
    expect(copy.args).toEqual(["/$FILE_NAME.txt", "/"]);
    expect(lines(copy)).toEqual([12, 12]);
    expect(ast.instructions[1]!.args).toEqual(["busybox:latest", "AS", "builder"]);
  });

  test("a # escape=` Windows file: backtick continuations, backslash paths untouched", () => {
    const { ast, errors } = parseFile("PowerShell__PowerShell-Docker__release__7-2__nanoserver1809__docker__Dockerfile");
    expect(errors).toEqual([]);
    expect(ast.escapeChar).toBe("`");
    // The licence comments after the directive are comments, not directives.
    expect(ast.directives.map((d) => d.name)).toEqual(["escape"]);
    const from = ast.instructions.find((n) => n.keyword === "FROM")!;
    expect(from.args).toEqual(["${InstallerRepo}:$InstallerVersion", "AS", "installer-env"]);
    const run = ast.instructions.find((n) => n.keyword === "RUN")!;
    expect(run.args).toHaveLength(1);
    // The regex's backslashes are not escapes under a backtick escape.
    expect(run.args[0]).toContain(`'^\\d+\\.\\d+\\.\\d+(-\\w+(\\.\\d+)?)?$'`);
    expect(run.args[0]).not.toContain("`");
    expect(run.range.end.line).toBeGreaterThan(run.range.start.line);
  });

  test("a line ending in an escaped escape is not a continuation (mongo nanoserver)", () => {
    // `C:\\Windows\\System32\\` ends in two backslashes: BuildKit's continuation
    // regex needs a non-escape before the last one, so the COPY ends there and
    // the ENV two lines below is an instruction of its own.
    const { ast, errors } = parseFile("docker-library__mongo__7.0__windows__nanoserver-ltsc2022__Dockerfile");
    expect(errors).toEqual([]);
    const copy = ast.instructions.find((n) => n.keyword === "COPY")!;
    expect(lines(copy)).toEqual([17, 22]);
    expect(copy.args.at(-1)).toBe("C:\\\\Windows\\\\System32\\\\");
    expect(copy.args).toHaveLength(5);
    const env = ast.instructions.find((n) => n.keyword === "ENV")!;
    expect([lines(env), env.args]).toEqual([[25, 25], ["MONGO_VERSION", "7.0.37", ""]]);
  });

  test("heredocs: bodies are attached, not parsed as instructions", () => {
    const { ast, errors } = parseFile("containers__buildah__tests__bud__heredoc__Containerfile");
    expect(errors).toEqual([]);
    const copy = ast.instructions.find((n) => n.keyword === "COPY")!;
    expect(copy.args).toEqual(["<<robots.txt", "<<humans.txt", "/test/"]);
    expect(copy.heredocs.map((h) => [h.name, h.content])).toEqual([
      ["robots.txt", "(robots content)\n"],
      ["humans.txt", "(humans content)\n"],
    ]);
    const fds = ast.instructions.find((n) => n.args[0]?.startsWith("cat /proc/self/fd/5"))!;
    expect(fds.heredocs.map((h) => [h.name, h.fd])).toEqual([
      ["FILE1", 5],
      ["FILE2", 6],
    ]);
    // No heredoc body line became an instruction.
    expect(keywords(ast).every((k) => ["FROM", "USER", "WORKDIR", "RUN", "ADD", "COPY"].includes(k))).toBe(true);
  });
});
