/**
 * `docker rmi` without garbage collection: removing names. The rules follow
 * the Docker daemon's `ImageDelete` (daemon/images/image_delete.go):
 *
 * - A name (`busybox:1.36`, `busybox@sha256:…`) removes that name. When a
 *   tag was removed and no other tag of the same repository points at the
 *   image, the repository's digest names of the image go with it.
 * - An ID, digest or ID prefix removes every name of the image when they
 *   are all in one repository with at most one tag; otherwise only with
 *   `force` (else: "image is referenced in multiple repositories").
 *
 * Blobs are kept: nothing is deleted from the content store (`tsbuild
 * prune` later removes the blobs no name uses).
 */
import { BuildError, isBuildError } from "../diagnostics/build-error.js";
import { parseReference, withDefaultTag, type ImageReference } from "../registry/reference.js";
import type { ImageRecord } from "../store/image-record.js";
import type { ImageStore } from "../store/image-store.js";
import { shortId } from "./display.js";
import { findImage, isIdQuery, namesOfImage, noSuchImage } from "./find.js";

/** Options for {@link removeImage}. */
export interface RemoveImageOptions {
  /** Docker's `rmi -f`: remove all names of an image given by ID even across repositories. */
  readonly force?: boolean | undefined;
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link removeImage} did. */
export interface RemoveImageResult {
  /** The names removed, in the order they were removed (Docker prints `Untagged: NAME` for each). */
  readonly untagged: readonly ImageReference[];
}

/**
 * Docker's `isSingleReference`: all names are in one repository and at most
 * one of them is a tag. False for no names.
 */
export function isSingleReference(names: readonly ImageReference[]): boolean {
  if (names.length <= 1) return names.length === 1;
  const tags = names.filter((n) => n.digest === undefined);
  if (tags.length > 1) return false;
  return new Set(names.map((n) => n.name)).size === 1;
}

/** Removes `name` when still present; false when another process removed it first. */
async function untagIfPresent(images: ImageStore, name: ImageReference, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await images.untag(name, { signal });
    return true;
  } catch (err) {
    if (isBuildError(err, "STORE_NOT_FOUND")) return false;
    throw err;
  }
}

/** Parses `query` as a name, or undefined when it is not one. */
function asName(query: string): ImageReference | undefined {
  try {
    return withDefaultTag(parseReference(query));
  } catch {
    return undefined;
  }
}

/**
 * Removes the name(s) `query` designates; see the module comment for the
 * rules.
 *
 * @throws BuildError STORE_NOT_FOUND `No such image: …`; REF_INVALID for an
 *   ambiguous ID prefix, or an ID whose image has names in several
 *   repositories and `force` is not set.
 */
export async function removeImage(images: ImageStore, query: string, options: RemoveImageOptions = {}): Promise<RemoveImageResult> {
  const signal = options.signal;
  const name = asName(query);
  const named = name === undefined ? undefined : await images.getImage(name, { signal });
  if (name !== undefined && named !== undefined) return removeName(images, named, signal);

  const record = await findImage(images, query, { signal });
  // A name that only matched through its digest (a tag record with that
  // manifest): Docker has no such name to remove.
  if (!isIdQuery(query, record)) throw noSuchImage(query);
  const names = (await namesOfImage(images, record, { signal })).map((r) => r.name);
  if (!isSingleReference(names) && options.force !== true) {
    throw new BuildError(
      "REF_INVALID",
      `conflict: unable to delete ${shortId(record.configDigest)} (must be forced) - image is referenced in multiple repositories`,
      { hint: `use -f to remove all its names, or remove them one at a time: ${names.map((n) => n.familiar()).join(", ")}` },
    );
  }
  const untagged: ImageReference[] = [];
  for (const n of names) {
    if (await untagIfPresent(images, n, signal)) untagged.push(n);
  }
  if (untagged.length === 0) throw noSuchImage(query);
  return { untagged };
}

async function removeName(images: ImageStore, record: ImageRecord, signal: AbortSignal | undefined): Promise<RemoveImageResult> {
  const removed = await images.untag(record.name, { signal });
  const untagged: ImageReference[] = [removed.name];
  if (removed.name.tag === undefined) return { untagged };
  const others = await namesOfImage(images, removed, { signal });
  const sameRepo = others.filter((r) => r.name.name === removed.name.name);
  if (sameRepo.some((r) => r.name.tag !== undefined)) return { untagged };
  for (const r of sameRepo) {
    if (r.name.digest !== undefined && (await untagIfPresent(images, r.name, signal))) untagged.push(r.name);
  }
  return { untagged };
}
