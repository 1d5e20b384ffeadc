import { createHash, randomBytes } from "node:crypto";
import { constants, type BigIntStats } from "node:fs";
import { closeSync, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { readLayerXattrsSync } from "./xattrs.js";

/** Options for {@link FileHashCache.open}. */
export interface FileHashCacheOptions {
  /** The clock, in nanoseconds since the epoch (tests move it). Default: the real time. */
  readonly now?: () => bigint;
  /** The racy-clean safety margin in nanoseconds. Default 2 s. */
  readonly marginNs?: bigint;
}

/**
 * One remembered hash, stored as the raw line remainder
 * `key \t hashedAt \t stable \t digest`: lookups compare in place, so a
 * no-op rebuild allocates almost nothing per file (`key` is {@link statKey};
 * `stable` is 1 when mtime and ctime were older than hashedAt minus the
 * margin; `digest` is `sha256:<64 hex>`).
 */
type Entry = string;

/** Length of `sha256:` + 64 hex digits. */
const DIGEST_LENGTH = 71;

const HEADER = "tsbuild-file-hash-cache 2";
const DEFAULT_MARGIN_NS = 2_000_000_000n;
/** Most entries written by {@link FileHashCache.save}. */
const MAX_ENTRIES = 1_000_000;
/** Read buffer for large files. */
const CHUNK = 256 * 1024;
/**
 * Files up to this size are read synchronously: for small files the
 * open/read/fstat/close round trips through libuv's thread pool cost far
 * more than the reads (measured: about 3x slower on a cold checksum of
 * 20,000 4 KB files). Callers yield between files (see checksum.ts).
 */
const SYNC_READ_MAX = 256 * 1024;
/** Shared buffer for synchronous reads (never used across an await). */
const SYNC_BUFFER = Buffer.allocUnsafe(SYNC_READ_MAX);
/** O_NOFOLLOW: never read through a symlink swapped in; O_NONBLOCK: a FIFO swapped in cannot hang us. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The `lstat` fields the cache reads, as numbers (`Stats` has them, as does COPY's own EntryStat). */
export interface StatFields {
  /** Device id. */
  readonly dev: number;
  /** Inode number. */
  readonly ino: number;
  /** Size in bytes. */
  readonly size: number;
  /** File type and permission bits. */
  readonly mode: number;
  /** Modification time in ms. */
  readonly mtimeMs: number;
  /** Status change time in ms. */
  readonly ctimeMs: number;
}

/** The `lstat` result of the file to hash: a `BigIntStats`, a `Stats`, or the same fields as numbers. */
export type FileStats = BigIntStats | StatFields;

/** Node's `msFromTimeSpec` on a nanosecond bigint: the exact double `Stats#mtimeMs` holds. */
function msOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) * 1e3 + Number(ns % 1_000_000_000n) / 1e6;
}

/** Modification and change times in milliseconds (as `Stats` gives them), for either stats form. */
function timesOf(st: FileStats): { mtimeMs: number; ctimeMs: number } {
  if (typeof st.mode === "bigint") {
    const b = st as BigIntStats;
    return { mtimeMs: msOf(b.mtimeNs), ctimeMs: msOf(b.ctimeNs) };
  }
  const n = st as StatFields;
  return { mtimeMs: n.mtimeMs, ctimeMs: n.ctimeMs };
}

/**
 * The identity of a file version as far as `lstat` can tell:
 * `dev:ino:size:mtime:ctime:mode`, times as integers of nanoseconds made
 * from the milliseconds double `Stats` holds (integers print much faster
 * than fractional doubles). The same for the `Stats` and `BigIntStats` of
 * one file. The double resolves ~0.25 µs at today's dates, so times 1 µs
 * apart always give different keys.
 *
 * Why nanoseconds: rounding to whole microseconds merged times 1 µs apart
 * whose fraction sat near .5 µs, and on a machine whose clock gives every
 * timestamp the same .458 µs fraction that was every file. Real edits move
 * times much further (the racy-clean rule never trusts timestamps within
 * 2 s of the hashing), but the key should not lose what `lstat` tells.
 */
export function statKey(st: FileStats): string {
  if (typeof st.mode === "bigint") {
    const b = st as BigIntStats;
    const { mtimeMs, ctimeMs } = timesOf(b);
    return `${Number(b.dev)}:${Number(b.ino)}:${Number(b.size)}:${Math.round(mtimeMs * 1e6)}:${Math.round(ctimeMs * 1e6)}:${Number(b.mode)}`;
  }
  const n = st as StatFields;
  return `${n.dev}:${n.ino}:${n.size}:${Math.round(n.mtimeMs * 1e6)}:${Math.round(n.ctimeMs * 1e6)}:${n.mode}`;
}

