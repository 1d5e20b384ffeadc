/**
 * The filesystem {@link ContentStore}: blobs at `<root>/blobs/sha256/<hex>`,
 * exactly the `blobs/` directory of an OCI image layout, so exporting can
 * hard-link or copy files as they are.
 *
 * Write protocol (why each step is there):
 * 1. stream into a fresh temp file in `<root>/tmp/` (opened `O_EXCL`, so
 *    two writers never share a temp file), hashing and counting as we go;
 * 2. stop as soon as the content is longer than the expected size (a
 *    misbehaving server cannot fill the disk);
 * 3. compare size and digest: on mismatch the temp file is removed and
 *    nothing ever appears under the final name;
 * 4. fsync the file, then `rename` it to `blobs/sha256/<hex>` and fsync the
 *    directory: after a crash a blob is either absent or complete, and it is
 *    durable before any image record that refers to it is written.
 *
 * Two processes writing the same digest at once is harmless: each writes
 * its own temp file; whichever renames first publishes, and the other finds
 * the blob present and drops its identical copy (a rename over it would be
 * harmless too, but would swap the inode under existing hard links).
 *
 * Blob files are made read-only (0444) because exports may hard-link them:
 * a tool writing into an exported file in place would otherwise damage the
 * store. Reads verify content (see {@link FsContentStore.openBlob}).
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import { BuildError } from "../diagnostics/build-error.js";
import { digestOf, parseDigest, type Digest } from "../oci/digest.js";
import { raceAbort, storeAbortedError, throwIfAborted } from "./abort.js";
import { fsyncDirectory, unlinkQuietly } from "./atomic-write.js";
import type {
  BlobInput,
  ContentStore,
  ExpectedBlob,
  OpenBlobOptions,
  ReadBlobOptions,
  StoreCallOptions,
  WrittenBlob,
} from "./content-store.js";
import { blobFile, storeLayout, type StoreLayout } from "./layout.js";
import { cleanStaleTempFiles, DEFAULT_STALE_TEMP_AGE_MS, errnoCode, tempFilePath } from "./temp-files.js";
import { corruptBlobError, VerifyingStream } from "./verify-stream.js";
import { WriteBehind } from "./write-behind.js";

/** Mode of published blob files: read-only, see the module comment. */
const BLOB_MODE = 0o444;

/** Options for {@link FsContentStore.open}. */
export interface OpenContentStoreOptions extends StoreCallOptions {
  /** Temp files older than this are removed on open. Default 1 hour. */
  readonly staleTempAgeMs?: number | undefined;
}

function mismatch(message: string): BuildError {
  return new BuildError("DIGEST_MISMATCH", message, {
    hint: "the source sent different content than its descriptor promised; nothing was stored",
  });
}

function notFound(digest: Digest): BuildError {
  return new BuildError("STORE_NOT_FOUND", `blob ${digest} is not in the local store`);
}

/** Filesystem implementation of {@link ContentStore}. Create with {@link FsContentStore.open}. */
export class FsContentStore implements ContentStore {
  /** The paths of the store root this content store lives in. */
  readonly layout: StoreLayout;

  /** Use {@link FsContentStore.open}, which creates directories and cleans temp files. */
  constructor(layout: StoreLayout) {
    this.layout = layout;
  }

  /**
   * Opens (creating if needed) the content store under `root`, removing temp
   * files left by killed processes (see `temp-files.ts` for the age rule).
   */
  static async open(root: string, options: OpenContentStoreOptions = {}): Promise<FsContentStore> {
    const layout = storeLayout(root);
    await mkdir(layout.blobsDir, { recursive: true });
    await mkdir(layout.tmpDir, { recursive: true });
    await cleanStaleTempFiles(layout.tmpDir, {
      maxAgeMs: options.staleTempAgeMs ?? DEFAULT_STALE_TEMP_AGE_MS,
      signal: options.signal,
    });
    return new FsContentStore(layout);
  }

  /**
   * The file holding `digest` (whether or not it exists), for exports that
   * hard-link or copy blobs. Never write to it.
   */
  blobPath(digest: Digest): string {
    return blobFile(this.layout.blobsDir, parseDigest(digest));
  }

