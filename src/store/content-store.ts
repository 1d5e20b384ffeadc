/**
 * The content-addressed blob store interface: layers, configs, manifests
 * and indexes, each stored once under the sha256 digest of its exact bytes.
 */
import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";

/**
 * Content to store: bytes, or any async iterable of byte chunks (a Node
 * `Readable`, a web `ReadableStream`, an async generator).
 */
export type BlobInput = Uint8Array | AsyncIterable<Uint8Array | string>;

/** What the writer expects the content to be; checked before anything is published. */
export interface ExpectedBlob {
  /** The digest the content must hash to. */
  readonly digest: Digest;
  /** The exact size in bytes, when known (e.g. from a descriptor). Checked while streaming. */
  readonly size?: number | undefined;
}

/** The result of {@link ContentStore.writeBlob}. */
export interface WrittenBlob {
  /** Digest of the stored content. */
  readonly digest: Digest;
  /** Size of the stored content in bytes. */
  readonly size: number;
  /** False when the blob was already present (the new copy was discarded). */
  readonly created: boolean;
}

/** Options shared by store calls. */
export interface StoreCallOptions {
  /** Cancels the call; it then rejects with ABORTED and leaves no partial files. */
  readonly signal?: AbortSignal | undefined;
}

/** Options for {@link ContentStore.openBlob}. */
export interface OpenBlobOptions extends StoreCallOptions {
  /** When given, the stored size must equal it (checked when opening). */
  readonly expectedSize?: number | undefined;
  /**
   * Hash the content while it is read and fail the stream at its end when
   * it does not match the digest. Default true; false skips only the
   * hashing, the size checks remain.
   */
  readonly verify?: boolean | undefined;
}

/** Options for {@link ContentStore.readBlob}. */
export interface ReadBlobOptions extends StoreCallOptions {
  /** When given, the stored size must equal it. */
  readonly expectedSize?: number | undefined;
}

/**
 * A content-addressed blob store. All methods are safe to call from several
 * processes on the same store at once.
 */
export interface ContentStore {
  /**
   * Stores content and returns its digest and size. Nothing is visible under
   * the digest until the content is complete, verified against `expected`
   * and synced to disk. An iterable's chunks are consumed (hashed and
   * written) one at a time, each before the next is requested, so a
   * producer may reuse one buffer for successive chunks.
   *
   * @throws BuildError DIGEST_MISMATCH when the content does not match `expected`.
   * @throws BuildError ABORTED when `signal` fires.
   */
  writeBlob(content: BlobInput, expected?: ExpectedBlob, options?: StoreCallOptions): Promise<WrittenBlob>;
  /** True when the blob is present. */
  hasBlob(digest: Digest, options?: StoreCallOptions): Promise<boolean>;
  /**
   * The stored size of a blob.
   *
   * @throws BuildError STORE_NOT_FOUND when it is absent.
   */
  blobSize(digest: Digest, options?: StoreCallOptions): Promise<number>;
  /**
   * A stream of the blob's bytes. Verification happens while reading (see
   * {@link OpenBlobOptions}): damage is reported as an error event at the
   * end, after the bytes were delivered, so consumers must not commit what
   * they read before the stream ends cleanly.
   *
   * @throws BuildError STORE_NOT_FOUND when it is absent.
   */
  openBlob(digest: Digest, options?: OpenBlobOptions): Promise<Readable>;
  /**
   * The blob's bytes, verified against the digest before they are returned.
   *
   * @throws BuildError STORE_NOT_FOUND when absent, STORE_CORRUPT when damaged.
   */
  readBlob(digest: Digest, options?: ReadBlobOptions): Promise<Uint8Array>;
  /** Removes a blob; false when it was not there. */
  deleteBlob(digest: Digest, options?: StoreCallOptions): Promise<boolean>;
  /** The digests of all stored blobs, in no particular order. */
  listBlobs(options?: StoreCallOptions): AsyncIterable<Digest>;
}
