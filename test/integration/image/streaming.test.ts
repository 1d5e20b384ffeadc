/**
 * Save and load stream: a 160 MiB layer goes through `save` to a file and
 * `load` into another store while the process's buffer memory stays far
 * below the layer's size; cancelling either leaves no output file, no
 * record and no temp file.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { loadImageArchive } from "../../../src/image/load.js";
import { imageArchive, selectImagesToSave, writeArchiveFile } from "../../../src/image/save.js";
import { digestOf, type Digest } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { parseReference } from "../../../src/registry/reference.js";
import type { LocalStore } from "../../../src/store/store.js";
import { tempDir, tempStore } from "./fixtures.js";

const LAYER_SIZE = 160 * 1024 * 1024;

/** Stores an image whose one layer is LAYER_SIZE random bytes, generated and written in 1 MiB chunks. */
async function storeBigImage(store: LocalStore): Promise<{ manifestDigest: Digest; layerDigest: Digest }> {
  async function* random(): AsyncGenerator<Uint8Array> {
    for (let n = 0; n < LAYER_SIZE; n += 1 << 20) yield randomBytes(1 << 20);
  }
  const layer = await store.content.writeBlob(random());
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [`sha256:${"1".repeat(64)}`] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }],
    }),
  );
  await store.content.writeBlob(config);
  const m = await store.content.writeBlob(manifest);
  await store.images.putImage({
    name: parseReference("big:1"),
    manifestDigest: m.digest,
    mediaType: MediaType.OciManifest,
    size: manifest.length,
    configDigest: digestOf(config),
    platform: { os: "linux", architecture: "amd64" },
  });
  return { manifestDigest: m.digest, layerDigest: layer.digest };
}

/** Runs `fn` while sampling buffer memory; returns the peak growth over the start, in bytes. */
async function peakBufferGrowth(fn: () => Promise<void>): Promise<number> {
  const used = (): number => {
    const m = process.memoryUsage();
    return m.arrayBuffers + m.heapUsed;
  };
  const start = used();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, used())), 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, used()) - start;
}

describe("streaming", () => {
  it("saves and loads a 160 MiB layer without holding it in memory", async () => {
    const store = await tempStore();
    const big = await storeBigImage(store);
    const dir = await tempDir();
    const file = join(dir, "big.tar");
    const saveGrowth = await peakBufferGrowth(async () => {
      const images = await selectImagesToSave(store, ["big:1"]);
      await writeArchiveFile(file, imageArchive(store.content, images));
    });
    expect((await stat(file)).size).toBeGreaterThan(LAYER_SIZE);

    const fresh = await tempStore();
    const loadGrowth = await peakBufferGrowth(async () => {
      const loaded = await loadImageArchive(fresh, createReadStream(file));
      expect(loaded.map((l) => l.record.manifestDigest)).toEqual([big.manifestDigest]);
    });
    expect(await fresh.content.blobSize(big.layerDigest)).toBe(LAYER_SIZE);
    // Well below the layer size (chunks, not the layer, are in memory; the
    // margin is for garbage the GC has not collected yet, 5-30 MiB here).
    expect(saveGrowth).toBeLessThan(LAYER_SIZE / 2);
    expect(loadGrowth).toBeLessThan(LAYER_SIZE / 2);
  });

  it("a cancelled save leaves no file, a cancelled load no record and no temp file", async () => {
    const store = await tempStore();
    await storeBigImage(store);
    const dir = await tempDir();
    const file = join(dir, "big.tar");

    const saving = new AbortController();
    setTimeout(() => saving.abort(new Error("test")), 50);
    const images = await selectImagesToSave(store, ["big:1"]);
    const saveError = await writeArchiveFile(file, imageArchive(store.content, images, { signal: saving.signal }), { signal: saving.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isBuildError(saveError, "ABORTED")).toBe(true);
    expect(await readdir(dir)).toEqual([]);

    await writeArchiveFile(file, imageArchive(store.content, images));
    const fresh = await tempStore();
    const loading = new AbortController();
    setTimeout(() => loading.abort(new Error("test")), 50);
    const loadError = await loadImageArchive(fresh, createReadStream(file), { signal: loading.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isBuildError(loadError, "ABORTED")).toBe(true);
    expect(await fresh.images.listImages()).toEqual([]);
    expect(await readdir(fresh.layout.tmpDir)).toEqual([]);
  });
});
