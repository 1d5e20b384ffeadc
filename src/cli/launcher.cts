/**
 * The process entry `bin/tsbuild` starts: runs the CLI bundle
 * (`dist/bundle/`, made by `scripts/bundle.ts`) through `vm.Script` with V8's
 * code cache, so a run skips compiling the code the previous run of the
 * same command already compiled.
 *
 * Why: start-up is most of a no-op build. Measured on the 2-core machine the
 * project targets, a no-op rebuild took ~330 ms from the unbundled ES
 * modules, ~250 ms from the bundle, ~170 ms from the bundle with this cache.
 *
 * The cache is an optimisation only, and every doubt falls back to
 * compiling afresh:
 * - Cache files live in `$XDG_CACHE_HOME/tsbuild/code` (else
 *   `~/.cache/tsbuild/code`), one per bundle id, Node version, architecture
 *   and command word, so a `push` does not reuse a cache a `build` made
 *   (each holds the functions its own command ran). `TSBUILD_CODE_CACHE=0`
 *   turns it off.
 * - The bundle id is its content hash: V8 checks a cache only against the
 *   source's length, so the id is what keeps a stale cache from being
 *   applied to different code. V8 still rejects caches from another V8
 *   version or flags; a rejected cache is rewritten.
 * - Written at the exit of a successful run, to a temporary file renamed
 *   into place: concurrent tsbuild processes never read half a cache.
 *   Write failures (read-only home) are ignored. The first run longer than
 *   a second replaces an accepted cache that knows much less than it does;
 *   a `.full` marker next to the cache then spares later long runs the
 *   check.
 * - Without a bundle (a checkout where only `tsc` ran), it imports the
 *   compiled `run.js` instead.
 *
 * CommonJS because `vm.Script` runs scripts, not modules.
 */
import fs = require("node:fs");
import path = require("node:path");
import vm = require("node:vm");
import v8 = require("node:v8");
import Module = require("node:module");

/**
 * Runs longer than this (ms) may refresh an accepted code cache (see
 * runBundle): 1000, or `TSBUILD_CODE_CACHE_REFRESH_MS` (the tests lower it).
 */
function refreshAfterMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.TSBUILD_CODE_CACHE_REFRESH_MS);
  return Number.isFinite(v) && v >= 0 && env.TSBUILD_CODE_CACHE_REFRESH_MS !== "" ? v : 1000;
}

interface BundleManifest {
  readonly bundle: string;
  readonly id: string;
  /** The bundle is pure ASCII (scripts/bundle.ts escapes the rest), so latin1 decoding gives the same string, ~6x faster than UTF-8. */
  readonly ascii: boolean;
}

function readManifest(dir: string): BundleManifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Partial<BundleManifest>;
    return typeof m.bundle === "string" && typeof m.id === "string" && /^[0-9a-f]+$/.test(m.id) ? { bundle: m.bundle, id: m.id, ascii: m.ascii === true } : undefined;
  } catch {
    return undefined;
  }
}

function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TSBUILD_CODE_CACHE === "0") return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, ".cache") : undefined);
  return base ? path.join(base, "tsbuild", "code") : undefined;
}

/**
 * The command word a cache is kept per: the first argument when it looks
 * like one, `help` for the help and version flags, else `build` (the
 * `tsbuild -t name .` shorthand).
 */
function commandWord(argv: readonly string[]): string {
  const first = argv[0] ?? "";
  if (/^[a-z]{2,12}$/.test(first)) return first;
  return first === "" || first === "-h" || first === "--help" || first === "-v" || first === "--version" ? "help" : "build";
}

function readOptional(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes `data` to `file` atomically; removes caches of other bundles in the same directory. */
function writeCache(dir: string, file: string, data: Buffer, id: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    // Caches of older bundles are dead weight once a new bundle runs. Only
    // those a day old go, so two installs sharing a home do not thrash.
    const dayAgo = Date.now() - 86_400_000;
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(`${id}-`)) continue;
      const other = path.join(dir, name);
      if (fs.statSync(other).mtimeMs < dayAgo) fs.rmSync(other, { force: true });
    }
  } catch {
    // A cache that cannot be written only costs the next run its speed.
  }
}

/** Creates (`on`) or removes the empty marker file `file`; failures only cost speed. */
function setMark(file: string, on: boolean): void {
  try {
    if (on) fs.writeFileSync(file, "");
    else fs.rmSync(file, { force: true });
  } catch {
    // A read-only cache directory: the next long run checks again.
  }
}

