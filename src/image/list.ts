/**
 * The rows of `tsbuild images`: one per stored name, with the size and
 * creation time Docker would show.
 */
import { isBuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { parseReference, repositoryOf, type ImageReference } from "../registry/reference.js";
import { imageId, type ImageRecord } from "../store/image-record.js";
import type { LocalStore } from "../store/store.js";
import { imageSize, readImageContent, readImageManifest } from "./content.js";
import { parseCreated } from "./display.js";

/** One stored name and what `tsbuild images` shows for it. */
export interface ImageSummary {
  /** The record behind the row. */
  readonly record: ImageRecord;
  /** The repository in Docker's short form (`busybox`, `localhost:5000/app`). */
  readonly repository: string;
  /** The tag, or undefined for a name that is a digest reference. */
  readonly tag: string | undefined;
  /** The manifest digest (index digest for a multi-platform record). */
  readonly digest: Digest;
  /** The image ID: the config digest. */
  readonly id: Digest;
  /** Config plus layer sizes in bytes, as stored; undefined when the manifest cannot be read. */
  readonly size: number | undefined;
  /** Creation time from the image config; undefined when it has none. */
  readonly created: Date | undefined;
}

/** Options for {@link listImageSummaries}. */
export interface ListImagesOptions {
  /**
   * Only names of this repository (`busybox`), or this exact tag
   * (`busybox:1.36`), as `docker images REPOSITORY[:TAG]` filters.
   */
  readonly filter?: string | undefined;
  /** Cancels the listing. */
  readonly signal?: AbortSignal | undefined;
}

function matches(name: ImageReference, filter: ImageReference | undefined): boolean {
  if (filter === undefined) return true;
  if (name.name !== filter.name) return false;
  if (filter.tag !== undefined && name.tag !== filter.tag) return false;
  if (filter.digest !== undefined && name.digest !== filter.digest) return false;
  return true;
}

/**
 * Every stored name with its image's size and creation time, newest image
 * first (then by name), as `docker images` orders them. A record whose
 * manifest is missing or damaged still gets a row, with an unknown size,
 * so that it can be seen and removed.
 *
 * @throws BuildError REF_INVALID for a malformed `filter`.
 */
export async function listImageSummaries(store: LocalStore, options: ListImagesOptions = {}): Promise<ImageSummary[]> {
  const signal = options.signal;
  const filter = options.filter === undefined ? undefined : parseReference(options.filter);
  const records = (await store.images.listImages({ signal })).filter((r) => matches(r.name, filter));
  const rows: ImageSummary[] = [];
  for (const record of records) {
    let size: number | undefined;
    let createdText = record.created;
    try {
      if (createdText === undefined) {
        const content = await readImageContent(store.content, record, { signal });
        size = imageSize(content.manifest);
        createdText = content.config.created;
      } else {
        size = imageSize((await readImageManifest(store.content, record, { signal })).manifest);
      }
    } catch (err) {
      if (!isBuildError(err) || err.code === "ABORTED") throw err;
      size = undefined;
    }
    rows.push({
      record,
      repository: repositoryOf(record.name).familiar(),
      tag: record.name.tag,
      digest: record.manifestDigest,
      id: imageId(record),
      size,
      created: parseCreated(createdText),
    });
  }
  return rows.sort((a, b) => {
    const ta = a.created?.getTime() ?? -Infinity;
    const tb = b.created?.getTime() ?? -Infinity;
    if (ta !== tb) return tb - ta;
    const na = a.record.name.toString();
    const nb = b.record.name.toString();
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}
