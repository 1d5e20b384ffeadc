import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { TimeSlice } from "../../util/time-slice.js";
import { xattr } from "../xattr-binding.js";
import { BuildError } from "../../diagnostics/build-error.js";
import { compareUtf8, isLayerXattr, type LayerEntry, type LayerEntryType } from "./entry.js";

/** Options for {@link walkDirectory}. */
export interface WalkOptions {
  /** Cancels the walk (rejects with BuildError ABORTED). */
  readonly signal?: AbortSignal;
  /**
   * Which extended attributes to read: `layer` (default) keeps those
   * {@link isLayerXattr} accepts; `all` keeps every one, including
   * `trusted.overlay.*` (for the overlay diff, which interprets and drops them).
   */
  readonly xattrs?: "layer" | "all";
}

/** Throws BuildError ABORTED when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new BuildError("ABORTED", "layer operation cancelled", { cause: signal.reason });
  }
}

/**
 * `err` as a BuildError: BuildErrors pass through, anything else (a
 * filesystem error) becomes INTERNAL with `context` in front of its message.
 */
export function asBuildError(err: unknown, context: string): BuildError {
  if (err instanceof BuildError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BuildError("INTERNAL", `${context}: ${message}`, { cause: err });
}

/** Linux `major()` / `minor()` of a device number. */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The errno number in a @napi-rs/xattr error message ("... (os error 95)"), if any. */
export function xattrErrno(err: unknown): number | undefined {
  const m = /os error (\d+)/.exec(err instanceof Error ? err.message : String(err));
  return m === null ? undefined : Number(m[1]);
}

const ENOTSUP = 95;
const ENODATA = 61;

/**
 * Reads the extended attributes of `path` that `filter` accepts (never
 * following a symlink), sorted by name; undefined when there are none or
 * the file system has no xattrs.
 *
 * Why synchronous: walks and copies read them for every file, and the
 * asynchronous binding costs a thread-pool round trip for what is almost
 * always an empty list; the `llistxattr` call itself takes a few
 * microseconds.
 */
export function readXattrsSync(path: string, filter: (name: string) => boolean): Map<string, Buffer> | undefined {
  let names: string[];
  try {
    names = xattr().listAttributesSync(path);
  } catch (err) {
    if (xattrErrno(err) === ENOTSUP) return undefined;
    throw err;
  }
  if (names.length === 0) return undefined;
  const wanted = names.filter(filter).sort(compareUtf8);
  if (wanted.length === 0) return undefined;
  const out = new Map<string, Buffer>();
  for (const name of wanted) {
    try {
      const value = xattr().getAttributeSync(path, name);
      if (value !== null) out.set(name, value);
    } catch (err) {
      // Removed between list and get: the attribute is simply gone.
      if (xattrErrno(err) !== ENODATA) throw err;
    }
  }
  return out.size === 0 ? undefined : out;
}

function typeOf(st: Stats): LayerEntryType | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isFIFO()) return "fifo";
  // Sockets cannot be represented in tar; Docker and BuildKit skip them too.
  return undefined;
}

/** One walked file with the stat data the diff needs beyond {@link LayerEntry}. */
export interface WalkedEntry extends LayerEntry {
  /** Raw `rdev` (device files). */
  readonly rdev: number;
}

/**
 * Lists every file under `root` (not `root` itself) as layer entries,
 * sorted by path in byte order, never following symlinks. Regular files
 * with several links inside the tree become one `file` (the first path in
 * sort order) and `hardlink` entries pointing at it, so the tar keeps them
 * linked; other types are never grouped (overlayfs shares one inode among
 * its whiteouts, which must stay separate entries).
 *
 * The system calls are synchronous, in slices of 10 ms between event-loop
 * turns ({@link TimeSlice}): a diff walks every file of a layer, and the
 * thread-pool hand-off of the asynchronous forms cost more than the calls.
 */
export async function walkDirectory(root: string, options: WalkOptions = {}): Promise<WalkedEntry[]> {
  const { signal } = options;
  const filter = options.xattrs === "all" ? () => true : isLayerXattr;
  const out: WalkedEntry[] = [];
  /** Inode keys of regular files with more than one link. */
  const inodes = new Map<WalkedEntry, string>();
  const slice = new TimeSlice();

  async function visit(rel: string): Promise<void> {
    throwIfAborted(signal);
    const abs = rel === "" ? root : join(root, rel);
    const children: WalkedEntry[] = [];
    for (const name of readdirSync(abs)) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const childAbs = join(root, childRel);
      const st = lstatSync(childAbs);
      const type = typeOf(st);
      if (type === undefined) continue;
      const xattrs = readXattrsSync(childAbs, filter);
      const { major, minor } = splitDevice(st.rdev);
      const device = type === "char-device" || type === "block-device";
      const entry: WalkedEntry = {
        path: childRel,
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtimeMs: st.mtimeMs,
        size: type === "file" ? st.size : 0,
        rdev: st.rdev,
        ...(type === "symlink" ? { linkTarget: readlinkSync(childAbs) } : {}),
        ...(device ? { devMajor: major, devMinor: minor } : {}),
        ...(xattrs !== undefined ? { xattrs } : {}),
        ...(type === "file" ? { sourcePath: childAbs } : {}),
      };
      if (type === "file" && st.nlink > 1) inodes.set(entry, `${st.dev}:${st.ino}`);
      children.push(entry);
      if (slice.due()) {
        await slice.yield();
        throwIfAborted(signal);
      }
    }
    for (const child of children) {
      out.push(child);
      if (child.type === "directory") await visit(child.path);
    }
  }

  try {
    const rootStat = lstatSync(root);
    if (!rootStat.isDirectory()) {
      throw new BuildError("INTERNAL", `cannot walk ${root}: not a directory`);
    }
    await visit("");
  } catch (err) {
    throw asBuildError(err, `cannot read directory tree ${root}`);
  }
  out.sort((a, b) => compareUtf8(a.path, b.path));

  // Hard links: the first path (in sort order) of an inode is the file, the
  // others link to it; the writer emits the first one first.
  const firstOfInode = new Map<string, string>();
  return out.map((e) => {
    const inode = inodes.get(e);
    if (inode === undefined) return e;
    const first = firstOfInode.get(inode);
    if (first === undefined) {
      firstOfInode.set(inode, e.path);
      return e;
    }
    return {
      path: e.path,
      type: "hardlink",
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtimeMs: e.mtimeMs,
      size: 0,
      rdev: 0,
      linkTarget: first,
    };
  });
}
