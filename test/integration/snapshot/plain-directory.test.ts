import { lstat, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LayerEntry } from "../../../src/oci/layer/entry.js";
import { writeLayer } from "../../../src/oci/layer/writer.js";
import { Snapshotter, type LayerRef } from "../../../src/snapshot/snapshotter.js";
import { openStore, type LocalStore } from "../../../src/store/store.js";

// Snapshotter.isPlainDirectory answers "is this a directory?" from the layer
// directories without mounting them (WORKDIR's fast path). It may only say
// true where the mounted overlay agrees; every case is checked against a
// real read-only overlay mount of the same chain.
describe("Snapshotter.isPlainDirectory", () => {
  let base: string;
  let store: LocalStore;
  let snapshotter: Snapshotter;
  let chain: LayerRef[];

  const dir = (path: string): LayerEntry => ({ path, type: "directory", mode: 0o755, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
  const marker = (path: string, type: "whiteout" | "opaque"): LayerEntry => ({ path, type, mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });

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
    for (const d of ["app/sub", "gone/inner", "opq/old", "usr/lib"]) await mkdir(join(src, d), { recursive: true });
    await writeFile(join(src, "file"), "x");
    await symlink("usr/lib", join(src, "lib"));
    const l1 = await addLayer("l1", { dir: src });
    // Layer 2: deletes /gone, makes /opq opaque (hiding /opq/old), adds /opq/new.
    const l2 = await addLayer("l2", { entries: [marker("gone", "whiteout"), dir("opq"), marker("opq", "opaque"), dir("opq/new")] });
    chain = [l1, l2];
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
  ];

  it.each(cases)("%s -> %s, and the mounted view agrees whenever it says true", async (path, expected) => {
    const fast = await snapshotter.isPlainDirectory(chain, path);
    expect(fast).toBe(expected);
    const mounted = await snapshotter.withReadOnly(chain, async (root) => (await lstat(join(root, path)).catch(() => undefined))?.isDirectory() ?? false);
    if (fast) expect(mounted).toBe(true);
    if (path === "/gone" || path === "/opq/old" || path === "/missing") expect(mounted).toBe(false);
  });

  it("an empty chain (FROM scratch) is left to the mounted path", async () => {
    expect(await snapshotter.isPlainDirectory([], "/")).toBe(false);
  });
});
