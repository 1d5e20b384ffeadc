/**
 * A stored layer's compression and diff ID (the sha256 of its uncompressed
 * tar, as listed in the config's `rootfs.diff_ids`). Docker archives carry
 * layers as plain or compressed tars without saying which, so the loader
 * sniffs the magic bytes, as `docker load` does.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import type { ContentStore } from "../store/content-store.js";

/** How a layer blob is compressed. */
export type LayerCompression = "none" | "gzip" | "zstd";

/** The compression whose magic bytes start `head`. */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** The OCI layer media type for a compression. */
export function layerMediaType(compression: LayerCompression): string {
  return compression === "gzip" ? MediaType.OciLayerGzip : compression === "zstd" ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

/** What {@link layerDiffId} found. */
export interface LayerDiffId {
  /** The blob's compression. */
  readonly compression: LayerCompression;
  /** sha256 of the uncompressed content. */
  readonly diffId: Digest;
}

/** Node's zstd decompressor, when this Node has one (22.15+). */
function zstdDecompressor(): NodeJS.ReadWriteStream | undefined {
  const create = (zlib as unknown as Record<string, unknown>)["createZstdDecompress"];
  return typeof create === "function" ? (create as () => NodeJS.ReadWriteStream)() : undefined;
}

/**
 * Reads stored layer `digest` and returns its compression and diff ID. An
 * uncompressed layer's diff ID is its digest, found without hashing twice.
 *
 * @throws BuildError MANIFEST_INVALID for a compressed layer that cannot be
 *   decompressed (damaged, or zstd on a Node without zstd); STORE_CORRUPT
 *   for a damaged blob.
 */
export async function layerDiffId(content: ContentStore, digest: Digest, options: { signal?: AbortSignal | undefined } = {}): Promise<LayerDiffId> {
  const stream = await content.openBlob(digest, { signal: options.signal });
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const head = first.done === true ? Buffer.alloc(0) : first.value;
  const compression = sniffCompression(head);
  if (compression === "none") {
    stream.destroy();
    return { compression, diffId: digest };
  }
  const decompressor = compression === "gzip" ? zlib.createGunzip() : zstdDecompressor();
  if (decompressor === undefined) {
    stream.destroy();
    throw new BuildError("MANIFEST_INVALID", `layer ${digest} is zstd-compressed, and this Node.js cannot decompress zstd to check it`, {
      hint: "use Node.js 22.15 or later, or an archive with gzip or uncompressed layers",
    });
  }
  const hash = createHash("sha256");
  async function* all(): AsyncGenerator<Buffer, void, undefined> {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  try {
    await pipeline(Readable.from(all()), decompressor, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
  } catch (err) {
    stream.destroy();
    if (err instanceof BuildError) throw err;
    throw new BuildError("MANIFEST_INVALID", `layer ${digest} cannot be decompressed as ${compression}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { compression, diffId: `sha256:${hash.digest("hex")}` };
}
