import { createHash } from "node:crypto";
import { BuildError } from "../diagnostics/build-error.js";

/** A `sha256:<64 hex>` content digest. Only sha256 is produced; others are rejected on read. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `s` is a well-formed sha256 digest. */
export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Returns `s` as a {@link Digest}, or throws DIGEST_MISMATCH naming what was wrong. */
export function parseDigest(s: string): Digest {
  if (!isDigest(s)) {
    throw new BuildError("DIGEST_MISMATCH", `invalid digest "${s}": expected sha256:<64 lowercase hex digits>`);
  }
  return s;
}

/** The sha256 digest of some bytes. */
export function digestOf(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The hex part of a digest, used as a file name. */
export function digestHex(digest: Digest): string {
  return digest.slice("sha256:".length);
}