function runBundle(bundleDir: string, manifest: BundleManifest, word: string): void {
  const file = path.join(bundleDir, manifest.bundle);
  const source = fs.readFileSync(file, manifest.ascii ? "latin1" : "utf8");
  const dir = cacheDir(process.env);
  const cacheFile = dir
    ? path.join(dir, `${manifest.id}-${process.version}-${process.arch}-${word}.bin`)
    : undefined;
  const cached = cacheFile ? readOptional(cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cached ? { cachedData: cached } : {}),
    // The bundle keeps `import("undici")` for ADD URLs: let it use Node's loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (dir && cacheFile) {
    const started = performance.now();
    // Marks a cache that a long run wrote or already checked (see below).
    const fullMark = `${cacheFile}.full`;
    // At exit, after the command ran: the cache then holds every function
    // this run compiled, not only the top level. Only a successful run
    // writes one: a run that failed early compiled little.
    process.once("exit", (code) => {
      if (code !== 0) return;
      const long = performance.now() - started > refreshAfterMs(process.env);
      if (!cached || script.cachedDataRejected) {
        writeCache(dir, cacheFile, script.createCachedData(), manifest.id);
        setMark(fullMark, long);
        return;
      }
      // An accepted cache may come from a run that took a short path (a
      // no-op build) and lack what a longer one compiles (pulls, RUN
      // steps). The first run over a second after it was written can afford
      // serialising (10-30 ms) to see whether it knows much more, and then
      // replaces it; later long runs skip that (the mark), so a build that
      // keeps taking the long path does not pay it every time.
      if (long && !fs.existsSync(fullMark)) {
        const data = script.createCachedData();
        if (data.length > cached.length * 1.1) writeCache(dir, cacheFile, data, manifest.id);
        setMark(fullMark, true);
      }
    });
  }
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  const bundleModule = { exports: {}, filename: file, id: file, loaded: false };
  wrapper.call(bundleModule.exports, bundleModule.exports, Module.createRequire(file), bundleModule, file, bundleDir);
}

/**
 * The public built-in modules every command but `help` loads on its way to
 * its work (a no-op build, `images`, `plan`, `inspect` measured), and
 * `util.parseArgs` and the standard streams, which Node loads on first use.
 */
const COMMON_BUILTINS = [
  "node:perf_hooks",
  "node:fs/promises",
  "node:os",
  "node:crypto",
  "node:timers/promises",
  "node:diagnostics_channel",
  "node:net",
  "node:child_process",
  "node:stream/promises",
];

/**
 * Loads {@link COMMON_BUILTINS} before the V8 flags below are set.
 *
 * Why: Node compiles its built-in modules from a code cache embedded in its
 * binary, and V8 accepts that cache only while its flags hash to what they
 * were when Node was built. Any flag set at run time changes the hash, so
 * every built-in loaded afterwards is compiled from source: measured, the
 * modules above took ~20 ms of a ~105 ms no-op build that way; loaded first,
 * the same build took ~85 ms (15 interleaved runs each). Modules only some
 * runs need (zlib, worker_threads, undici's http and tls) stay lazy: such
 * runs are long, and loading them for every no-op would cost more.
 */
function preloadBuiltins(word: string): void {
  if (word === "help") return;
  for (const name of COMMON_BUILTINS) require(name);
  void (require("node:util") as typeof import("node:util")).parseArgs;
  // The standard streams are made on first use too, from built-ins of their own.
  void process.stdout;
  void process.stderr;
}

const word = commandWord(process.argv.slice(2));
preloadBuiltins(word);

// WebAssembly stays on V8's baseline compiler. undici parses HTTP with
// llhttp compiled to wasm, and V8 then re-compiles it with its optimising
// compiler on a background thread, which Node waits for before the process
// may exit: 100-230 ms added to every registry command on two cores (a
// re-push of an unchanged image took ~330 ms, ~200 ms without it). The
// baseline code is fast enough for HTTP headers; bodies pass through it in
// large chunks. Set before any code (and before the code cache is checked,
// whose flag hash includes it).
v8.setFlagsFromString("--liftoff-only");
// Compiled code stays compiled. V8 drops the bytecode of functions that
// have not run for a while, and in a run of more than a second (a cold
// build) that includes the bundle's outer function, which runs once at
// start-up; the code cache written at the end of such a run then lacks it,
// and every later run re-parsed the whole bundle (then 1.7 MB) to compile it
// again: ~20 ms of a ~100 ms no-op build. With flushing off, a cache from a
// long run holds everything that run compiled (1.3 MB against 0.6 MB), and
// a no-op build took ~75-90 ms. The bytecode kept is a few MB at most.
v8.setFlagsFromString("--no-flush-bytecode");

const distDir = path.join(__dirname, "..", "..");
const bundleDir = path.join(distDir, "bundle");
const manifest = readManifest(bundleDir);
if (manifest && fs.existsSync(path.join(bundleDir, manifest.bundle))) {
  runBundle(bundleDir, manifest, word);
} else {
  void import(path.join(distDir, "src", "cli", "run.js"));
}
