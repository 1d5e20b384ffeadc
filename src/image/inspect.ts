/**
 * `tsbuild inspect`: an image's manifest and config as stored, with its
 * digest and name.
 */
import type { Digest } from "../oci/digest.js";
import type { ImageConfig } from "../oci/types.js";
import type { LocalStore } from "../store/store.js";
import { readImageContent } from "./content.js";
import { parseJsonObject } from "./documents.js";
import { findImage } from "./find.js";

/** What `tsbuild inspect` prints, in this key order. */
export interface ImageInspection {
  /** The document the record's digest names: a manifest, or an index for a multi-platform record. */
  readonly manifest: Record<string, unknown>;
  /** The image config. */
  readonly config: ImageConfig;
  /** The digest of `manifest`. */
  readonly digest: Digest;
  /** The name the image was found under, in Docker's short form (`busybox:latest`). */
  readonly name: string;
}

/** Options for {@link inspectImage}. */
export interface InspectImageOptions {
  /** Cancels the reads. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Finds `query` (name, digest or ID prefix; see `findImage`) and returns its
 * manifest, config, digest and name. When several names lead to the image
 * (a query by ID), the first by name is reported.
 *
 * @throws BuildError STORE_NOT_FOUND `No such image: …`; STORE_CORRUPT or
 *   MANIFEST_INVALID when its documents are damaged.
 */
export async function inspectImage(store: LocalStore, query: string, options: InspectImageOptions = {}): Promise<ImageInspection> {
  const record = await findImage(store.images, query, options);
  const content = await readImageContent(store.content, record, options);
  const manifest =
    content.index === undefined
      ? (content.manifest as unknown as Record<string, unknown>)
      : parseJsonObject(await store.content.readBlob(record.manifestDigest, { expectedSize: record.size, signal: options.signal }), "index");
  return { manifest, config: content.config, digest: record.manifestDigest, name: record.name.familiar() };
}
