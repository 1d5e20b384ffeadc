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
 * - `src/registry/undici-modules.ts` loads undici's internal files with
 *   `createRequire`; the bundle requires the same files statically, so they
 *   are inlined (esbuild evaluates them on first use, as before). undici's
 *   package entry (the fallback) and @napi-rs/xattr (a native addon) stay
 *   outside.
 *
 * - undici's HTTP/2 client requires `node:http2` when it loads, only to read
 *   header-name constants; tsbuild never enables HTTP/2. The bundle gives it
 *   those constants and loads `node:http2` on the first `connect` instead
 *   (~5 ms less for every registry command).
 * - Every non-ASCII character of the output is written as a `\u` escape
 *   (they occur only in comments, strings and one regular expression, where
 *   the escape means the same), so the launcher can read the file as latin1:
 *   decoding 1.7 MB of UTF-8 took ~8 ms of every start, latin1 ~1.5 ms.
 *
 * - Whitespace and syntax are minified (identifiers are kept, so stack
 *   traces still name functions): 1.7 MB became 1.2 MB, and every start
 *   reads, decodes and hands V8 that much less. A/B on a no-op build on the
 *   2-core machine, 15 interleaved runs: median 182 -> 168 ms. Full
 *   minification (0.9 MB) measured no faster than this.
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
import { createRequire } from "node:module";
import { build, type Plugin } from "esbuild";
import { UNDICI_PART_PATHS } from "../src/registry/undici-modules.js";

const root = resolve(import.meta.dirname, "..", "..");
const outDir = join(root, "dist", "bundle");

/** Replaces the run-time chevrotain loader (top-level await) by a static import. */
const staticChevrotain: Plugin = {
  name: "static-chevrotain",
  setup(b) {
    b.onResolve({ filter: /\/chevrotain\.js$/ }, (args) =>
      args.importer.includes(join("dist", "grammar")) ? { path: "chevrotain-static", namespace: "tsbuild" } : undefined,
    );
    b.onLoad({ filter: /^chevrotain-static$/, namespace: "tsbuild" }, () => ({
      contents: 'export { createToken, Lexer, EmbeddedActionsParser } from "chevrotain";',
      resolveDir: root,
      loader: "js",
    }));
  },
};

/**
 * Replaces `src/registry/undici-modules.ts` (which loads undici's files
 * from node_modules at run time) by static requires of the same files, so
 * esbuild inlines them. The package entry (the fallback) stays external.
 */
const staticUndiciParts: Plugin = {
  name: "static-undici-parts",
  setup(b) {
    b.onResolve({ filter: /\/undici-modules\.js$/ }, (args) =>
      args.importer.includes(join("dist", "src", "registry")) ? { path: "undici-modules-static", namespace: "tsbuild" } : undefined,
    );
    b.onLoad({ filter: /^undici-modules-static$/, namespace: "tsbuild" }, () => ({
      contents: [
        "export function requireUndiciPart(part) {",
        "  switch (part) {",
        // One static require per part, so esbuild sees (and inlines) each file.
        ...Object.entries(UNDICI_PART_PATHS).map(([part, file]) => `    case ${JSON.stringify(part)}: return require(${JSON.stringify(file)});`),
        "  }",
        '  throw new Error("unknown undici part " + part);',
        "}",
        'export function requireUndiciPackage() { return require("undici"); }',
      ].join("\n"),
      resolveDir: root,
      loader: "js",
    }));
    // The internal files are bundled; only the bare package name stays external.
    b.onResolve({ filter: /^undici\/lib\// }, (args) => ({ path: createRequire(join(root, "package.json")).resolve(args.path) }));
  },
};

/**
 * `node:http2` as undici's HTTP/2 client sees it: the constants it reads
 * when it loads (copied here at bundle time: HTTP/2 header names and
 * nghttp2 error codes are protocol constants), and `connect`, which loads
 * the real module.
 */
const lazyHttp2: Plugin = {
  name: "lazy-http2",
  setup(b) {
    b.onResolve({ filter: /^node:http2$/ }, (args) => (args.importer.endsWith(join("dispatcher", "client-h2.js")) ? { path: "http2-lazy", namespace: "tsbuild" } : undefined));
    b.onLoad({ filter: /^http2-lazy$/, namespace: "tsbuild" }, async () => {
      const { constants } = await import("node:http2");
      return {
        contents: [
          `const constants = ${JSON.stringify(constants)};`,
          "let real;",
          'module.exports = { constants, connect: (...args) => (real ??= require("node:http2")).connect(...args) };',
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

/** `text` with every character above U+007F written as a `\uXXXX` escape (UTF-16 units, so astral characters become pairs). */
function escapeNonAscii(text: string): string {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

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
  plugins: [staticChevrotain, staticUndiciParts, lazyHttp2],
  define: { "import.meta.url": "__tsbuildBundleUrl" },
  banner: { js: 'var __tsbuildBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
  legalComments: "none",
  minifyWhitespace: true,
  minifySyntax: true,
});
const output = result.outputFiles[0];
if (!output) throw new Error("esbuild produced no output");
const contents = Buffer.from(escapeNonAscii(output.text), "latin1");
const id = createHash("sha256").update(contents).digest("hex").slice(0, 16);
const name = `tsbuild-${id}.cjs`;
// Temp file + rename, bundle before manifest: a launcher starting meanwhile
// reads a manifest that names a complete bundle.
await writeFile(join(outDir, `${name}.tmp`), contents);
await rename(join(outDir, `${name}.tmp`), join(outDir, name));
await writeFile(join(outDir, "manifest.json.tmp"), `${JSON.stringify({ bundle: name, id, ascii: true })}\n`);
await rename(join(outDir, "manifest.json.tmp"), join(outDir, "manifest.json"));
for (const old of await readdir(outDir)) {
  if (old.startsWith("tsbuild-") && old !== name) await rm(join(outDir, old), { force: true });
}
