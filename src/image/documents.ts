/**
 * Parsing the JSON documents of an image (manifest, index, config) from
 * their exact bytes, with the shape checks every image command relies on:
 * a document that passes is safe to walk without further `typeof` tests.
 */
import { BuildError } from "../diagnostics/build-error.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "../oci/types.js";

/** A descriptor whose digest and size have been checked. */
export type CheckedDescriptor = Omit<Descriptor, "digest"> & { digest: Digest };

/** A manifest whose config and layer descriptors have been checked. */
export type CheckedManifest = Omit<ImageManifest, "config" | "layers"> & { config: CheckedDescriptor; layers: CheckedDescriptor[] };

/** An index whose manifest descriptors have been checked. */
export type CheckedIndex = Omit<ImageIndex, "manifests"> & { manifests: CheckedDescriptor[] };

function invalid(what: string, detail: string, cause?: unknown): BuildError {
  return new BuildError("MANIFEST_INVALID", `${what} ${detail}`, { cause });
}

/** Parses UTF-8 JSON bytes into an object; MANIFEST_INVALID naming `what` otherwise. */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw invalid(what, "is not valid JSON", err);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(what, "is not a JSON object");
  return value as Record<string, unknown>;
}

/**
 * Checks that `value` is a descriptor with a sha256 digest, a media type and
 * a non-negative integer size.
 *
 * @throws BuildError MANIFEST_INVALID naming `what`.
 */
export function checkDescriptor(value: unknown, what: string): CheckedDescriptor {
  if (typeof value !== "object" || value === null) throw invalid(what, "is not a descriptor object");
  const d = value as Record<string, unknown>;
  if (typeof d["mediaType"] !== "string" || d["mediaType"] === "") throw invalid(what, "has no mediaType");
  if (typeof d["digest"] !== "string" || !isDigest(d["digest"])) {
    throw invalid(what, `has an invalid or non-sha256 digest ${JSON.stringify(d["digest"])}`);
  }
  if (typeof d["size"] !== "number" || !Number.isSafeInteger(d["size"]) || d["size"] < 0) {
    throw invalid(what, `has an invalid size ${JSON.stringify(d["size"])}`);
  }
  return value as CheckedDescriptor;
}

/**
 * Parses an image manifest (OCI or Docker schema 2).
 *
 * @throws BuildError MANIFEST_INVALID naming `what` when the bytes are not one.
 */
export function parseManifest(bytes: Uint8Array, what: string): CheckedManifest {
  const m = parseJsonObject(bytes, what);
  if (m["schemaVersion"] !== 2) throw invalid(what, `has schemaVersion ${JSON.stringify(m["schemaVersion"])}, expected 2`);
  checkDescriptor(m["config"], `the config descriptor of ${what}`);
  const layers = m["layers"];
  if (!Array.isArray(layers)) throw invalid(what, "has no layers list");
  layers.forEach((l, i) => checkDescriptor(l, `layer ${i + 1} of ${what}`));
  return m as unknown as CheckedManifest;
}

/**
 * Parses an image index (OCI index or Docker manifest list).
 *
 * @throws BuildError MANIFEST_INVALID naming `what` when the bytes are not one.
 */
export function parseIndex(bytes: Uint8Array, what: string): CheckedIndex {
  const m = parseJsonObject(bytes, what);
  if (m["schemaVersion"] !== 2) throw invalid(what, `has schemaVersion ${JSON.stringify(m["schemaVersion"])}, expected 2`);
  const manifests = m["manifests"];
  if (!Array.isArray(manifests)) throw invalid(what, "has no manifests list");
  manifests.forEach((d, i) => checkDescriptor(d, `entry ${i + 1} of ${what}`));
  return m as unknown as CheckedIndex;
}

/**
 * Parses an image config, checking the fields tsbuild reads: `os`,
 * `architecture`, `rootfs.diff_ids` (sha256 digests), and `created` when present.
 *
 * @throws BuildError MANIFEST_INVALID naming `what` when the bytes are not one.
 */
export function parseConfig(bytes: Uint8Array, what: string): ImageConfig {
  const c = parseJsonObject(bytes, what);
  if (typeof c["os"] !== "string" || typeof c["architecture"] !== "string") throw invalid(what, "has no os or architecture");
  if (c["variant"] !== undefined && typeof c["variant"] !== "string") throw invalid(what, "has an invalid variant");
  if (c["created"] !== undefined && typeof c["created"] !== "string") throw invalid(what, "has an invalid created time");
  const rootfs = c["rootfs"] as Record<string, unknown> | undefined;
  const diffIds = rootfs?.["diff_ids"];
  if (typeof rootfs !== "object" || rootfs === null || !Array.isArray(diffIds) || !diffIds.every((d) => typeof d === "string" && isDigest(d))) {
    throw invalid(what, "has no valid rootfs.diff_ids (sha256 digests)");
  }
  return c as unknown as ImageConfig;
}
