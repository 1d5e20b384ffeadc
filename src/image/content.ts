/**
 * Reading a recorded image's documents from the content store: its
 * single-platform manifest (descending from an index to the entry whose
 * config is the record's image ID) and its config.
 */
import { BuildError } from "../diagnostics/build-error.js";
import { isIndexType, isManifestType } from "../oci/media-types.js";
import type { ImageConfig } from "../oci/types.js";
import type { ContentStore } from "../store/content-store.js";
import type { ImageRecord } from "../store/image-record.js";
import {
  parseConfig,
  parseIndex,
  parseManifest,
  type CheckedDescriptor,
  type CheckedIndex,
  type CheckedManifest,
} from "./documents.js";

/** Options for the readers in this module. */
export interface ReadImageOptions {
  /** Cancels the reads. */
  readonly signal?: AbortSignal | undefined;
}

/** An image's single-platform manifest, as stored. */
export interface ImageManifestContent {
  /** The record it was read for. */
  readonly record: ImageRecord;
  /** Descriptor of the manifest (the record's own, or the index entry chosen). */
  readonly descriptor: CheckedDescriptor;
  /** The manifest's exact bytes. */
  readonly bytes: Uint8Array;
  /** The manifest, parsed and checked. */
  readonly manifest: CheckedManifest;
  /** When the record names an index: the index, parsed. */
  readonly index?: CheckedIndex | undefined;
}

/** An image's manifest and config, as stored. */
export interface ImageContent extends ImageManifestContent {
  /** The config's exact bytes. */
  readonly configBytes: Uint8Array;
  /** The config, parsed and checked. */
  readonly config: ImageConfig;
}

/**
 * Reads the single-platform manifest of `record`. For a record naming an
 * index, that is the index entry whose config is the record's image ID.
 *
 * @throws BuildError STORE_NOT_FOUND for a missing blob, STORE_CORRUPT for a
 *   damaged one, MANIFEST_INVALID for a document that is not what it claims.
 */
export async function readImageManifest(content: ContentStore, record: ImageRecord, options: ReadImageOptions = {}): Promise<ImageManifestContent> {
  const signal = options.signal;
  const recordDescriptor: CheckedDescriptor = { mediaType: record.mediaType, digest: record.manifestDigest, size: record.size };
  const bytes = await content.readBlob(record.manifestDigest, { expectedSize: record.size, signal });
  const label = `manifest ${record.manifestDigest} of ${record.name.familiar()}`;
  if (!isIndexType(record.mediaType)) {
    return { record, descriptor: recordDescriptor, bytes, manifest: parseManifest(bytes, label) };
  }
  const index = parseIndex(bytes, label);
  for (const entry of index.manifests) {
    if (!isManifestType(entry.mediaType) || !(await content.hasBlob(entry.digest, { signal }))) continue;
    const childBytes = await content.readBlob(entry.digest, { expectedSize: entry.size, signal });
    const child = parseManifest(childBytes, `manifest ${entry.digest} of ${record.name.familiar()}`);
    if (child.config.digest === record.configDigest) {
      return { record, descriptor: entry, bytes: childBytes, manifest: child, index };
    }
  }
  throw new BuildError(
    "MANIFEST_INVALID",
    `index ${record.manifestDigest} of ${record.name.familiar()} has no manifest with config ${record.configDigest} in the local store`,
    { hint: "pull the image again" },
  );
}

/** Reads `record`'s manifest (see {@link readImageManifest}) and config. */
export async function readImageContent(content: ContentStore, record: ImageRecord, options: ReadImageOptions = {}): Promise<ImageContent> {
  const m = await readImageManifest(content, record, options);
  const configBytes = await content.readBlob(m.manifest.config.digest, { expectedSize: m.manifest.config.size, signal: options.signal });
  const config = parseConfig(configBytes, `config ${m.manifest.config.digest} of ${record.name.familiar()}`);
  return { ...m, configBytes, config };
}

/** The size Docker shows for an image: config plus layers, as stored (compressed). */
export function imageSize(manifest: CheckedManifest): number {
  return manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
}
