import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  createReadStream,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip, gunzipSync, type Gunzip } from "node:zlib";
import { xattr } from "../oci/xattr-binding.js";
import { BuildError, isBuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { WHITEOUT_META_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, isLayerXattr } from "../oci/layer/entry.js";
import { TarFormatError } from "../oci/layer/tar-format.js";
import { readTar, type TarHeader } from "../oci/layer/tar-reader.js";
import { asBuildError, xattrErrno } from "../oci/layer/walk.js";
import { runTool } from "./exec.js";

/** Layer bytes: a file path, a Node stream, or any async iterable of chunks. */
export type LayerInput = string | Readable | AsyncIterable<Uint8Array>;

/** Options for {@link extractLayer}. */
export interface ExtractLayerOptions {
  /**
   * The layer's diffID (sha256 of the uncompressed tar). When given, a
   * mismatch fails with BuildError DIGEST_MISMATCH after the whole stream
   * was read; the root's content must then be thrown away.
   */
  readonly expectedDiffId?: Digest;
  /** The layer blob's digest (sha256 of the bytes as given); checked like `expectedDiffId`. */
  readonly expectedDigest?: Digest;
  /** Cancels the extraction (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

/** What {@link extractLayer} computed while extracting. */
export interface ExtractLayerResult {
  /** sha256 of the uncompressed tar stream (the diffID). */
  readonly diffId: Digest;
  /** sha256 of the input bytes (the blob digest; equals diffId for a plain tar). */
  readonly digest: Digest;
  /** Input size in bytes. */
  readonly size: number;
  /** Uncompressed tar size in bytes. */
  readonly uncompressedSize: number;
  /** How the input was compressed. */
  readonly compression: "gzip" | "none";
}

function unsafe(entry: string, why: string): BuildError {
  return new BuildError("LAYER_UNSAFE", `layer entry "${entry}": ${why}`, {
    hint: "the layer was refused and must not be used; it may be corrupt or crafted",
  });
}

/**
 * Splits a tar member name into clean components, lexically, the way Go's
 * `filepath.Clean` does for Docker and containerd: absolute names are taken
 * relative to the root, `.` and empty components vanish, `x/..` cancels
 * out. A `..` that would climb above the root is refused (LAYER_UNSAFE)
 * instead of being clamped: no honest layer writer emits one.
 */
function components(name: string, what: string, entry: string): string[] {
  const parts: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length === 0) throw unsafe(entry, `${what} climbs out of the layer root with ".."`);
      parts.pop();
      continue;
    }
    parts.push(c);
  }
  return parts;
}

const ELOOP_LIMIT = 40; // Linux' MAXSYMLINKS

/**
 * Applies tar members to one directory, the future overlay lowerdir.
 *
 * Security model: the extraction root is private to us while we extract
 * (it is a fresh snapshot directory), so the only adversary is the tar.
 * Every path is resolved here, component by component, with lstat: the
 * kernel never follows a symlink on our behalf. A parent component that is
 * a symlink extracted earlier is resolved *textually* and only when its
 * target is relative and stays inside the root; absolute targets and
 * targets climbing above the root are refused (LAYER_UNSAFE) — we never
 * write through a link that points out. The last component is never
 * followed: it is removed and recreated (`O_EXCL|O_NOFOLLOW` for files), so
 * a symlink planted by an earlier member cannot redirect a write.
 *
 * Filesystem calls are synchronous on purpose: a layer is thousands of
 * tiny metadata operations (lstat, symlink, chown, utimes), and each
 * asynchronous one paid a thread-pool round trip several times its own
 * cost (the 278-entry busybox layer took about three times as long).
 * Only waiting for the next tar chunk yields to the event loop.
 */
class Applier {
  /** Root-relative paths known to be real directories (cache of lstat results). */
  private readonly knownDirs = new Set<string>([""]);
  /** Directory times to set at the end (adding children changes a dir's mtime). */
  private readonly dirTimes = new Map<string, number>();
  private whiteoutTemplate: string | undefined;

