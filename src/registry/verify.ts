/**
 * Verifying downloaded content while it streams: a registry (or the
 * storage it redirects to) is not trusted to return the bytes a digest
 * names, and a layer is too big to buffer and check afterwards.
 */
import { createHash } from "node:crypto";
import { pipeline, Transform, type Readable, type TransformCallback } from "node:stream";
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";

/** What a verified stream must match. */
export interface ExpectedContent {
  /** The digest the bytes must hash to. */
  readonly digest: Digest;
  /** The exact byte count, when known (from a descriptor). */
  readonly size?: number;
  /** Names the content in error messages, e.g. `blob sha256:... of 127.0.0.1:5000/foo`. */
  readonly what?: string;
}

/**
 * Wraps `source` in a stream that passes its bytes through unchanged and
 * fails with DIGEST_MISMATCH at the end if they do not hash to
 * `expected.digest` or do not have `expected.size` bytes. A stream longer
 * than `size` fails as soon as it overruns, so a hostile endless response
 * is cut off early. Consumers must treat the data as untrusted until the
 * stream ends without error.
 */
export function verifyingStream(source: Readable, expected: ExpectedContent): Readable {
  const what = expected.what ?? `content ${expected.digest}`;
  if (!expected.digest.startsWith("sha256:")) {
    throw new BuildError("DIGEST_MISMATCH", `cannot verify ${what}: only sha256 digests are supported`);
  }
  const hash = createHash("sha256");
  let count = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      count += chunk.length;
      if (expected.size !== undefined && count > expected.size) {
        callback(new BuildError("DIGEST_MISMATCH", `${what} is larger than its declared size of ${expected.size} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      if (expected.size !== undefined && count !== expected.size) {
        callback(new BuildError("DIGEST_MISMATCH", `${what} has ${count} bytes, expected ${expected.size}`));
        return;
      }
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== expected.digest) {
        callback(new BuildError("DIGEST_MISMATCH", `${what} does not match its digest: got ${actual}`));
        return;
      }
      callback();
    },
  });
  // pipeline propagates errors both ways and destroys the source (freeing
  // its connection) when the consumer gives up on the verified stream.
  pipeline(source, check, () => {});
  return check;
}
