/**
 * A pass-through stream that checks blob bytes read from the store against
 * their digest and size, reporting damage as a STORE_CORRUPT error at the
 * end of the stream.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";

/** The error for a stored blob whose bytes are not what its digest says. */
export function corruptBlobError(digest: Digest, path: string, detail: string): BuildError {
  return new BuildError("STORE_CORRUPT", `blob ${digest} in the local store is damaged: ${detail}`, {
    hint: `remove ${path} and pull or build the image again`,
  });
}

/**
 * Passes bytes through unchanged while counting them and, when `hash` is
 * true, hashing them. At the end it fails with STORE_CORRUPT when fewer or
 * more than `size` bytes went through (the file changed while being read)
 * or when the content does not hash to `digest`.
 */
export class VerifyingStream extends Transform {
  readonly #digest: Digest;
  readonly #size: number;
  readonly #path: string;
  readonly #hash: Hash | undefined;
  #seen = 0;

  /**
   * @param digest the blob's digest
   * @param size the size the stream must have (the file's size when opened)
   * @param path the blob file, for the error hint
   * @param hash whether to verify the digest (sizes are always verified)
   */
  constructor(digest: Digest, size: number, path: string, hash: boolean) {
    super();
    this.#digest = digest;
    this.#size = size;
    this.#path = path;
    this.#hash = hash ? createHash("sha256") : undefined;
  }

  /** Counts, hashes and passes on one chunk. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    this.#hash?.update(chunk);
    callback(null, chunk);
  }

  /** Fails the stream when the size or digest is wrong. */
  override _flush(callback: TransformCallback): void {
    if (this.#seen !== this.#size) {
      callback(corruptBlobError(this.#digest, this.#path, `read ${this.#seen} bytes, expected ${this.#size}`));
      return;
    }
    if (this.#hash !== undefined) {
      const actual = `sha256:${this.#hash.digest("hex")}`;
      if (actual !== this.#digest) {
        callback(corruptBlobError(this.#digest, this.#path, `its content hashes to ${actual}`));
        return;
      }
    }
    callback();
  }
}
