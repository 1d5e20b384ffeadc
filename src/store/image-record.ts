/**
 * Image records: what the store knows about one image name (a tag like
 * `docker.io/library/alpine:3.20`, or a digest reference like
 * `docker.io/library/alpine@sha256:…`), and their JSON file format.
 */
import { createHash } from "node:crypto";
import { BuildError } from "../diagnostics/build-error.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { Descriptor, Platform } from "../oci/types.js";
import { parseReference, type ImageReference } from "../registry/reference.js";

/** Version of the record file format. */
export const IMAGE_RECORD_VERSION = 1;

/** What {@link ImageStore.putImage} needs to record an image under a name. */
export interface NewImage {
  /** The name: a tagged reference, or a digest reference whose digest is `manifestDigest`. Not both. */
  readonly name: ImageReference;
  /** Digest of the manifest (or index) blob. */
  readonly manifestDigest: Digest;
  /** Media type of that manifest. */
  readonly mediaType: string;
  /** Size of the manifest blob in bytes (so the record yields a full {@link Descriptor}). */
  readonly size: number;
  /** Digest of the image config blob; its hex form is the image ID, as in Docker. */
  readonly configDigest: Digest;
  /** The platform the image is for. */
  readonly platform: Platform;
  /** The image's creation time from its config (RFC 3339, or a Date), if it has one. */
  readonly created?: string | Date | undefined;
}

/** An image as recorded under one name. */
export interface ImageRecord {
  /** The name this record is stored under (tag or digest reference). */
  readonly name: ImageReference;
  /** Digest of the manifest (or index) blob. */
  readonly manifestDigest: Digest;
  /** Media type of that manifest. */
  readonly mediaType: string;
  /** Size of the manifest blob in bytes. */
  readonly size: number;
  /** Digest of the image config blob (the image ID). */
  readonly configDigest: Digest;
  /** The platform the image is for. */
  readonly platform: Platform;
  /** The image's creation time from its config (RFC 3339), if known. */
  readonly created: string | undefined;
  /** When this name was last pointed at this image (RFC 3339). */
  readonly updated: string;
}

/** The image ID Docker would show: the config digest. */
export function imageId(record: Pick<ImageRecord, "configDigest">): Digest {
  return record.configDigest;
}

/** The OCI descriptor of a record's manifest, e.g. for an export's index.json. */
export function manifestDescriptor(record: ImageRecord): Descriptor {
  return { mediaType: record.mediaType, digest: record.manifestDigest, size: record.size, platform: record.platform };
}

/**
 * Checks that `name` can key a record: exactly one of tag or digest, and a
 * digest name must be the manifest's own digest.
 *
 * @throws BuildError REF_INVALID otherwise.
 */
export function checkRecordName(name: ImageReference, manifestDigest?: Digest): void {
  if (name.tag !== undefined && name.digest !== undefined) {
    throw new BuildError("REF_INVALID", `cannot store an image under "${name.familiar()}": a stored name has a tag or a digest, not both`, {
      hint: `use ${name.name}:${name.tag} or ${name.name}@${name.digest}`,
    });
  }
  if (name.tag === undefined && name.digest === undefined) {
    throw new BuildError("REF_INVALID", `cannot store an image under "${name.familiar()}": the name needs a tag or a digest`);
  }
  if (name.digest !== undefined && manifestDigest !== undefined && name.digest !== manifestDigest) {
    throw new BuildError("REF_INVALID", `cannot store manifest ${manifestDigest} under "${name.familiar()}": the digest differs`);
  }
}

/**
 * The file-name key of a record: sha256 of the canonical name. Hashing
 * keeps names of any length and character (`:`, `[`, `/`) within one flat
 * directory of fixed-length file names; the record itself stores the name.
 */
export function recordKey(name: ImageReference): string {
  return createHash("sha256").update(name.toString()).digest("hex");
}

/** Serialises a record to its file content. */
export function encodeImageRecord(record: ImageRecord): string {
  return `${JSON.stringify(
    {
      version: IMAGE_RECORD_VERSION,
      name: record.name.toString(),
      manifestDigest: record.manifestDigest,
      mediaType: record.mediaType,
      size: record.size,
      configDigest: record.configDigest,
      platform: record.platform,
      created: record.created,
      updated: record.updated,
    },
    null,
    2,
  )}\n`;
}

function corrupt(file: string, detail: string, cause?: unknown): BuildError {
  return new BuildError("STORE_CORRUPT", `image record ${file} is damaged: ${detail}`, {
    cause,
    hint: `remove ${file} (the image name it held is lost; pull or build it again)`,
  });
}

function isPlatform(v: unknown): v is Platform {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p["os"] === "string" &&
    typeof p["architecture"] === "string" &&
    (p["variant"] === undefined || typeof p["variant"] === "string") &&
    (p["os.version"] === undefined || typeof p["os.version"] === "string") &&
    (p["os.features"] === undefined || (Array.isArray(p["os.features"]) && p["os.features"].every((f) => typeof f === "string")))
  );
}

/**
 * Parses a record file's content, checking every field.
 *
 * @throws BuildError STORE_CORRUPT naming `file` when anything is off.
 */
export function decodeImageRecord(text: string, file: string): ImageRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, "not valid JSON", err);
  }
  if (typeof raw !== "object" || raw === null) throw corrupt(file, "not a JSON object");
  const r = raw as Record<string, unknown>;
  if (r["version"] !== IMAGE_RECORD_VERSION) {
    throw new BuildError("STORE_CORRUPT", `image record ${file} has format version ${String(r["version"])}, expected ${IMAGE_RECORD_VERSION}`, {
      hint: "it was written by an incompatible tsbuild version; use that version or a separate --root",
    });
  }
  const { name, manifestDigest, mediaType, size, configDigest, platform, created, updated } = r;
  if (typeof name !== "string") throw corrupt(file, "missing name");
  let ref: ImageReference;
  try {
    ref = parseReference(name);
  } catch (err) {
    throw corrupt(file, `invalid name ${JSON.stringify(name)}`, err);
  }
  if (ref.toString() !== name) throw corrupt(file, `name ${JSON.stringify(name)} is not canonical`);
  if (typeof manifestDigest !== "string" || !isDigest(manifestDigest)) throw corrupt(file, "invalid manifestDigest");
  if (typeof configDigest !== "string" || !isDigest(configDigest)) throw corrupt(file, "invalid configDigest");
  if (typeof mediaType !== "string" || mediaType === "") throw corrupt(file, "invalid mediaType");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw corrupt(file, "invalid size");
  if (!isPlatform(platform)) throw corrupt(file, "invalid platform");
  if (created !== undefined && typeof created !== "string") throw corrupt(file, "invalid created");
  if (typeof updated !== "string") throw corrupt(file, "invalid updated");
  try {
    checkRecordName(ref, manifestDigest);
  } catch (err) {
    throw corrupt(file, err instanceof Error ? err.message : String(err), err);
  }
  return { name: ref, manifestDigest, mediaType, size, configDigest, platform, created, updated };
}
