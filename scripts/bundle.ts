/**
 * Bundles the CLI into one CommonJS file, `dist/bundle/tsbuild-<id>.cjs`, which
 * `bin/tsbuild` runs through `src/cli/launcher.cts`.
 *
 * Why a bundle: resolving and loading ~150 ES modules one by one cost about
 * 100 ms of every invocation, more than a no-op build's own work. Why
 * CommonJS: the launcher compiles it with `vm.Script`, which can reuse V8's
 * code cache between runs (Node 20 has no compile cache for ES modules).
 *
 * What differs from `dist/src/` (the library and the tests use that one):
 * - `grammar/chevrotain.ts` picks chevrotain's one-file build at run time
 *   with a top-level await; the bundle imports chevrotain statically instead
 *   (esbuild inlines and tree-shakes it), so the code is the same library.
 * - `import.meta.url` becomes the bundle's own file URL, so `createRequire`
 *   resolves packages from the install directory as before.
 * - undici and @napi-rs/xattr stay outside: undici loads only when a
 *   registry is contacted, and the xattr binding is a native addon.
 *
 * The file name carries the bundle's content id, and `dist/bundle/manifest.json`
 * names the current file. The id keys the launcher's code cache: V8 checks a
 * cache only against the source's length, so a cache must never be offered
 * to different code of the same length.
 *
 * Run after `tsc` (`npm run build`); it reads the compiled JavaScript.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const root = resolve(import.meta.dirname, "..", "..");
const outDir = join(root, "dist", "bundle");

/** Replaces the run-time chevrotain loader (top-level await) by a static import. */
const staticChevrotain: Plugin = {
  name: "static-chevrotain",
  setup(b) {
    b.onResolve({ filter: /\/chevrotain\.js$/ }, (args) =>
      args.importer.includes(`${join("dist", "grammar")}`) ? { path: "chevrotain-static", namespace: "tsbuild" } : undefined,
    );
    b.onLoad({ filter: /^chevrotain-static$/, namespace: "tsbuild" }, () => ({
      contents: 'export { createToken, Lexer, EmbeddedActionsParser } from "chevrotain";',
      resolveDir: root,
      loader: "js",
    }));
  },
};

await mkdir(outDir, { recursive: true });
const result = await build({
  entryPoints: [join(root, "dist", "src", "cli", "run.js")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  write: false,
  outfile: join(outDir, "tsbuild.cjs"),
  external: ["undici", "@napi-rs/xattr"],
  plugins: [staticChevrotain],
  define: { "import.meta.url": "__tsbuildBundleUrl" },
  banner: { js: 'var __tsbuildBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
  legalComments: "none",
});
const output = result.outputFiles[0];
if (!output) throw new Error("esbuild produced no output");
const id = createHash("sha256").update(output.contents).digest("hex").slice(0, 16);
const name = `tsbuild-${id}.cjs`;
// Temp file + rename, bundle before manifest: a launcher starting meanwhile
// reads a manifest that names a complete bundle.
await writeFile(join(outDir, `${name}.tmp`), output.contents);
await rename(join(outDir, `${name}.tmp`), join(outDir, name));
await writeFile(join(outDir, "manifest.json.tmp"), `${JSON.stringify({ bundle: name, id })}\n`);
await rename(join(outDir, "manifest.json.tmp"), join(outDir, "manifest.json"));
for (const old of await readdir(outDir)) {
  if (old.startsWith("tsbuild-") && old !== name) await rm(join(outDir, old), { force: true });
}