  /** See {@link ContentStore.writeBlob} and the write protocol in this module's comment. */
  async writeBlob(content: BlobInput, expected?: ExpectedBlob, options: StoreCallOptions = {}): Promise<WrittenBlob> {
    const signal = options.signal;
    const what = expected === undefined ? "writing a blob" : `writing blob ${expected.digest}`;
    throwIfAborted(signal, what);
    if (expected !== undefined) {
      parseDigest(expected.digest);
      if (expected.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
        throw mismatch(`invalid expected size ${expected.size} for blob ${expected.digest}`);
      }
    }

    if (content instanceof Uint8Array) {
      // Bytes in memory: verify before touching the disk at all.
      const digest = digestOf(content);
      this.#check(digest, content.length, expected);
      if (await this.hasBlob(digest)) return { digest, size: content.length, created: false };
      return this.#publish(async (fh) => {
        const out = new WriteBehind(fh);
        out.write(content);
        await out.settle();
        return { digest, size: content.length };
      }, signal, what);
    }

    return this.#publish(async (fh) => {
      const hash = createHash("sha256");
      let size = 0;
      const out = new WriteBehind(fh);
      const iterator = content[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await raceAbort(iterator.next(), signal, what);
          if (next.done === true) break;
          const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
          size += chunk.length;
          if (expected?.size !== undefined && size > expected.size) {
            throw mismatch(`blob ${expected.digest} is longer than the expected ${expected.size} bytes`);
          }
          hash.update(chunk);
          out.write(chunk);
        }
      } catch (err) {
        await out.settle().catch(() => undefined);
        // Stop the source (closes sockets/files) when we give up early.
        await Promise.resolve(iterator.return?.()).catch(() => undefined);
        throw err;
      }
      await out.settle();
      const digest: Digest = `sha256:${hash.digest("hex")}`;
      this.#check(digest, size, expected);
      return { digest, size };
    }, signal, what);
  }

  /**
   * Moves a finished file into the store as blob `digest`, for a producer
   * that hashed the bytes itself as it wrote them (the layer writer hashes
   * what it emits), so the store does not read them a second time. The file
   * must be complete and already fsync'ed, on the store's filesystem (under
   * its root, e.g. in `tmp/`); its size is checked, its digest is the
   * caller's word. Then as for {@link writeBlob}: made read-only, renamed to
   * its final name, directory fsync'ed; if the blob is already there, the
   * existing file is kept. Either way, and on failure, `path` is gone
   * afterwards.
   */
  async adoptFile(path: string, digest: Digest, size: number, options: StoreCallOptions = {}): Promise<WrittenBlob> {
    const what = `storing blob ${digest}`;
    parseDigest(digest);
    let published = false;
    try {
      throwIfAborted(options.signal, what);
      const st = await stat(path);
      if (!st.isFile() || st.size !== size) throw mismatch(`file for blob ${digest} has ${st.size} bytes, expected ${size}`);
      const final = blobFile(this.layout.blobsDir, digest);
      if (await exists(final)) return { digest, size, created: false };
      await chmod(path, BLOB_MODE);
      await rename(path, final);
      published = true;
      await fsyncDirectory(this.layout.blobsDir);
      return { digest, size, created: true };
    } finally {
      if (!published) await unlinkQuietly(path);
    }
  }

  /** DIGEST_MISMATCH unless `digest`/`size` are what `expected` says. */
  #check(digest: Digest, size: number, expected: ExpectedBlob | undefined): void {
    if (expected === undefined) return;
    if (expected.size !== undefined && size !== expected.size) {
      throw mismatch(`blob ${expected.digest} has ${size} bytes, expected ${expected.size}`);
    }
    if (digest !== expected.digest) {
      throw mismatch(`content expected to be ${expected.digest} hashes to ${digest}`);
    }
  }

  /**
   * Runs `fill` on a fresh temp file; when it returns (content verified),
   * syncs and renames the file into place. Any failure removes the temp file.
   */
  async #publish(
    fill: (fh: FileHandle) => Promise<{ digest: Digest; size: number }>,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<WrittenBlob> {
    const tmp = tempFilePath(this.layout.tmpDir, "blob");
    let published = false;
    try {
      let result: { digest: Digest; size: number };
      const fh = await open(tmp, "wx", BLOB_MODE);
      try {
        result = await fill(fh);
        // Durable before visible: a crash after the rename must not leave
        // the final name pointing at unwritten data.
        await fh.sync();
      } finally {
        await fh.close();
      }
      throwIfAborted(signal, what);
      const final = blobFile(this.layout.blobsDir, result.digest);
      if (await exists(final)) {
        // Same digest, same bytes: keep the existing file (and its inode,
        // which exports may have hard-linked).
        return { ...result, created: false };
      }
      try {
        await rename(tmp, final);
      } catch (err) {
        if (errnoCode(err) === "ENOENT") {
          throw new BuildError("STORE_CORRUPT", `temporary file for ${result.digest} vanished before it could be stored`, {
            cause: err,
            hint: "another tsbuild process removed it as stale (untouched for over an hour); retry",
          });
        }
        throw err;
      }
      published = true;
      await fsyncDirectory(this.layout.blobsDir);
      return { ...result, created: true };
    } finally {
      if (!published) await unlinkQuietly(tmp);
    }
  }

  /** See {@link ContentStore.hasBlob}. */
  async hasBlob(digest: Digest, options: StoreCallOptions = {}): Promise<boolean> {
    throwIfAborted(options.signal, `looking up blob ${digest}`);
    return exists(this.blobPath(digest));
  }

  /** See {@link ContentStore.blobSize}. */
  async blobSize(digest: Digest, options: StoreCallOptions = {}): Promise<number> {
    throwIfAborted(options.signal, `looking up blob ${digest}`);
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") throw notFound(digest);
      throw err;
    }
  }

  /**
   * Opens a blob for reading. Checks, in order: the file size against
   * `expectedSize` (at open, DIGEST_MISMATCH); the number of bytes read
   * against the size at open (at end, STORE_CORRUPT: the file changed); and,
   * unless `verify` is false, the sha256 of the bytes against `digest` (at
   * end, STORE_CORRUPT). Hashing is on by default because it costs little
   * next to the I/O and is the only way to notice bit rot.
   */
  async openBlob(digest: Digest, options: OpenBlobOptions = {}): Promise<Readable> {
    const what = `reading blob ${digest}`;
    throwIfAborted(options.signal, what);
    const path = this.blobPath(digest);
    const { fh, size } = await this.#openSized(digest, path, options.expectedSize);
    const source = fh.createReadStream({ autoClose: true });
    const verifier = new VerifyingStream(digest, size, path, options.verify !== false);
    const signal = options.signal;
    const onAbort = (): void => {
      verifier.destroy(storeAbortedError(signal, what));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    pipeline(source, verifier, () => {
      // Errors reach the consumer through `verifier`; pipeline destroys both.
      signal?.removeEventListener("abort", onAbort);
    });
    return verifier;
  }

  /**
   * Opens the blob file and reads its size: STORE_NOT_FOUND when it is
   * missing, DIGEST_MISMATCH when `expectedSize` is given and differs (the
   * file is closed again then).
   */
  async #openSized(digest: Digest, path: string, expectedSize: number | undefined): Promise<{ fh: FileHandle; size: number }> {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") throw notFound(digest);
      throw err;
    }
    try {
      const size = (await fh.stat()).size;
      if (expectedSize !== undefined && size !== expectedSize) {
        throw mismatch(`blob ${digest} has ${size} bytes in the local store, expected ${expectedSize}`);
      }
      return { fh, size };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** See {@link ContentStore.readBlob}: `expectedSize` is checked before reading, the digest after. */
  async readBlob(digest: Digest, options: ReadBlobOptions = {}): Promise<Uint8Array> {
    const what = `reading blob ${digest}`;
    throwIfAborted(options.signal, what);
    const path = this.blobPath(digest);
    const { fh } = await this.#openSized(digest, path, options.expectedSize);
    let data: Buffer;
    try {
      data = await fh.readFile(options.signal === undefined ? {} : { signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted === true) throw storeAbortedError(options.signal, what);
      throw err;
    } finally {
      await fh.close();
    }
    const actual = digestOf(data);
    if (actual !== digest) throw corruptBlobError(digest, path, `its content hashes to ${actual}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * See {@link ContentStore.deleteBlob}. Readers that already opened the
   * blob keep reading it (POSIX unlink semantics); image records that refer
   * to it are not checked: only `tsbuild prune` (`build/prune.ts`) deletes,
   * after working out what the records use.
   */
  async deleteBlob(digest: Digest, options: StoreCallOptions = {}): Promise<boolean> {
    throwIfAborted(options.signal, `deleting blob ${digest}`);
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return false;
      throw err;
    }
  }

  /** See {@link ContentStore.listBlobs}. */
  async *listBlobs(options: StoreCallOptions = {}): AsyncIterable<Digest> {
    const names = await readdir(this.layout.blobsDir);
    for (const name of names) {
      throwIfAborted(options.signal, "listing blobs");
      if (/^[a-f0-9]{64}$/.test(name)) yield `sha256:${name}`;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}
