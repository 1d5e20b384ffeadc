import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { runTsbuild } from "../../helpers/tsbuild-process.js";

// bin/tsbuild runs the CLI bundle through src/cli/launcher.cts, which keeps
// V8's code cache per bundle id, Node version, architecture and command.
const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "../../../dist/bundle/manifest.json"), "utf8")) as { id: string };

describe("launcher code cache", () => {
  let cacheHome: string;
  let cwd: string;
  const codeDir = (): string => join(cacheHome, "tsbuild", "code");
  const env = (): NodeJS.ProcessEnv => ({ XDG_CACHE_HOME: cacheHome });

  beforeEach(() => {
    cacheHome = mkdtempSync(join(tmpdir(), "tsbuild-cache-"));
    cwd = mkdtempSync(join(tmpdir(), "tsbuild-cwd-"));
    writeFileSync(join(cwd, "Dockerfile"), "FROM scratch\nCOPY a /a\n");
  });
  afterEach(() => {
    rmSync(cacheHome, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });

  test("a successful run writes a cache for its command; the next run accepts it", async () => {
    const first = await runTsbuild(["parse", "."], { cwd, env: env() });
    expect(first.code).toBe(0);
    const name = `${manifest.id}-${process.version}-${process.arch}-parse.bin`;
    expect(readdirSync(codeDir())).toEqual([name]);
    const before = statSync(join(codeDir(), name));
    const second = await runTsbuild(["parse", "."], { cwd, env: env() });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Accepted, so not rewritten (a rewrite renames a new file into place).
    expect(statSync(join(codeDir(), name)).ino).toBe(before.ino);
  });

  test("a corrupt cache is rejected, the command still works, and the cache is rewritten", async () => {
    const clean = await runTsbuild(["parse", "."], { cwd, env: env() });
    expect(clean.code).toBe(0);
    const file = join(codeDir(), `${manifest.id}-${process.version}-${process.arch}-parse.bin`);
    const good = readFileSync(file);
    writeFileSync(file, Buffer.alloc(good.length, 7));
    const run = await runTsbuild(["parse", "."], { cwd, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(clean.stdout);
    expect(run.stdout).toContain("(copy");
    expect(readFileSync(file).equals(Buffer.alloc(good.length, 7))).toBe(false);
  });

  test("a failed run writes no cache; other commands get their own file", async () => {
    const failed = await runTsbuild(["parse", "missing"], { cwd, env: env() });
    expect(failed.code).not.toBe(0);
    expect(() => readdirSync(codeDir())).toThrow();
    expect((await runTsbuild(["--version"], { cwd, env: env() })).code).toBe(0);
    expect((await runTsbuild(["check", "."], { cwd, env: env() })).code).toBe(0);
    expect(readdirSync(codeDir()).sort()).toEqual([
      `${manifest.id}-${process.version}-${process.arch}-check.bin`,
      `${manifest.id}-${process.version}-${process.arch}-help.bin`,
    ]);
  });

  test("a longer run that compiled much more replaces an accepted cache", async () => {
    const name = join(codeDir(), `${manifest.id}-${process.version}-${process.arch}-build.bin`);
    // `build --help` takes the short path: a small cache for the word "build".
    expect((await runTsbuild(["build", "--help"], { cwd, env: env() })).code).toBe(0);
    const small = statSync(name).size;
    writeFileSync(join(cwd, "a"), "x\n");
    // A real build compiles far more; with the threshold at 0 ms it counts as long.
    const built = await runTsbuild(["build", "--root", join(cwd, "root"), "--progress=quiet", "."], { cwd, env: { ...env(), TSBUILD_CODE_CACHE_REFRESH_MS: "0" } });
    expect(built.code, built.stderr).toBe(0);
    expect(statSync(name).size).toBeGreaterThan(small * 1.1);
    // Checked by a long run: later long runs do not serialise the cache again.
    expect(existsSync(`${name}.full`)).toBe(true);
    // Without the lowered threshold a short run leaves it alone.
    const bigger = statSync(name);
    expect((await runTsbuild(["build", "--help"], { cwd, env: env() })).code).toBe(0);
    expect(statSync(name).ino).toBe(bigger.ino);
    // A cache rewritten by a short run (here: rejected) loses the mark, so the next long run checks it again.
    writeFileSync(name, Buffer.alloc(bigger.size, 7));
    expect((await runTsbuild(["build", "--help"], { cwd, env: env() })).code).toBe(0);
    expect(existsSync(`${name}.full`)).toBe(false);
  });

  test("TSBUILD_CODE_CACHE=0 writes nothing", async () => {
    expect((await runTsbuild(["parse", "."], { cwd, env: { ...env(), TSBUILD_CODE_CACHE: "0" } })).code).toBe(0);
    expect(() => readdirSync(codeDir())).toThrow();
  });
});

describe("bin/tsbuild start-up", () => {
  test("NODE_EXTRA_CA_CERTS is not loaded by Node at start-up (tsbuild loads it on its first TLS connection)", async () => {
    // Node warns on stderr when it loads an unreadable NODE_EXTRA_CA_CERTS at
    // start-up; plain node shows the warning, tsbuild must not.
    const env = { NODE_EXTRA_CA_CERTS: "/nonexistent/tsbuild-ca.pem" };
    const nodeStderr = execFileSync("sh", ["-c", "node -e 0 2>&1"], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(nodeStderr).toContain("extra certs");
    const run = await runTsbuild(["--version"], { cwd: tmpdir(), env });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("extra certs");
  });

  test("a COPY build loads no TLS; its no-op rebuild loads no public built-in after the launcher sets V8 flags (their embedded code cache stays valid)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbuild-preload-"));
    try {
      // Preloaded through NODE_OPTIONS: records where in Node's module load
      // list the first v8.setFlagsFromString call falls, and at exit writes
      // the public built-ins loaded after it.
      writeFileSync(
        join(dir, "hook.cjs"),
        [
          'const v8 = require("node:v8");',
          "const set = v8.setFlagsFromString;",
          "let at;",
          "v8.setFlagsFromString = function (f) { if (at === undefined) at = process.moduleLoadList.length; return set.call(this, f); };",
          'process.on("exit", () => {',
          '  const after = at === undefined ? [] : process.moduleLoadList.slice(at).filter((s) => s.startsWith("NativeModule ") && !s.startsWith("NativeModule internal/")).map((s) => s.slice(13));',
          '  const all = process.moduleLoadList.filter((s) => s.startsWith("NativeModule ")).map((s) => s.slice(13));',
          '  require("node:fs").writeFileSync(process.env.HOOK_OUT, JSON.stringify({ flagsSet: at !== undefined, after, all }));',
          "});",
        ].join("\n"),
      );
      mkdirSync(join(dir, "ctx"));
      writeFileSync(join(dir, "ctx", "Dockerfile"), "FROM scratch\nCOPY a /a\n");
      writeFileSync(join(dir, "ctx", "a"), "a\n");
      const out = join(dir, "modules.json");
      const env = { NODE_OPTIONS: `-r ${join(dir, "hook.cjs")}`, HOOK_OUT: out };
      const args = ["build", "--root", join(dir, "root"), "--progress=plain", "-t", "preload", "ctx"];
      const cold = await runTsbuild(args, { cwd: dir, env });
      expect(cold.code, cold.stderr).toBe(0);
      // A COPY from the context needs no HTTP client: undici and the TLS
      // set-up (~15 ms) load only for ADD of a URL or a registry.
      expect((JSON.parse(readFileSync(out, "utf8")) as { all: string[] }).all).not.toContain("tls");
      const noop = await runTsbuild(args, { cwd: dir, env });
      expect(noop.code, noop.stderr).toBe(0);
      expect(noop.stderr).toContain("CACHED");
      const seen = JSON.parse(readFileSync(out, "utf8")) as { flagsSet: boolean; after: string[] };
      expect(seen.flagsSet).toBe(true);
      // A module listed here was compiled from source: add it to COMMON_BUILTINS in src/cli/launcher.cts.
      expect(seen.after).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the bundle is pure ASCII, as its manifest tells the launcher (which then reads it as latin1)", () => {
    const m = JSON.parse(readFileSync(join(import.meta.dirname, "../../../dist/bundle/manifest.json"), "utf8")) as { bundle: string; ascii?: boolean };
    expect(m.ascii).toBe(true);
    const bytes = readFileSync(join(import.meta.dirname, "../../../dist/bundle", m.bundle));
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
  });

  test("nothing in the bundle calls localeCompare (its first call loads ICU's collator: ~10 ms of a build)", () => {
    const m = JSON.parse(readFileSync(join(import.meta.dirname, "../../../dist/bundle/manifest.json"), "utf8")) as { bundle: string };
    const text = readFileSync(join(import.meta.dirname, "../../../dist/bundle", m.bundle), "latin1");
    expect(text.includes("localeCompare")).toBe(false);
  });

  test("escaped characters keep their meaning: a duration in µs parses through the bundle", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "tsbuild-cwd-"));
    try {
      writeFileSync(join(cwd, "Dockerfile"), 'FROM scratch\nHEALTHCHECK --interval=1500000\u00b5s --timeout=2000000\u03bcs CMD ["true"]\n');
      const ok = await runTsbuild(["check", "."], { cwd });
      expect(ok.stdout + ok.stderr).toContain("no problems found");
      expect(ok.code).toBe(0);
      writeFileSync(join(cwd, "Dockerfile"), 'FROM scratch\nHEALTHCHECK --interval=15xs CMD ["true"]\n');
      const bad = await runTsbuild(["check", "."], { cwd });
      expect(bad.stderr).toContain('invalid duration "15xs"');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
