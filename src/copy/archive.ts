/**
 * ADD's local archive unpacking, as BuildKit does it
 * (solver/llbsolver/file/unpack.go and unpack_root.go):
 *
 * - A source is an archive when it is a regular file whose content,
 *   decompressed by magic number (gzip, bzip2, xz, zstd, or none),
 *   starts with a valid tar header. Anything else is copied as is. The
 *   file name does not matter.
 * - It is unpacked *into* the destination, which is created as a directory
 *   (0755, owned by the `--chown` user) whether or not it ends with `/`.
 * - Entries keep the archive's owner unless `--chown` is given, and their
 *   mode and times; `--chmod` does not apply.
 * - The destination directory is the root of the extraction, like
 *   `os.OpenRoot`: absolute symlink targets (in the archive or already in
 *   the destination) are resolved below it, and no entry, link or parent
 *   can land outside it (`..` is clamped at it, an escaping name is refused).
 *
 * Decompression of bzip2, xz and zstd runs the system `bzip2 -dc`,
 * `xz -dc` and `zstd -dc` (packages bzip2, xz-utils, zstd on Debian),
 * reading the file by path; gzip uses Node's zlib.
 */

import { spawn } from "node:child_process";
import { constants, createReadStream } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { xattr } from "../oci/xattr-binding.js";
import { BuildError } from "../diagnostics/build-error.js";
import { isLayerXattr } from "../oci/layer/entry.js";
import { BLOCK_SIZE, TarFormatError, decodeHeader, isZeroBlock } from "../oci/layer/tar-format.js";
import { readTar, type TarHeader } from "../oci/layer/tar-reader.js";
import { runTool } from "../snapshot/exec.js";
import { hostPath, resolveInRoot } from "./root-resolve.js";
import { ioError, throwIfAborted } from "./tree.js";

/** Compression detected from the first bytes of a file. */
export type Compression = "gzip" | "bzip2" | "xz" | "zstd" | "none";

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The compression of a file from its first (up to 6) bytes, as BuildKit's `archiveutil.DetectCompression`. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 3 && head.toString("latin1", 0, 3) === "BZh") return "bzip2";
  if (head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC)) return "xz";
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

const TOOLS: Record<Exclude<Compression, "gzip" | "none">, string> = { bzip2: "bzip2", xz: "xz", zstd: "zstd" };

