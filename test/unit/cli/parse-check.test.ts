import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../../helpers/cli-io.js";

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsb-cli-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("tsbuild parse", () => {
  test("prints the tree with ranges, forms and heredocs; exits 0", async () => {
    const dir = context({ Dockerfile: 'FROM busybox\nRUN <<EOF\necho hi\nEOF\nCMD ["sh"]\n' });
    const r = await runCli(["parse", "."], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.out).toBe('(from "busybox")  @1:1-1:12 shell\n(run "<<EOF")  @2:1-4:3 shell\n  <<EOF "echo hi\\n"\n(cmd "sh")  @5:1-5:10 json\n');
  });

  test("--json and --sexp", async () => {
    const dir = context({ "sub/app.Dockerfile": "FROM a\nCOPY --chown=1 x y\n" });
    const json = await runCli(["parse", "--json", "-f", "sub/app.Dockerfile"], { cwd: dir });
    expect(JSON.parse(json.out).instructions[1]).toMatchObject({ keyword: "COPY", flags: [{ name: "chown", value: "1" }], form: "shell", args: ["x", "y"] });
    const sexp = await runCli(["parse", "--sexp", "-f", "sub/app.Dockerfile"], { cwd: dir });
    expect(sexp.out).toBe('(from "a")\n(copy ["--chown=1"] "x" "y")\n');
  });

  test("reads standard input with -f -", async () => {
    const r = await runCli(["parse", "-f", "-", "--sexp"], { cwd: tmpdir(), stdin: "FROM x\n" });
    expect(r.out).toBe('(from "x")\n');
  });

  test("syntax errors: rendered with file:line:col and a code frame, exit 1", async () => {
    const dir = context({ Dockerfile: "FROM a\nRUNN x\nENV PATH\n" });
    const r = await runCli(["parse", "."], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)");
    expect(r.err).toContain("2 | >>> RUNN x");
    expect(r.err).toContain("Dockerfile:3:5: ENV must have two arguments");
    expect(r.err).toContain("Dockerfile: 2 errors, 0 warnings");
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });

  test("parse does not judge semantics (unknown flags are for check)", async () => {
    const dir = context({ Dockerfile: "FROM a\nCOPY --form=x a b\n" });
    expect((await runCli(["parse", "."], { cwd: dir })).code).toBe(0);
  });

  test("a missing Dockerfile is a clear error, not a stack trace", async () => {
    const dir = context({});
    const r = await runCli(["parse", "."], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot read Dockerfile .*Dockerfile: no such file\n/);
  });

  test("unknown options name the option", async () => {
    const r = await runCli(["parse", "--bogus"], { cwd: tmpdir() });
    expect(r.code).toBe(2);
    expect(r.err).toContain("--bogus");
  });
});

describe("tsbuild check", () => {
  test("exit 0 with warnings only, 1 with an error", async () => {
    const warn = context({ Dockerfile: "FROM scratch\nCMD run\n" });
    const w = await runCli(["check", "."], { cwd: warn });
    expect(w.code).toBe(0);
    expect(w.err).toContain("warning: JSONArgsRecommended");
    const bad = context({ Dockerfile: "FROM scratch\nCOPY --chmod=9 a b\n" });
    expect((await runCli(["check", "."], { cwd: bad })).code).toBe(1);
  });

  test("--build-arg K=V and bare K from the environment; --target", async () => {
    const dir = context({ Dockerfile: "FROM scratch AS one\nARG A\nARG B\nWORKDIR /${A:?}/${B:?}\nFROM scratch AS two\nWORKDIR ${C:?}\n" });
    const r = await runCli(["check", "--build-arg", "A=1", "--build-arg", "B", "--target", "one", "."], { cwd: dir, env: { B: "2" } });
    // Stage two still fails: check reports every stage, not only the target's.
    expect(r.err).toContain("C: is not allowed to be unset");
    expect(r.err).not.toContain("A: is not allowed");
    expect(r.err).not.toContain("B: is not allowed");
    const t = await runCli(["check", "--target", "tow", "."], { cwd: dir });
    expect(t.err).toContain('target stage "tow" could not be found');
    expect(t.err).toContain('hint: did you mean "two"?');
  });

  test("CopyIgnoredFile reads the context's .dockerignore", async () => {
    const dir = context({ Dockerfile: "FROM scratch\nCOPY secret.env /\n", ".dockerignore": "*.env\n" });
    const r = await runCli(["check", "."], { cwd: dir });
    expect(r.err).toContain('CopyIgnoredFile: Attempting to Copy file "secret.env" that is excluded by .dockerignore');
  });

  test("a clean file says so", async () => {
    const dir = context({ Dockerfile: 'FROM scratch\nCMD ["x"]\n' });
    const r = await runCli(["check", "."], { cwd: dir });
    expect(r).toEqual({ code: 0, out: "Dockerfile: no problems found\n", err: "" });
  });
});

// Golden corpus: fixtures/check/<case>/Dockerfile, optional `args` (one CLI
// argument per line), and `output.txt` (stderr + exit code). Adding a case
// needs no code; `npx vitest run -u` writes a new case's output.
const casesDir = join(import.meta.dirname, "../../../fixtures/check");
const cases = existsSync(casesDir) ? readdirSync(casesDir).sort() : [];
describe("check goldens", () => {
  test("the corpus is not empty", () => expect(cases.length).toBeGreaterThan(3));
  test.each(cases)("%s", async (name) => {
    const dir = join(casesDir, name);
    const argsFile = join(dir, "args");
    const extra = existsSync(argsFile) ? readFileSync(argsFile, "utf8").split("\n").filter(Boolean) : [];
    const r = await runCli(["check", ...extra, "."], { cwd: dir });
    await expect(`exit ${r.code}\n${r.out}${r.err}`).toMatchFileSnapshot(join(dir, "output.txt"));
  });
});
