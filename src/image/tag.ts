/**
 * `docker tag`: give an image found by name, digest or ID another name.
 */
import { BuildError } from "../diagnostics/build-error.js";
import { parseReference, withDefaultTag } from "../registry/reference.js";
import type { ImageRecord } from "../store/image-record.js";
import type { ImageStore } from "../store/image-store.js";
import { findImage } from "./find.js";

/** Options for {@link tagImage}. */
export interface TagImageOptions {
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Points the name `target` at the image `source` designates (see
 * `findImage`) and returns the new record. `target` is normalised as Docker
 * does (`app` → `docker.io/library/app:latest`); a name it held before is
 * replaced.
 *
 * @throws BuildError STORE_NOT_FOUND `No such image: …` for an unknown
 *   source; REF_INVALID for a malformed target or one with a digest (Docker
 *   refuses to create a tag with a digest reference).
 */
export async function tagImage(images: ImageStore, source: string, target: string, options: TagImageOptions = {}): Promise<ImageRecord> {
  const name = parseReference(target);
  if (name.digest !== undefined) {
    throw new BuildError("REF_INVALID", `refusing to create a tag with a digest reference: ${target}`, {
      hint: "name the target as REPOSITORY[:TAG]",
    });
  }
  const record = await findImage(images, source, options);
  return images.tag(record.name, withDefaultTag(name), { signal: options.signal });
}
