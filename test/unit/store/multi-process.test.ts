/**
 * Several tsbuild processes sharing one root: two child processes (real OS
 * processes, via child_process) store the same blobs and write tags into
 * one root at the same time, including a name both of them keep updating.
 *
 * The children run the store's real code: the test transpiles the store
 * and its imports (TypeScript's transpileModule, no type check) into a temp
 * directory, since Node 20 cannot run .ts files itself.
 */
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/store.js";
import { cleanStaleTempFiles } from "../../../src/store/temp-files.js";
import { tempRoot } from "./helpers.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Transpiles `entry` and every module it imports relatively into `outDir`; returns the entry's JS path. */
async function transpileClosure(entry: string, outDir: string): Promise<string> {
  const pending = [resolve(repoRoot, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, "utf8");
    for (const m of source.matchAll(/(?:from|import)\s*["'](\.{1,2}\/[^"']+)\.js["']/g)) {
      pending.push(resolve(dirname(file), `${m[1]}.ts`));
    }
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    const target = join(outDir, relative(repoRoot, file)).replace(/\.ts$/, ".js");
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, out.outputText);
  }
  await writeFile(join(outDir, "package.json"), '{"type":"module"}\n');
  return join(outDir, entry.replace(/\.ts$/, ".js"));
}

const CHILD = `
import { openStore } from "./src/store/index.js";
import { parseReference } from "./src/registry/reference.js";
import { digestOf } from "./src/oci/digest.js";

const [root, id, count] = process.argv.slice(2);
const enc = (s) => new TextEncoder().encode(s);
const store = await openStore({ root });
const layer = enc("shared layer ".repeat(5000));
const layerDigest = digestOf(layer);
const config = enc(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] } }));
const manifest = enc(JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digestOf(config), size: config.length },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
}));
for (let i = 0; i < Number(count); i++) {
  // Both children store the same blobs over and over, racing each other.
  await store.content.writeBlob(layer, { digest: layerDigest, size: layer.length });
  await store.content.writeBlob(config);
  const m = await store.content.writeBlob(manifest);
  const image = { manifestDigest: m.digest, mediaType: "application/vnd.oci.image.manifest.v1+json", size: m.size, configDigest: digestOf(config), platform: { os: "linux", architecture: "amd64" } };
  await store.images.putImage({ ...image, name: parseReference("localhost:5000/child" + id + ":t" + i) });
  await store.images.putImage({ ...image, name: parseReference("shared:latest") });
  await store.images.tag("shared:latest", "shared:copy" + (i % 3));
  await store.images.recordBlobSource(layerDigest, "localhost:5000/child" + id);
}
`;

function run(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stderr }));
  });
}

describe("two processes sharing a root", () => {
  it("all tags are present, no file is corrupt, no temp file is left", async () => {
    const build = await tempRoot();
    await transpileClosure("src/store/index.ts", build);
    await transpileClosure("src/registry/reference.ts", build);
    const script = join(build, "child.mjs");
    await writeFile(script, CHILD);
    const root = await tempRoot();
    const count = 25;
    const results = await Promise.all([run(script, [root, "1", String(count)]), run(script, [root, "2", String(count)])]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

    const store = await openStore({ root });
    const names = (await store.images.listImages()).map((r) => r.name.familiar()); // throws on any corrupt record
    const expected = ["shared:latest", "shared:copy0", "shared:copy1", "shared:copy2"];
    for (const id of [1, 2]) for (let i = 0; i < count; i++) expected.push(`localhost:5000/child${id}:t${i}`);
    expect(names.sort()).toEqual(expected.sort());
    // every blob verifies
    for await (const digest of store.content.listBlobs()) await store.content.readBlob(digest);
    expect(await readdir(store.layout.blobsDir)).toHaveLength(3);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
    const layer = (await store.images.listImages())[0]!;
    const manifest = JSON.parse(Buffer.from(await store.content.readBlob(layer.manifestDigest)).toString()) as { layers: { digest: `sha256:${string}` }[] };
    expect((await store.images.blobSources(manifest.layers[0]!.digest)).sort()).toEqual(["localhost:5000/child1", "localhost:5000/child2"]);
  }, 60_000);

  it("a writer killed mid-blob leaves only a temp file, which cleanup removes", async () => {
    const build = await tempRoot();
    await transpileClosure("src/store/index.ts", build);
    const script = join(build, "killed.mjs");
    await writeFile(
      script,
      `import { openStore } from "./src/store/index.js";
const store = await openStore({ root: process.argv[2] });
async function* body() {
  for (let i = 0; ; i++) {
    if (i === 20) process.kill(process.pid, "SIGKILL");
    yield new Uint8Array(64 * 1024);
  }
}
await store.content.writeBlob(body());
`,
    );
    const root = await tempRoot();
    const r = await run(script, [root]);
    expect(r.code, r.stderr).toBeNull(); // killed by a signal
    const store = await openStore({ root });
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
    const left = await readdir(store.layout.tmpDir);
    expect(left).toHaveLength(1); // too fresh to be removed by this open
    expect(left[0]).toMatch(/^blob-\d+-[0-9a-f]+\.tmp$/);
    expect(await cleanStaleTempFiles(store.layout.tmpDir, { now: Date.now() + 2 * 60 * 60 * 1000 })).toBe(1);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  }, 60_000);
});