/** The decompressed bytes of `path` as a stream, and a way to stop early. */
interface Opened {
  readonly stream: AsyncIterable<Buffer>;
  /** Stops reading (kills a decompressor process); safe to call twice. */
  close(): void;
  /** Resolves when a decompressor process has exited; rejects if it failed (after a full read). */
  readonly done: Promise<void>;
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function openDecompressed(path: string, compression: Compression): Opened {
  if (compression === "none" || compression === "gzip") {
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    if (compression === "none") return { stream: file, close: () => file.destroy(), done: Promise.resolve() };
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    file.on("error", (err) => gunzip.destroy(err));
    file.pipe(gunzip);
    return {
      stream: gunzip,
      close: () => {
        file.destroy();
        gunzip.destroy();
      },
      done: Promise.resolve(),
    };
  }
  const tool = TOOLS[compression];
  const child = spawn(tool, ["-dc", "--", path], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  let closed = false;
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (err) => reject(new BuildError("ADD_ARCHIVE_INVALID", `cannot run ${tool} to decompress ${path}: ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (closed || code === 0) resolve();
      else reject(new BuildError("ADD_ARCHIVE_INVALID", `${tool} cannot decompress ${path}: ${stderr.trim() || `exit status ${code}`}`));
    });
  });
  // Observed by whoever awaits it; never an unhandled rejection when only probing.
  done.catch(() => undefined);
  return {
    stream: child.stdout,
    close: () => {
      closed = true;
      child.stdout.destroy();
      if (child.exitCode === null) child.kill("SIGKILL");
    },
    done,
  };
}

/**
 * True when `path` is a regular file that unpacks: its decompressed
 * content starts with a valid tar header (Go's `tar.Reader.Next` succeeding,
 * as BuildKit's `isArchivePath` checks). Empty files, an all-zero first
 * block, and anything whose decompressor fails are not archives.
 */
export async function isArchive(path: string): Promise<boolean> {
  let head: Buffer;
  try {
    const st = await lstat(path);
    if (!st.isFile()) return false;
    head = await readHead(path, 6);
  } catch {
    return false;
  }
  const compression = detectCompression(head);
  const opened = openDecompressed(path, compression);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of opened.stream) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= BLOCK_SIZE) break;
    }
  } catch {
    return false;
  } finally {
    opened.close();
  }
  if (size < BLOCK_SIZE) return false;
  const block = Buffer.concat(chunks).subarray(0, BLOCK_SIZE);
  if (isZeroBlock(block)) return false;
  try {
    decodeHeader(block);
    return true;
  } catch {
    return false;
  }
}

/** Options for {@link extractArchive}. */
export interface ExtractArchiveOptions {
  /** `--chown` ids: override every entry's owner. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Cancels the extraction (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

function invalid(path: string, why: string, cause?: unknown): BuildError {
  return new BuildError("ADD_ARCHIVE_INVALID", `cannot unpack ${path}: ${why}`, cause === undefined ? {} : { cause });
}

/**
 * Splits a member name into clean components below the extraction root
 * (BuildKit `cleanRootTarPath`: a leading `/` is dropped, the rest cleaned;
 * a name still climbing out with `..` is refused). `[]` is the root.
 */
function memberParts(name: string, archive: string): string[] {
  const parts: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length === 0) throw invalid(archive, `archive path ${JSON.stringify(name)} is outside extraction root`);
      parts.pop();
      continue;
    }
    parts.push(c);
  }
  return parts;
}

/**
 * Unpacks the archive at `archive` into the existing directory `destHost`
 * (see the module comment for the rules). Returns the number of
 * non-directory entries and file bytes written.
 *
 * @throws BuildError ADD_ARCHIVE_INVALID for a corrupt archive, an escaping
 *   entry or an entry type that cannot be unpacked (devices); COPY_IO for
 *   write failures; ABORTED.
 */
export async function extractArchive(archive: string, destHost: string, options: ExtractArchiveOptions = {}): Promise<{ files: number; bytes: number }> {
  const { signal, owner } = options;
  const compression = detectCompression(await readHead(archive, 6));
  const opened = openDecompressed(archive, compression);
  const dirTimes: { host: string; atime: number; mtime: number }[] = [];
  let files = 0;
  let bytes = 0;

  /** Host path of an entry's parent directory, creating missing ones (0755, root-owned, as BuildKit). */
  const parentOf = async (parts: readonly string[]): Promise<string> => {
    const res = await resolveInRoot(destHost, parts.slice(0, -1).join("/"));
    for (let i = res.missingFrom; i < res.parts.length; i++) {
      const host = hostPath(destHost, res.parts.slice(0, i + 1));
      try {
        await mkdir(host, { mode: 0o755 });
        await lchown(host, 0, 0);
        await chmod(host, 0o755);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOTDIR" || code === "EEXIST") throw invalid(archive, `parent of ${JSON.stringify(parts.join("/"))} is not a directory`);
        throw ioError(`cannot create ${host}`, err);
      }
    }
    if (res.missingFrom === res.parts.length && res.parts.length > 0) {
      const st = await lstat(res.host);
      if (!st.isDirectory()) throw invalid(archive, `parent of ${JSON.stringify(parts.join("/"))} is not a directory`);
    }
    return res.host;
  };

  const apply = async (h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> => {
    throwIfAborted(signal);
    const parts = memberParts(h.name, archive);
    if (parts.length === 0) return;
    const base = parts[parts.length - 1] as string;
    const parentHost = await parentOf(parts);
    // A directory entry follows a symlink in its own place (BuildKit resolveRootPath with followLeaf); nothing else does.
    const target = h.type === "directory" ? (await resolveInRoot(destHost, parts.join("/"))).host : `${parentHost}/${base}`;
    const uid = owner?.uid ?? h.uid;
    const gid = owner?.gid ?? h.gid;
    let existing;
    try {
      existing = await lstat(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(`cannot stat ${target}`, err);
    }
    if (existing !== undefined && !(existing.isDirectory() && h.type === "directory")) {
      await rm(target, { recursive: true, force: true });
    }
    switch (h.type) {
      case "directory":
        if (existing === undefined || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
        await lchown(target, uid, gid);
        await chmod(target, h.mode);
        dirTimes.push({ host: target, atime: h.mtime, mtime: h.mtime });
        break;
      case "file": {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            throwIfAborted(signal);
            let off = 0;
            while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            bytes += chunk.length;
          }
          await fh.chown(uid, gid);
          await fh.chmod(h.mode);
        } finally {
          await fh.close();
        }
        await lutimes(target, h.mtime, h.mtime);
        files++;
        break;
      }
      case "symlink":
        // The target is stored verbatim: inside the image it resolves against the container's root.
        await symlink(h.linkname, target);
        await lchown(target, uid, gid);
        await lutimes(target, h.mtime, h.mtime);
        files++;
        break;
      case "link": {
        const linkParts = memberParts(h.linkname, archive);
        if (linkParts.length === 0) throw invalid(archive, `hard link ${JSON.stringify(h.name)} targets the extraction root`);
        const res = await resolveInRoot(destHost, linkParts.join("/"), { followLast: false });
        await link(res.host, target);
        const st = await lstat(target);
        await lchown(target, uid, gid);
        if (!st.isSymbolicLink()) {
          await chmod(target, h.mode);
          await lutimes(target, h.mtime, h.mtime);
        }
        files++;
        break;
      }
      case "fifo":
        await runTool("mknod", ["-m", "000", target, "p"], signal ? { signal } : {});
        await lchown(target, uid, gid);
        await chmod(target, h.mode);
        await lutimes(target, h.mtime, h.mtime);
        files++;
        break;
      default:
        throw invalid(archive, `unsupported tar entry ${JSON.stringify(h.name)} type ${JSON.stringify(h.typeflag)}`);
    }
    if (h.type !== "symlink") {
      for (const [name, value] of h.xattrs) {
        if (!isLayerXattr(name)) continue;
        await xattr().setAttribute(target, name, value).catch(() => undefined);
      }
    }
  };

  try {
    for await (const { header, body } of readTar(opened.stream)) await apply(header, body);
    await opened.done;
    // Deepest first: setting a parent's times before its children's would be undone by them.
    for (let i = dirTimes.length - 1; i >= 0; i--) {
      const t = dirTimes[i] as { host: string; atime: number; mtime: number };
      await lutimes(t.host, t.atime, t.mtime);
    }
  } catch (err) {
    opened.close();
    if (err instanceof BuildError) throw err;
    if (err instanceof TarFormatError) throw invalid(archive, err.message, err);
    if ((err as { code?: unknown }).code === "Z_DATA_ERROR" || (err as { code?: unknown }).code === "Z_BUF_ERROR") {
      throw invalid(archive, `corrupt gzip data: ${(err as Error).message}`, err);
    }
    throw ioError(`cannot unpack ${archive}`, err);
  }
  return { files, bytes };
}