  constructor(
    private readonly root: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  private abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  private forget(rel: string): void {
    const prefix = `${rel}/`;
    for (const d of this.knownDirs) if (d === rel || d.startsWith(prefix)) this.knownDirs.delete(d);
    for (const d of this.dirTimes.keys()) if (d === rel || d.startsWith(prefix)) this.dirTimes.delete(d);
  }

  /**
   * Resolves directory components to a root-relative path made only of real
   * directories, creating missing ones (0755, root-owned, like containerd)
   * in `create` mode. In `existing-no-symlinks` mode (hard link targets) a
   * missing component gives undefined and any symlink is refused.
   */
  private resolveDir(
    parts: readonly string[],
    entry: string,
    mode: "create" | "existing-no-symlinks",
  ): string | undefined {
    const create = mode === "create";
    const queue = [...parts];
    const current: string[] = [];
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        // Only reachable through a symlink target: ".." above the root escapes.
        if (current.length === 0) throw unsafe(entry, "path goes through a symlink that points outside the layer");
        current.pop();
        continue;
      }
      const candidate = current.length === 0 ? c : `${current.join("/")}/${c}`;
      if (this.knownDirs.has(candidate)) {
        current.push(c);
        continue;
      }
      // throwIfNoEntry: a missing path is the common case in a fresh
      // extraction, and a thrown ENOENT costs an Error with its stack.
      const st = lstatSync(this.abs(candidate), { throwIfNoEntry: false });
      if (st === undefined) {
        if (!create) return undefined;
        mkdirSync(this.abs(candidate), { mode: 0o755 });
        this.knownDirs.add(candidate);
        current.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (!create) throw unsafe(entry, `hard link target goes through symlink "${candidate}"`);
        if (++links > ELOOP_LIMIT) throw unsafe(entry, "too many levels of symbolic links in its path");
        const target = readlinkSync(this.abs(candidate));
        if (target.startsWith("/")) {
          throw unsafe(entry, `path goes through symlink "${candidate}" -> "${target}", which points outside the layer`);
        }
        // Textual substitution: the link's target replaces the component,
        // relative to the directory holding the link.
        queue.unshift(...target.split("/"));
        continue;
      }
      if (!st.isDirectory()) {
        throw unsafe(entry, `parent "${candidate}" is not a directory`);
      }
      this.knownDirs.add(candidate);
      current.push(c);
    }
    return current.join("/");
  }

  /** Removes whatever is at `rel` (a directory recursively), never following a link. */
  private clear(rel: string, keepDir: boolean): boolean {
    // Most members are new: no exception for the usual ENOENT (see resolveDir).
    const st = lstatSync(this.abs(rel), { throwIfNoEntry: false });
    if (st === undefined) return false;
    if (keepDir && st.isDirectory()) return true;
    this.forget(rel);
    rmSync(this.abs(rel), { recursive: true, force: true });
    return false;
  }

  /** Applies one member. */
  async apply(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    this.checkAbort();
    const entry = h.name;
    const parts = components(h.name, "name", entry);
    if (parts.length === 0) {
      // The root itself: only a directory may describe it.
      if (h.type !== "directory") throw unsafe(entry, "only a directory can stand for the layer root");
      this.metadata("", h);
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentRel = this.resolveDir(parts.slice(0, -1), entry, "create");
    if (parentRel === undefined) throw new BuildError("INTERNAL", `cannot resolve parent of "${entry}"`);
    const rel = parentRel === "" ? base : `${parentRel}/${base}`;

    if (base.startsWith(WHITEOUT_PREFIX)) {
      await this.whiteout(parentRel, base, h);
      return;
    }

    switch (h.type) {
      case "directory": {
        if (!this.clear(rel, true)) {
          mkdirSync(this.abs(rel), { mode: 0o700 });
        }
        this.knownDirs.add(rel);
        this.metadata(rel, h);
        return;
      }
      case "file": {
        this.clear(rel, false);
        // O_EXCL|O_NOFOLLOW: create a new inode here, never open an existing
        // one and never through a link.
        const fd = openSync(this.abs(rel), fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            this.checkAbort();
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
        } finally {
          closeSync(fd);
        }
        this.metadata(rel, h);
        return;
      }
      case "symlink": {
        if (h.linkname === "") throw unsafe(entry, "symlink with an empty target");
        this.clear(rel, false);
        // The target is stored as is: it is only ever interpreted inside the
        // container (overlay resolves it against the container's root) or
        // textually by resolveDir, which refuses escaping targets.
        symlinkSync(h.linkname, this.abs(rel));
        this.metadata(rel, h);
        return;
      }
      case "link": {
        const targetParts = components(h.linkname, "hard link target", entry);
        if (targetParts.length === 0) throw unsafe(entry, "hard link to the layer root");
        // Stricter than for member paths: a hard link target is named by an
        // earlier member, so its path has no reason to cross a symlink.
        const targetParent = this.resolveDir(targetParts.slice(0, -1), entry, "existing-no-symlinks");
        const targetRel =
          targetParent === undefined
            ? undefined
            : targetParent === ""
              ? targetParts[targetParts.length - 1]!
              : `${targetParent}/${targetParts[targetParts.length - 1]!}`;
        const targetStat = targetRel === undefined ? undefined : lstatSync(this.abs(targetRel), { throwIfNoEntry: false });
        if (targetRel === undefined || targetStat === undefined) {
          throw unsafe(entry, `hard link target "${h.linkname}" is not an earlier member of this layer`);
        }
        if (targetStat.isDirectory()) throw unsafe(entry, `hard link to directory "${h.linkname}"`);
        if (targetRel === rel) throw unsafe(entry, "hard link to itself");
        this.clear(rel, false);
        // link(2) does not follow a symlink target: linking to a symlink
        // links the symlink itself. Metadata belongs to the shared inode and
        // was set by the member that created it.
        linkSync(this.abs(targetRel), this.abs(rel));
        return;
      }
      case "char-device":
      case "block-device":
        this.clear(rel, false);
        await runTool("mknod", [this.abs(rel), h.type === "char-device" ? "c" : "b", String(h.devmajor), String(h.devminor)], this.toolOptions());
        this.metadata(rel, h);
        return;
      case "fifo":
        this.clear(rel, false);
        await runTool("mkfifo", [this.abs(rel)], this.toolOptions());
        this.metadata(rel, h);
        return;
      case "unsupported":
        throw unsafe(entry, `unsupported tar entry type "${h.typeflag}"`);
    }
  }

  private toolOptions(): { signal?: AbortSignal } {
    return this.signal ? { signal: this.signal } : {};
  }

  private checkAbort(): void {
    if (this.signal?.aborted === true) {
      throw new BuildError("ABORTED", "layer extraction cancelled", { cause: this.signal.reason });
    }
  }

  /**
   * OCI whiteouts → overlayfs form, since this directory becomes an overlay
   * lowerdir: `.wh..wh..opq` → `trusted.overlay.opaque=y` on the directory,
   * `.wh.NAME` → character device 0/0 named NAME (containerd's
   * OverlayConvertWhiteout does the same).
   */
  private async whiteout(parentRel: string, base: string, h: TarHeader): Promise<void> {
    if (base === WHITEOUT_OPAQUE) {
      xattr().setAttributeSync(this.abs(parentRel), "trusted.overlay.opaque", "y");
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return; // AUFS bookkeeping (.wh..wh.plnk...): not content.
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") throw unsafe(h.name, "whiteout without a valid name");
    const rel = parentRel === "" ? name : `${parentRel}/${name}`;
    this.clear(rel, false);
    await this.linkWhiteout(rel);
  }

  /**
   * Creates the 0/0 device at `rel`. Node cannot mknod, and spawning
   * `mknod` per whiteout costs milliseconds (a package purge deletes
   * thousands of files); so one device is made per layer and hard-linked —
   * overlayfs itself shares one inode among its whiteouts the same way.
   */
  private async linkWhiteout(rel: string): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.whiteoutTemplate === undefined) {
        const template = `.tsbuild-whiteout-${randomBytes(8).toString("hex")}`;
        await runTool("mknod", ["-m", "000", this.abs(template), "c", "0", "0"], this.toolOptions());
        this.whiteoutTemplate = template;
      }
      try {
        linkSync(this.abs(this.whiteoutTemplate), this.abs(rel));
        return;
      } catch (err) {
        // Too many links on the template: start a new one.
        if ((err as NodeJS.ErrnoException).code !== "EMLINK") throw err;
        this.dropTemplate();
      }
    }
    throw new BuildError("INTERNAL", `cannot create whiteout "${rel}"`);
  }

  /** Removes the whiteout template (its links stay). */
  dropTemplate(): void {
    if (this.whiteoutTemplate === undefined) return;
    const t = this.whiteoutTemplate;
    this.whiteoutTemplate = undefined;
    try {
      unlinkSync(this.abs(t));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /**
   * Owner, mode, xattrs and times, in that order: chown clears setuid/setgid
   * and file capabilities, so mode and xattrs come after it.
   */
  private metadata(rel: string, h: TarHeader): void {
    const path = this.abs(rel);
    lchownSync(path, h.uid, h.gid);
    if (h.type !== "symlink") chmodSync(path, h.mode);
    for (const [name, value] of h.xattrs) {
      // Only attributes a layer may carry; overlay's private ones never.
      if (!isLayerXattr(name)) continue;
      try {
        xattr().setAttributeSync(path, name, value);
      } catch (err) {
        // Linux forbids user.* attributes on symlinks and devices; Go's
        // archive appliers skip those the same way.
        if (name.startsWith("user.") && h.type !== "file" && h.type !== "directory" && xattrErrno(err) === 1) continue;
        throw unsafe(h.name, `cannot set extended attribute ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (h.type === "directory") {
      this.dirTimes.set(rel, h.mtime);
    } else {
      lutimesSync(path, h.mtime, h.mtime);
    }
  }

  /** Sets the deferred directory times (after every child is in place). */
  finish(): void {
    this.dropTemplate();
    for (const [rel, mtime] of this.dirTimes) {
      this.checkAbort();
      lutimesSync(this.abs(rel), mtime, mtime);
    }
  }
}

/** zlib stream errors carry codes like Z_DATA_ERROR (corrupt) or Z_BUF_ERROR (truncated). */
function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return !(err instanceof BuildError) && typeof code === "string" && code.startsWith("Z_");
}

/** Whether `signal` fired (a function, so TypeScript does not narrow across awaits). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Reads the first bytes of a stream and hands back an iterable that replays them. */
async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const buffered: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    buffered.push(r.value);
    size += r.value.byteLength;
  }
  const head = Buffer.concat(buffered).subarray(0, n);
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: async function* () {
      yield* buffered;
      if (done) return;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done === true) return;
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    },
  };
  return { head, rest };
}

function toIterable(input: LayerInput): AsyncIterable<Uint8Array> {
  if (typeof input === "string") return createReadStream(input, { highWaterMark: 1 << 20 });
  return input as AsyncIterable<Uint8Array>;
}

/** Blob files up to this size are read and inflated in one synchronous call each. */
const SMALL_BLOB = 8 << 20;
/** Most bytes a small blob may inflate to in one call; more (a compression bomb, a huge sparse file) falls back to streaming. */
const SMALL_TAR = 64 << 20;

/**
 * A small blob file's bytes, read at once; undefined for larger files and
 * for streams. Why: a base image layer of a few MB went through ~100
 * thread-pool round trips (file reads, gunzip chunks), each two cross-CPU
 * wake-ups, for ~5 ms of actual inflating.
 */
function readSmallBlob(input: LayerInput): Buffer | undefined {
  if (typeof input !== "string") return undefined;
  const size = statSync(input).size;
  return size <= SMALL_BLOB ? readFileSync(input) : undefined;
}

/** `blob` inflated in one call, or undefined when it inflates to more than {@link SMALL_TAR} (then it is streamed). */
function gunzipSmall(blob: Buffer): Buffer | undefined {
  try {
    return gunzipSync(blob, { maxOutputLength: SMALL_TAR });
  } catch (err) {
    if ((err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") return undefined;
    throw err;
  }
}

/**
 * A small blob (`whole`, already hashed by peek: `rest` only replays it)
 * inflated in one call, or streamed through {@link gunzipped} when it
 * inflates past {@link SMALL_TAR}. Invalid gzip throws zlib's error while
 * iterating, as the streaming path does.
 */
async function* gunzippedWhole(whole: Buffer, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const inflated = gunzipSmall(whole);
  if (inflated === undefined) {
    yield* gunzipped(rest);
    return;
  }
  // Let the input end (nothing is left in it to hash).
  for await (const chunk of rest) void chunk;
  yield inflated;
}

/** One chunk as an async iterable. */
async function* once(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

/**
 * Passes chunks through, feeding a hash and a byte counter. Each wait for
 * the next chunk races `signal`, so a stalled input (a registry connection
 * that hangs) cannot keep a cancelled extraction alive.
 */
async function* hashing(
  source: AsyncIterable<Uint8Array>,
  hash: ReturnType<typeof createHash>,
  count: { n: number },
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted =
    signal === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          onAbort = () => reject(new BuildError("ABORTED", "layer extraction cancelled", { cause: signal.reason }));
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        });
  aborted?.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const r = aborted === undefined ? await it.next() : await Promise.race([it.next(), aborted]);
      if (r.done === true) {
        finished = true;
        return;
      }
      hash.update(r.value);
      count.n += r.value.byteLength;
      yield r.value;
    }
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    // Release the input; not awaited when a next() may still be pending.
    if (!finished) void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/**
 * Feeds `source` into gunzip and yields its output. Every input byte is
 * read, even after the gzip stream ended, so the blob digest covers it all.
 */
async function* gunzipped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const gunzip: Gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let feedError: unknown;
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        // The consumer may have stopped (and destroyed gunzip) meanwhile; a
        // destroyed stream never emits "drain" again, so check before waiting.
        if (gunzip.destroyed) return;
        if (!gunzip.write(chunk)) {
          if (gunzip.destroyed) return;
          await new Promise<void>((resolve) => {
            const done = (): void => {
              gunzip.off("drain", done);
              gunzip.off("close", done);
              resolve();
            };
            gunzip.on("drain", done);
            gunzip.on("close", done);
          });
        }
      }
      if (!gunzip.destroyed) gunzip.end();
    } catch (err) {
      feedError = err;
      gunzip.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    if (feedError !== undefined) throw feedError;
    throw err;
  } finally {
    if (!gunzip.destroyed) gunzip.destroy();
    await feeding;
  }
  if (feedError !== undefined) throw feedError;
}

/**
 * Extracts one OCI / Docker layer (a tar, gzip-compressed or not — detected
 * by its magic bytes) into `root`, a directory that becomes an overlay
 * lowerdir. Streams: the layer is never held in memory.
 *
 * - Safety: no member may land outside `root` (see {@link Applier});
 *   `..` components, symlinks and hard links leading out, and unknown entry
 *   types are refused with BuildError LAYER_UNSAFE naming the member.
 * - Whiteouts become overlayfs whiteouts (char device 0/0 for `.wh.NAME`,
 *   `trusted.overlay.opaque=y` for `.wh..wh..opq`).
 * - Modes (setuid/setgid/sticky included), numeric uid/gid, mtimes, device
 *   nodes, fifos, hard links and `SCHILY.xattr.*` attributes are restored
 *   (we run as root); overlay's own `trusted.overlay.*` attributes are not.
 * - The diffID and blob digest are computed on the way and checked against
 *   `expectedDiffId` / `expectedDigest` (DIGEST_MISMATCH).
 *
 * On any error `root` is left partially written: the caller extracts into
 * a fresh directory and deletes it on failure (never reusing it), renaming
 * it into place only on success — that is what makes a crash harmless.
 */
export async function extractLayer(
  input: LayerInput,
  root: string,
  options: ExtractLayerOptions = {},
): Promise<ExtractLayerResult> {
  const { signal } = options;
  if (signal?.aborted === true) throw new BuildError("ABORTED", "layer extraction cancelled", { cause: signal.reason });
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (err) {
    throw asBuildError(err, `cannot use extraction root ${root}`);
  }
  if (!(await lstat(rootReal)).isDirectory()) throw new BuildError("INTERNAL", `extraction root ${root} is not a directory`);

  const blobHash = createHash("sha256");
  const blobCount = { n: 0 };
  const tarHash = createHash("sha256");
  const tarCount = { n: 0 };

  let peeked: Awaited<ReturnType<typeof peek>>;
  let whole: Buffer | undefined;
  try {
    whole = readSmallBlob(input);
    peeked = await peek(hashing(whole === undefined ? toIterable(input) : once(whole), blobHash, blobCount, signal), 6);
  } catch (err) {
    if (err instanceof BuildError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new BuildError("IO_READ", `cannot read layer: ${message}`, { cause: err });
  }
  const { head, rest } = peeked;
  let compression: "gzip" | "none";
  let tarBytes: AsyncIterable<Uint8Array>;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    compression = "gzip";
    tarBytes = whole === undefined ? gunzipped(rest) : gunzippedWhole(whole, rest);
  } else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    throw new BuildError("LAYER_UNSAFE", "zstd-compressed layers are not supported yet", {
      hint: "pull the gzip variant of the image, or rebuild it with gzip compression",
    });
  } else {
    compression = "none";
    tarBytes = rest;
  }

  const applier = new Applier(rootReal, signal);
  try {
    for await (const { header, body } of readTar(hashing(tarBytes, tarHash, tarCount, signal))) {
      try {
        await applier.apply(header, body);
      } catch (err) {
        if (err instanceof BuildError || err instanceof TarFormatError || isZlibError(err)) throw err;
        // A filesystem error (ENOSPC, ENAMETOOLONG...): say which member.
        const message = err instanceof Error ? err.message : String(err);
        throw new BuildError("INTERNAL", `cannot extract layer entry "${header.name}": ${message}`, { cause: err });
      }
    }
    applier.finish();
  } catch (err) {
    try {
      applier.dropTemplate();
    } catch {
      // Best effort: the caller discards the whole root after a failure.
    }
    if (isAborted(signal) && !isBuildError(err, "ABORTED")) {
      throw new BuildError("ABORTED", "layer extraction cancelled", { cause: err });
    }
    if (err instanceof TarFormatError) {
      throw new BuildError("LAYER_UNSAFE", `layer is not a valid tar stream: ${err.message}`, { cause: err });
    }
    if (isZlibError(err)) {
      throw new BuildError("LAYER_UNSAFE", `layer is not valid gzip: ${(err as Error).message}`, { cause: err });
    }
    if (err instanceof BuildError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new BuildError("INTERNAL", `cannot read layer: ${message}`, { cause: err });
  }

  const diffId: Digest = `sha256:${tarHash.digest("hex")}`;
  const digest: Digest = `sha256:${blobHash.digest("hex")}`;
  if (options.expectedDigest !== undefined && options.expectedDigest !== digest) {
    throw new BuildError("DIGEST_MISMATCH", `layer blob digest is ${digest}, expected ${options.expectedDigest}`);
  }
  if (options.expectedDiffId !== undefined && options.expectedDiffId !== diffId) {
    throw new BuildError("DIGEST_MISMATCH", `layer diffID is ${diffId}, expected ${options.expectedDiffId}`, {
      hint: "the layer content does not match the image config; discard the extracted directory",
    });
  }
  return { diffId, digest, size: blobCount.n, uncompressedSize: tarCount.n, compression };
}
