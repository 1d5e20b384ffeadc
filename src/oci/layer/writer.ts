import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { BuildError } from "../../diagnostics/build-error.js";
import type { Digest } from "../digest.js";
import { WriteBehind } from "../../store/write-behind.js";
import { MediaType } from "../media-types.js";
import { compareUtf8, tarPathOf, type LayerEntry } from "./entry.js";
import { ParallelGzip } from "./gzip.js";
import { END_OF_ARCHIVE, TypeFlag, encodeHeader, padding, type UstarFields } from "./tar-format.js";
import { OffThreadHash, type OffThreadDigest } from "./off-thread-hash.js";
import { asBuildError, throwIfAborted, walkDirectory } from "./walk.js";

/** What to put in a layer: an explicit list of entries, or every file under a directory. */
export type LayerSource =
  | {
      /** Entries, in any order (the writer sorts them). Parents must be present. */
      readonly entries: readonly LayerEntry[];
    }
  | {
      /**
       * A plain directory, taken as is (like `tar -C dir .` without the root
       * entry). For an overlay upper directory use `diffUpperDir` from
       * `src/snapshot/diff.ts` and pass its entries instead, so that overlay
       * whiteouts become OCI whiteouts.
       */
      readonly dir: string;
    };

/** Options for {@link writeLayer} and {@link tarChunks}. */
export interface WriteLayerOptions {
  /**
   * `SOURCE_DATE_EPOCH` in seconds. Entries newer than it get it as mtime
   * (BuildKit's `rewrite-timestamp`); older ones keep theirs.
   */
  readonly sourceDateEpoch?: number;
  /** `gzip` (default) or `none` (plain tar; then digest = diffId). */
  readonly compression?: "gzip" | "none";
  /** gzip level 0-9; default 6, BuildKit's and Docker's default (Go's `gzip.DefaultCompression`). */
  readonly level?: number;
  /** Stream output only: call `end()` on it when done (default true). */
  readonly end?: boolean;
  /** Cancels the write (BuildError ABORTED); a path output is then removed. */
  readonly signal?: AbortSignal;
}

/** What {@link writeLayer} computed, in the one pass over the data. */
export interface WriteLayerResult {
  /** sha256 of the bytes written (compressed): the descriptor digest. */
  readonly digest: Digest;
  /** sha256 of the uncompressed tar: the config's `rootfs.diff_ids` entry. */
  readonly diffId: Digest;
  /** Bytes written (compressed size): the descriptor size. */
  readonly size: number;
  /** Bytes of the uncompressed tar. */
  readonly uncompressedSize: number;
  /** The OCI layer media type matching the compression. */
  readonly mediaType: string;
}

const READ_CHUNK = 1 << 20;

function internal(message: string): BuildError {
  return new BuildError("INTERNAL", `layer writer: ${message}`);
}

/** Checks one entry path is in the canonical relative form. */
function checkPath(entry: LayerEntry): void {
  const p = entry.path;
  if (entry.type === "opaque" && p === "") return;
  if (p === "" || p.startsWith("/") || p.endsWith("/") || p.split("/").some((c) => c === "" || c === "." || c === "..")) {
    throw internal(`entry path "${p}" is not a clean relative path`);
  }
}

