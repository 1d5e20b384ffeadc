/** Shared fixtures for the store tests: temp roots and a small sample image. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { digestOf, type Digest } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import type { ContentStore } from "../../../src/store/content-store.js";

const roots: string[] = [];

/** A fresh temp directory, removed after the test. */
export async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-store-"));
  roots.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of roots.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** The pieces of a stored sample image. */
export interface SampleImage {
  readonly layerDigest: Digest;
  readonly configDigest: Digest;
  readonly manifestDigest: Digest;
  readonly manifestSize: number;
  readonly manifestBytes: Uint8Array;
}

/** Builds a one-layer image whose content depends on `seed`, and stores its blobs. */
export async function storeSampleImage(content: ContentStore, seed: string, options: { skip?: "layer" | "config" | "manifest" } = {}): Promise<SampleImage> {
  const layer = new TextEncoder().encode(`layer ${seed}`);
  const layerDigest = digestOf(layer);
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] }, created: "2024-01-02T03:04:05Z" }),
  );
  const configDigest = digestOf(config);
  const manifestBytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MediaType.OciLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = digestOf(manifestBytes);
  if (options.skip !== "layer") await content.writeBlob(layer);
  if (options.skip !== "config") await content.writeBlob(config);
  if (options.skip !== "manifest") await content.writeBlob(manifestBytes);
  return { layerDigest, configDigest, manifestDigest, manifestSize: manifestBytes.length, manifestBytes };
}

/** Yields `data` in chunks of `size` bytes, optionally pausing between chunks. */
export async function* chunks(data: Uint8Array, size: number, delayMs = 0): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield data.subarray(i, i + size);
  }
}

/** The BuildError code `p` rejects with (fails the test when it resolves or throws something else). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    return (err as BuildError).code;
  }
  throw new Error("expected a rejection");
}
