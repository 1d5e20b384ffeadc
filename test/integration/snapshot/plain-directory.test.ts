import { readFileSync, writeFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LayerEntry } from "../../../src/oci/layer/entry.js";
import { writeLayer } from "../../../src/oci/layer/writer.js";
import { Snapshotter, type LayerRef } from "../../../src/snapshot/snapshotter.js";
import { openStore, type LocalStore } from "../../../src/store/store.js";

// Snapshotter.isPlainDirectory answers "is this a directory?" and
// plainFileLayer "which layer holds this file?" from the layer directories
// without mounting them (the WORKDIR and COPY --from fast paths, both on
// src/snapshot/layer-lookup.ts). They may only answer where the mounted
// overlay agrees; every case is checked against a real read-only overlay
// mount of the same chain.
describe("Snapshotter.isPlainDirectory and plainFileLayer", () => {
  let base: string;
  let store: LocalStore;
  let snapshotter: Snapshotter;
  let chain: LayerRef[];

  const dir = (path: string): LayerEntry => ({ path, type: "directory", mode: 0o755, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
  const marker = (path: string, type: "whiteout" | "opaque"): LayerEntry => ({ path, type, mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
  let layerDirs: string[];

  async function addLayer(name: string, source: { dir: string } | { entries: LayerEntry[] }): Promise<LayerRef> {
    const file = join(base, `${name}.tgz`);
    const layer = await writeLayer(source, file);
    await store.content.adoptFile(file, layer.digest, layer.size);
    return { digest: layer.digest, diffId: layer.diffId };
  }

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "tsbuild-plaindir-"));
    store = await openStore({ root: join(base, "root") });
    snapshotter = new Snapshotter(store.root, store.content);
    // Layer 1: directories, a file, a symlink to a directory.
    const src = join(base, "src");
    for (const d of ["app/sub", "gone/inner", "opq/old", "usr/lib", "blocked/inner"]) await mkdir(join(src, d), { recursive: true });
    await writeFile(join(src, "file"), "x");
    await writeFile(join(src, "app/sub/f1"), "f1");
    await writeFile(join(src, "app/replaced"), "old");
    await writeFile(join(src, "gone/inner/f"), "gone");
    await writeFile(join(src, "opq/old/f"), "hidden");
    await writeFile(join(src, "blocked/inner/f"), "hidden");
    await symlink("usr/lib", join(src, "lib"));
    await symlink("file", join(src, "filelink"));
    const l1 = await addLayer("l1", { dir: src });
    // Layer 2: deletes /gone, makes /opq opaque (hiding /opq/old), adds /opq/new, replaces the directory /blocked by a file.
    const fileEntry = (path: string, data: string): LayerEntry => {
      const p = join(base, `data-${path.replace(/\//g, "_")}`);
      writeFileSync(p, data);
      return { path, type: "file", mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: data.length, sourcePath: p };
    };
    const l2 = await addLayer("l2", {
      entries: [dir("app"), fileEntry("app/replaced", "new"), fileEntry("blocked", "a file now"), marker("gone", "whiteout"), dir("opq"), marker("opq", "opaque"), dir("opq/new")],
    });
    // Layer 3: /blocked is a directory again, not opaque: overlayfs stops merging at layer 2's file, so /blocked/inner stays hidden.
    const l3 = await addLayer("l3", { entries: [dir("blocked"), dir("opq"), fileEntry("opq/top", "top")] });
    chain = [l1, l2, l3];
    layerDirs = [l1, l2, l3].map((l) => snapshotter.snapshotDir(l.diffId));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const cases: [string, boolean][] = [
    ["/", true],
    ["/app", true],
    ["/app/sub", true],
    ["/app/sub/", true],
    ["/usr/lib", true],
    ["/opq", true],
    ["/opq/new", true],
    ["/missing", false],
    ["/file", false],
    ["/lib", false], // a symlink: left to the mounted path
    ["/gone", false], // whited out in layer 2
    ["/gone/inner", false],
    ["/opq/old", false], // hidden below the opaque directory
    ["/app/../usr", false], // ".." is left to the mounted path
    ["/blocked", true],
    ["/blocked/inner", false], // below layer 2's file: hidden
  ];

  it.each(cases)("%s -> %s, and the mounted view agrees whenever it says true", async (path, expected) => {
    const fast = await snapshotter.isPlainDirectory(chain, path);
    expect(fast).toBe(expected);
    const mounted = await snapshotter.withReadOnly(chain, async (root) => (await lstat(join(root, path)).catch(() => undefined))?.isDirectory() ?? false);
    if (fast) expect(mounted).toBe(true);
    if (path === "/gone" || path === "/opq/old" || path === "/missing") expect(mounted).toBe(false);
  });

  // [path, index of the layer expected to hold it, or undefined for "not plainly a file"]
  const files: [string, number | undefined][] = [
    ["/file", 0],
    ["/app/sub/f1", 0],
    ["app/sub/f1", 0],
    ["/app/replaced", 1], // the top-most copy wins
    ["/blocked", undefined], // a directory in the view
    ["/opq/top", 2],
    ["/opq/old/f", undefined], // below the opaque directory
    ["/gone/inner/f", undefined], // whited out
    ["/blocked/inner/f", undefined], // below layer 2's file
    ["/filelink", undefined], // a symlink: left to the mounted path
    ["/lib/x", undefined],
    ["/missing", undefined],
  ];

  it.each(files)("plainFileLayer(%s) -> layer %s, and the mounted view shows that very file", async (path, expected) => {
    const layer = await snapshotter.plainFileLayer(chain, path);
    expect(layer).toBe(expected === undefined ? undefined : layerDirs[expected]);
    const mounted = await snapshotter.withReadOnly(chain, async (root) => {
      const st = await lstat(join(root, path)).catch(() => undefined);
      return st?.isFile() === true ? readFileSync(join(root, path), "utf8") : undefined;
    });
    if (layer !== undefined) expect(readFileSync(join(layer, path), "utf8")).toBe(mounted);
    if (path.includes("opq/old") || path.includes("gone") || path.includes("blocked/inner") || path === "/missing") expect(mounted).toBeUndefined();
  });

  it("an empty chain (FROM scratch) is left to the mounted path", async () => {
    expect(await snapshotter.isPlainDirectory([], "/")).toBe(false);
  });
});