/** Entries sorted by tar name, validated: unique names, parents first, hardlink targets earlier. */
export function sortEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const keyed = entries.map((e) => {
    checkPath(e);
    return { e, key: Buffer.from(tarPathOf(e), "utf8") };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const dirs = new Set<string>([""]);
  const files = new Set<string>();
  const seen = new Set<string>();
  const out: LayerEntry[] = [];
  for (const { e } of keyed) {
    const name = tarPathOf(e);
    if (seen.has(name)) throw internal(`duplicate entry "${name}"`);
    seen.add(name);
    const slash = name.lastIndexOf("/");
    const parent = slash < 0 ? "" : name.slice(0, slash);
    if (!dirs.has(parent)) throw internal(`entry "${name}" comes without its parent directory "${parent}"`);
    if (e.type === "directory") dirs.add(e.path);
    if (e.type === "file") files.add(e.path);
    if (e.type === "hardlink" && (e.linkTarget === undefined || !files.has(e.linkTarget))) {
      throw internal(`hard link "${name}" must point at an earlier regular file, not "${e.linkTarget ?? ""}"`);
    }
    out.push(e);
  }
  return out;
}

function headerFor(entry: LayerEntry, epoch: number | undefined): Buffer {
  const base: UstarFields = {
    name: tarPathOf(entry),
    mode: entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    size: 0,
    mtime: clampMtime(entry.mtimeMs, epoch),
    typeflag: TypeFlag.File,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  };
  switch (entry.type) {
    case "file":
      return encodeHeader({ ...base, size: entry.size }, entry.xattrs);
    case "directory":
      return encodeHeader({ ...base, name: `${entry.path}/`, typeflag: TypeFlag.Directory }, entry.xattrs);
    case "symlink":
      return encodeHeader({ ...base, typeflag: TypeFlag.Symlink, linkname: entry.linkTarget ?? "" }, entry.xattrs);
    case "hardlink":
      return encodeHeader({ ...base, typeflag: TypeFlag.Link, linkname: entry.linkTarget ?? "" });
    case "char-device":
    case "block-device":
      return encodeHeader(
        {
          ...base,
          typeflag: entry.type === "char-device" ? TypeFlag.Char : TypeFlag.Block,
          devmajor: entry.devMajor ?? 0,
          devminor: entry.devMinor ?? 0,
        },
        entry.xattrs,
      );
    case "fifo":
      return encodeHeader({ ...base, typeflag: TypeFlag.Fifo }, entry.xattrs);
    case "whiteout":
    case "opaque":
      // Markers carry no metadata of their own: fixed fields keep digests
      // independent of when and by whom the file was deleted.
      return encodeHeader({ ...base, mode: 0, uid: 0, gid: 0, mtime: 0 });
  }
}

/** Whole seconds, clamped to SOURCE_DATE_EPOCH when given (and to 0 below). */
function clampMtime(mtimeMs: number, epoch: number | undefined): number {
  let s = Math.floor(mtimeMs / 1000);
  if (epoch !== undefined && s > epoch) s = epoch;
  return s < 0 ? 0 : s;
}

/**
 * The uncompressed tar of `entries`, as chunks (header buffers and file
 * content read 1 MiB at a time into one reused buffer: consume each chunk
 * before asking for the next). Deterministic: sorted names, numeric ids,
 * no uname/gname/atime/ctime, PAX records sorted.
 */
export async function* tarChunks(
  entries: readonly LayerEntry[],
  options: Pick<WriteLayerOptions, "sourceDateEpoch" | "signal"> = {},
): AsyncGenerator<Buffer, void, undefined> {
  const { signal, sourceDateEpoch: epoch } = options;
  if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0)) {
    throw internal(`SOURCE_DATE_EPOCH must be a non-negative integer of seconds, got ${epoch}`);
  }
  const sorted = sortEntries(entries);
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (const entry of sorted) {
    throwIfAborted(signal);
    yield headerFor(entry, epoch);
    if (entry.type !== "file" || entry.size === 0) continue;
    if (entry.sourcePath === undefined) throw internal(`file "${entry.path}" has no source path`);
    // O_NOFOLLOW: the source tree may be written by a build step; never read
    // through a symlink swapped in for a file after the walk.
    // Synchronous calls: a layer of many small files is dominated by per-file
    // open/stat/read/close, and each asynchronous call cost a thread-pool
    // round trip several times the syscall (reads are at most 1 MiB, so the
    // event loop never waits long).
    const fd = openSync(entry.sourcePath, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size !== entry.size) {
        throw internal(`"${entry.path}" changed while the layer was written (size ${entry.size} → ${st.size})`);
      }
      let left = entry.size;
      while (left > 0) {
        throwIfAborted(signal);
        const bytesRead = readSync(fd, buf, 0, Math.min(READ_CHUNK, left), null);
        if (bytesRead === 0) throw internal(`"${entry.path}" shrank while the layer was written`);
        left -= bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      closeSync(fd);
    }
    const pad = padding(entry.size);
    if (pad > 0) yield END_OF_ARCHIVE.subarray(0, pad);
  }
  yield END_OF_ARCHIVE;
}

