/**
 * Finding an image in the local store from what a user typed (a name, a
 * digest, an image ID or a prefix of one), with Docker's wording when there
 * is none: `No such image: foo:latest`.
 */
import { BuildError, isBuildError } from "../diagnostics/build-error.js";
import { parseReference, withDefaultTag } from "../registry/reference.js";
import type { ImageRecord } from "../store/image-record.js";
import type { ImageStore } from "../store/image-store.js";

/** Options for {@link findImage}. */
export interface FindImageOptions {
  /** Cancels the lookup. */
  readonly signal?: AbortSignal | undefined;
}

/** Text that can only be an image ID or digest (or a prefix of one), never a name. */
const ID_ONLY_RE = /^(?:sha256:[a-f0-9]{1,64}|[a-f0-9]{64})$/;
/** Text that may be an ID prefix (bare hex may also be a repository name). */
const ID_LIKE_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/**
 * How Docker names a query in "No such image" messages: a name in its short
 * form with the default tag (`foo` → `foo:latest`), an ID or digest as typed.
 */
export function queryLabel(query: string): string {
  if (ID_ONLY_RE.test(query)) return query;
  try {
    return withDefaultTag(parseReference(query)).familiar();
  } catch {
    return query;
  }
}

/** The STORE_NOT_FOUND error for `query`, worded as Docker does (`No such image: foo:latest`). */
export function noSuchImage(query: string): BuildError {
  return new BuildError("STORE_NOT_FOUND", `No such image: ${queryLabel(query)}`, {
    hint: "`tsbuild images` lists the images in the local store",
  });
}

/**
 * True when `query` designates `record` by ID rather than by name: it is a
 * (possibly `sha256:`-prefixed) hex prefix of the record's image ID (config
 * digest) or manifest digest. Docker treats such queries differently in
 * `rmi` (all names of the image) and `save` (no single name).
 */
export function isIdQuery(query: string, record: Pick<ImageRecord, "configDigest" | "manifestDigest">): boolean {
  const hex = ID_LIKE_RE.exec(query)?.[1];
  if (hex === undefined) return false;
  return record.configDigest.startsWith(`sha256:${hex}`) || record.manifestDigest.startsWith(`sha256:${hex}`);
}

/**
 * Finds the image `query` designates, trying a name (a bare repository
 * means its `latest` tag), a full digest or ID, then a unique ID prefix
 * (see `ImageStore.resolve`).
 *
 * @throws BuildError STORE_NOT_FOUND `No such image: …` when nothing matches;
 *   REF_INVALID for malformed text or an ambiguous prefix.
 */
export async function findImage(images: ImageStore, query: string, options: FindImageOptions = {}): Promise<ImageRecord> {
  try {
    return await images.resolve(query, { signal: options.signal });
  } catch (err) {
    if (isBuildError(err, "STORE_NOT_FOUND")) throw noSuchImage(query);
    throw err;
  }
}

/** Every record of the image whose ID (config digest) is `record`'s, sorted by name. */
export async function namesOfImage(
  images: ImageStore,
  record: Pick<ImageRecord, "configDigest">,
  options: FindImageOptions = {},
): Promise<ImageRecord[]> {
  return (await images.listImages({ signal: options.signal })).filter((r) => r.configDigest === record.configDigest);
}