function realNow(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function escapePath(p: string): string {
  return /[\\\t\n\r]/.test(p) ? p.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r")) : p;
}

function unescapePath(p: string): string {
  return p.includes("\\") ? p.replace(/\\(.)/g, (_m, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c)) : p;
}

/**
 * A persistent, stat-based cache of file content hashes, so a rebuild
 * whose context did not change costs one `lstat` per file instead of
 * reading every byte.
 *
 * ## When an entry is trusted (the racily-clean rule)
 *
 * An entry maps an absolute path to the digest taken at time `hashedAt`
 * together with the file's `(dev, ino, size, mtime, ctime, mode)` at that
 * time (times as precise as `Stats` holds them, see {@link statKey}). It is used again
 * only if **all** of these hold:
 *
 * 1. the file's current `(dev, ino, size, mtime, ctime, mode)` equal the
 *    recorded ones, and
 * 2. the recorded mtime **and** ctime are older than `hashedAt` minus a
 *    safety margin (2 s).
 *
 * Otherwise the file is read and hashed again (and the entry replaced).
 *
 * Why the margin: file timestamps come from a coarse clock (a kernel tick),
 * so a file written, hashed, and written again within the same tick can
 * keep the same size and mtime — git calls such index entries "racily
 * clean". Refusing to trust an entry whose timestamps are too close to the
 * moment it was hashed closes that window: any later edit happens after
 * `hashedAt` and therefore gets a newer timestamp. Why ctime as well:
 * users (and tools such as `touch -m -d`, `rsync -t`, `tar x`) can set
 * mtime back to an old value, but ctime is set by the kernel on every
 * change and cannot be chosen, so an edit followed by restoring the mtime
 * is still caught. Inode number and device catch files replaced by rename.
 *
 * ## What is hashed
 *
 * For a regular file, its data plus the extended attributes a layer keeps
 * (`security.capability`, `user.*`, `trusted.*` except overlay's): the
 * digest is the plain `sha256` of the data when there are none. For a
 * symlink, its target. For anything else (directories, devices), the
 * extended attributes only. Any change of these changes ctime, so the rule
 * above covers them too.
 *
 * ## Storage
 *
 * One text file (a header line, then one tab-separated line per entry),
 * written atomically: to a temporary file in the same directory, then
 * renamed over the old one; a crash leaves the old or the new file, never
 * a torn one. Concurrent builds sharing the file may lose each other's
 * updates (last writer wins), never correctness: every entry is checked
 * against the file before use. An unreadable or foreign file is treated as
 * empty. Lines are parsed lazily, on first lookup of their path.
 */
export class FileHashCache {
  readonly #path: string;
  readonly #entries: Map<string, Entry>;
  readonly #now: () => bigint;
  readonly #margin: bigint;
  #dirty = false;

  private constructor(path: string, entries: Map<string, Entry>, options: FileHashCacheOptions) {
    this.#path = path;
    this.#entries = entries;
    this.#now = options.now ?? realNow;
    this.#margin = options.marginNs ?? DEFAULT_MARGIN_NS;
  }

  /**
   * Loads the cache stored at `path` (a file; created on {@link save}). A
   * missing, unreadable or corrupt file gives an empty cache.
   */
  static async open(path: string, options: FileHashCacheOptions = {}): Promise<FileHashCache> {
    const entries = new Map<string, Entry>();
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined && text.startsWith(`${HEADER}\n`)) {
      let at = HEADER.length + 1;
      while (at < text.length) {
        let nl = text.indexOf("\n", at);
        if (nl < 0) nl = text.length;
        const tab = text.indexOf("\t", at);
        if (tab > at && tab < nl) entries.set(unescapePath(text.slice(at, tab)), text.slice(tab + 1, nl));
        at = nl + 1;
      }
    }
    return new FileHashCache(path, entries, options);
  }

  /**
   * A cache that lives only in memory ({@link save} does nothing): for
   * callers that do not keep hashes between builds.
   */
  static memory(options: FileHashCacheOptions = {}): FileHashCache {
    return new FileHashCache("", new Map(), options);
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The remembered digest of `absPath` if the entry may be trusted for the
   * file described by `st` (`lstat`, either form; see the class comment), without any I/O;
   * undefined otherwise.
   */
  lookup(absPath: string, st: FileStats): string | undefined {
    const raw = this.#entries.get(absPath);
    if (raw === undefined) return undefined;
    const key = statKey(st);
    const n = raw.length;
    // key \t hashedAt \t stable \t digest, checked in place.
    if (n < key.length + DIGEST_LENGTH + 4 || raw.charCodeAt(key.length) !== 9 || !raw.startsWith(key)) return undefined;
    if (raw.charCodeAt(n - DIGEST_LENGTH - 1) !== 9 || raw.charCodeAt(n - DIGEST_LENGTH - 2) !== 0x31 || raw.charCodeAt(n - DIGEST_LENGTH - 3) !== 9) {
      return undefined;
    }
    return raw.slice(n - DIGEST_LENGTH);
  }

  /**
   * The digest of `absPath` (see "What is hashed"), from the cache when the
   * entry may be trusted, else by reading the file. `st` is the caller's
   * `lstat` of the path (`BigIntStats`, or plain `Stats`: both give the
   * same key).
   *
   * @throws BuildError COPY_IO when the file cannot be read.
   */
  async hash(absPath: string, st: FileStats): Promise<string> {
    const cached = this.lookup(absPath, st);
    if (cached !== undefined) return cached;
    // Taken before reading: an edit during the read then has a newer timestamp than this.
    const hashedAt = this.#now();
    const { digest, key } = await computeDigest(absPath, st);
    const limitMs = Number(hashedAt - this.#margin) / 1e6;
    const { mtimeMs, ctimeMs } = timesOf(st);
    const stable = mtimeMs < limitMs && ctimeMs < limitMs;
    // key is undefined when the file changed between the caller's lstat and our read: do not remember that.
    if (key !== undefined) {
      this.#entries.delete(absPath);
      this.#entries.set(absPath, `${key}\t${hashedAt}\t${stable ? "1" : "0"}\t${digest}`);
      this.#dirty = true;
    }
    return digest;
  }

  /**
   * Writes the cache to its file if anything changed since it was opened
   * (temporary file + rename, creating the directory if needed).
   *
   * @throws BuildError COPY_IO when the file cannot be written.
   */
  async save(): Promise<void> {
    if (!this.#dirty || this.#path === "") return;
    const lines: string[] = [HEADER];
    // Bounded: past the limit, the entries stored first go (the newest hashes are kept).
    let skip = Math.max(0, this.#entries.size - MAX_ENTRIES);
    for (const [path, e] of this.#entries) {
      if (skip > 0) {
        skip--;
        continue;
      }
      lines.push(`${escapePath(path)}\t${e}`);
    }
    const tmp = `${this.#path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await mkdir(dirname(this.#path), { recursive: true });
      await writeFile(tmp, `${lines.join("\n")}\n`, { mode: 0o600 });
      await rename(tmp, this.#path);
      this.#dirty = false;
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new BuildError("COPY_IO", `cannot write file hash cache ${this.#path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Digest of the extended attributes plus `data` (a content digest or ""), or `data` alone without attributes. */
function withXattrs(xattrs: ReadonlyMap<string, Buffer> | undefined, data: string): string {
  if (xattrs === undefined || xattrs.size === 0) return data;
  const h = createHash("sha256").update("tsbuild-xattrs-1\n");
  for (const [name, value] of xattrs) {
    h.update(`${name}\0${value.length}\0`).update(value).update("\0");
  }
  h.update(data);
  return `sha256:${h.digest("hex")}`;
}

const EMPTY_DIGEST = `sha256:${createHash("sha256").digest("hex")}`;

function xattrsOf(absPath: string): ReadonlyMap<string, Buffer> | undefined {
  try {
    return readLayerXattrsSync(absPath);
  } catch (err) {
    throw new BuildError("COPY_IO", `cannot read extended attributes of ${absPath}: ${(err as Error).message}`, { cause: err });
  }
}

/** Feeds a small regular file to `h`; true when it still matches `key` before and after reading. */
function readSmallSync(absPath: string, key: string, h: ReturnType<typeof createHash>): boolean {
  const fd = openSync(absPath, READ_FLAGS);
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) throw new Error("not a regular file any more");
    for (;;) {
      const n = readSync(fd, SYNC_BUFFER, 0, SYNC_BUFFER.length, null);
      if (n === 0) break;
      h.update(SYNC_BUFFER.subarray(0, n));
    }
    return statKey(before) === key && statKey(fstatSync(fd)) === key;
  } finally {
    closeSync(fd);
  }
}

/** Feeds a regular file to `h` in chunks, asynchronously; true when it still matches `key`. */
async function readLarge(absPath: string, key: string, h: ReturnType<typeof createHash>): Promise<boolean> {
  const fh = await open(absPath, READ_FLAGS);
  try {
    const before = await fh.stat();
    if (!before.isFile()) throw new Error("not a regular file any more");
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      h.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
    }
    return statKey(before) === key && statKey(await fh.stat()) === key;
  } finally {
    await fh.close();
  }
}

/**
 * Reads and hashes one file. Returns the stat key to remember, or
 * undefined when the file no longer matches `st` (replaced or changed
 * since the caller's lstat).
 */
async function computeDigest(absPath: string, st: FileStats): Promise<{ digest: string; key: string | undefined }> {
  const key = statKey(st);
  const type = Number(st.mode) & constants.S_IFMT;
  try {
    if (type === constants.S_IFLNK) {
      const target = readlinkSync(absPath);
      return { digest: `sha256:${createHash("sha256").update(target).digest("hex")}`, key };
    }
    if (type !== constants.S_IFREG) {
      return { digest: withXattrs(xattrsOf(absPath), EMPTY_DIGEST), key };
    }
    const h = createHash("sha256");
    const same = st.size <= SYNC_READ_MAX ? readSmallSync(absPath, key, h) : await readLarge(absPath, key, h);
    const digest = withXattrs(xattrsOf(absPath), `sha256:${h.digest("hex")}`);
    return { digest, key: same ? key : undefined };
  } catch (err) {
    if (err instanceof BuildError) throw err;
    throw new BuildError("COPY_IO", `cannot read ${absPath}: ${(err as Error).message}`, { cause: err });
  }
}