/** Where compressed bytes go: a file (written to a temporary name, then renamed) or a stream. */
interface Sink {
  /** Writes `chunks` in order; they may be reused once it resolves. */
  write(chunks: readonly Buffer[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

async function fileSink(path: string): Promise<Sink> {
  // Crash safety: bytes go to a temporary sibling and are renamed into place
  // after fsync, so `path` never holds a truncated layer.
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  const fh: FileHandle = await open(tmp, "wx", 0o644);
  const out = new WriteBehind(fh);
  let closed = false;
  return {
    async write(chunks) {
      out.writeAll(chunks);
    },
    async commit() {
      await out.settle();
      await fh.sync();
      closed = true;
      await fh.close();
      await rename(tmp, path);
    },
    async abort() {
      await out.settle().catch(() => undefined);
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}

function streamSink(out: Writable, end: boolean, signal: AbortSignal | undefined): Sink {
  let failure: unknown;
  const onError = (err: unknown): void => {
    failure ??= err;
  };
  out.on("error", onError);
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  return {
    async write(chunks) {
      check();
      let drained = true;
      for (const chunk of chunks) drained = out.write(chunk);
      if (!drained) {
        await new Promise<void>((resolve, reject) => {
          const cleanup = (): void => {
            out.off("drain", onDrain);
            out.off("error", onErr);
            out.off("close", onDrain);
            signal?.removeEventListener("abort", onAbort);
          };
          const onDrain = (): void => {
            cleanup();
            resolve();
          };
          const onErr = (err: unknown): void => {
            cleanup();
            reject(err);
          };
          const onAbort = (): void => {
            cleanup();
            resolve(); // the caller's next abort check throws ABORTED
          };
          out.on("drain", onDrain);
          out.on("error", onErr);
          out.on("close", onDrain);
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      }
      check();
    },
    async commit() {
      check();
      if (end) {
        out.end();
        await finished(out);
      }
      out.off("error", onError);
    },
    async abort() {
      out.off("error", onError);
      if (end) out.destroy();
    },
  };
}

/**
 * Writes a layer: tar → (gzip) → `output`, hashing the uncompressed and the
 * compressed bytes in the same single pass. Two runs over the same input
 * (same entries, contents and metadata, same options) produce identical
 * bytes; with `sourceDateEpoch`, mtimes newer than it do not matter either.
 * Note: the gzip bytes also depend on the zlib build Node ships, so digests
 * are stable across runs and machines with the same Node major version.
 *
 * `output` is a file path (written under a temporary name, fsync'ed, then
 * renamed over `path`) or a writable stream (ended when done unless
 * `end: false`).
 */
export async function writeLayer(
  source: LayerSource,
  output: string | Writable,
  options: WriteLayerOptions = {},
): Promise<WriteLayerResult> {
  const { signal } = options;
  throwIfAborted(signal);
  const compression = options.compression ?? "gzip";
  const entries = "entries" in source ? source.entries : await walkDirectory(source.dir, signal ? { signal } : {});
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw internal(`gzip level must be 0-9, got ${level}`);
  // Both sides of a big compressed layer are hashed on other threads (see
  // OffThreadHash), the tar side together with the gzip trailer's CRC-32.
  const offThread = compression === "gzip" && fileBytes(entries) >= OFF_THREAD_HASH_MIN;
  // A file sink has written (and the hash copied) every chunk before the
  // next gzip call, so gzip may refill its input blocks; a stream may still
  // hold them in its buffer.
  const reuseBlocks = typeof output === "string";
  const diffHash = offThread ? new OffThreadHash({ crc32: true }) : inlineHash();
  const outHash = offThread ? new OffThreadHash() : inlineHash();
  // Off-thread, gzip's input blocks (exactly the tar stream) live in shared
  // memory and go to the tar side's worker as they are: no copy of the tar
  // bytes for hashing, and stored blocks reach the other worker the same
  // way. A block is refilled only once both workers are done with it.
  const gzip =
    compression === "gzip"
      ? new ParallelGzip({
          level,
          externalCrc: offThread,
          reuseBlocks,
          ...(offThread
            ? {
                sharedBlocks: true,
                onBlock: (input: Buffer) => diffHash.add([input]),
                canReuse: (block: Buffer) => diffHash.isFree(block.buffer) && outHash.isFree(block.buffer),
              }
            : {}),
        })
      : undefined;
  let sink: Sink;
  try {
    sink = typeof output === "string" ? await fileSink(output) : streamSink(output, options.end ?? true, signal);
  } catch (err) {
    await diffHash.abandon();
    await outHash.abandon();
    throw asBuildError(err, `cannot create layer file ${String(output)}`);
  }

  let diffDigest: OffThreadDigest | undefined;
  let uncompressedSize = 0;
  let size = 0;
  const emit = async (chunks: Buffer[]): Promise<void> => {
    await outHash.updateAll(chunks);
    for (const c of chunks) size += c.length;
    await sink.write(chunks);
  };

  try {
    for await (const chunk of tarChunks(entries, options)) {
      uncompressedSize += chunk.length;
      // Off-thread (always with gzip), the tar side is fed by gzip's blocks instead.
      if (!offThread) await diffHash.update(chunk);
      if (gzip === undefined) {
        // The chunk buffer is reused by tarChunks: copy before an async write.
        await emit([Buffer.from(chunk)]);
      } else {
        await emit(await gzip.write(chunk));
        // Wait when the tar side's worker falls behind (a no-op inline).
        await diffHash.drained();
      }
    }
    if (gzip !== undefined) {
      // With an off-thread CRC the trailer needs the tar side's digest,
      // complete once gzip has handed over its last block.
      const tarDigest = async (): Promise<number> => (diffDigest = await diffHash.digest()).crc32;
      await emit(await gzip.end(offThread ? tarDigest : undefined));
    }
    diffDigest ??= await diffHash.digest();
    throwIfAborted(signal);
    await sink.commit();
  } catch (err) {
    gzip?.abandon();
    await diffHash.abandon();
    await outHash.abandon();
    await sink.abort();
    if (signal?.aborted === true && !(err instanceof BuildError && err.code === "ABORTED")) {
      throw new BuildError("ABORTED", "layer write cancelled", { cause: err });
    }
    // Filesystem or stream errors (a file vanished, ENOSPC...).
    throw asBuildError(err, "cannot write layer");
  }

  const diffId: Digest = `sha256:${diffDigest.sha256}`;
  let outHex: string;
  try {
    outHex = (await outHash.digest()).sha256;
  } catch (err) {
    throw asBuildError(err, "cannot hash layer");
  }
  return {
    digest: gzip === undefined ? diffId : `sha256:${outHex}`,
    diffId,
    size,
    uncompressedSize,
    mediaType: gzip === undefined ? MediaType.OciLayer : MediaType.OciLayerGzip,
  };
}

/** Layers with at least this many bytes of file data hash their compressed bytes on a worker thread (starting one costs ~20 ms). */
const OFF_THREAD_HASH_MIN = 64 << 20;

/** Bytes of regular file data among `entries`. */
function fileBytes(entries: readonly LayerEntry[]): number {
  let total = 0;
  for (const e of entries) if (e.type === "file") total += e.size;
  return total;
}

/** A SHA-256 on this thread, with {@link OffThreadHash}'s interface. */
function inlineHash(): Pick<OffThreadHash, "update" | "updateAll" | "add" | "drained" | "isFree" | "digest" | "abandon"> {
  const hash = createHash("sha256");
  const add = (parts: readonly Uint8Array[]): void => {
    for (const p of parts) hash.update(p);
  };
  return {
    add,
    update: async (data) => void hash.update(data),
    updateAll: async (parts) => add(parts),
    drained: async () => undefined,
    isFree: () => true,
    digest: async () => ({ sha256: hash.digest("hex"), crc32: 0 }),
    abandon: async () => undefined,
  };
}

/** Sorts layer entries by path in tar byte order (exported for callers building entry lists). */
export function compareEntries(a: LayerEntry, b: LayerEntry): number {
  return compareUtf8(tarPathOf(a), tarPathOf(b));
}
