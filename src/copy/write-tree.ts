import { chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { chmod, lchown, writeFile } from "node:fs/promises";
import { xattr } from "../oci/xattr-binding.js";
import { BuildError } from "../diagnostics/build-error.js";
import { splitDevice } from "../oci/layer/walk.js";
import { runTool } from "../snapshot/exec.js";
import type { ChmodSpec } from "./chmod.js";
import { destConflict } from "./errors.js";
import { TaskPool } from "./pool.js";
import { ioError, throwIfAborted, type TreeEntry } from "./tree.js";
import { readLayerXattrsSync } from "./xattrs.js";
import { TimeSlice } from "../util/time-slice.js";

/** How copied entries are owned and moded. */
export interface WriteTreeOptions {
  /** `--chown` ids: every copied entry gets them. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Without `owner`: keep the source's ids (COPY --from) instead of 0:0 (context). */
  readonly keepOwnership: boolean;
  /** `--chmod`: applied to every copied file and directory (not symlinks). */
  readonly chmod?: ChmodSpec;
  /** Cancels the copy (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

/** Special files (mknod runs as a tool) created concurrently. */
const SPECIAL_CONCURRENCY = 4;

/** Effective ids of this process: files it creates start owned by them. */
const EUID = process.geteuid?.() ?? 0;
const EGID = process.getegid?.() ?? 0;

/** A directory being written into: its host path, container path, and whether it is new (so empty). */
interface DirContext {
  readonly host: string;
  readonly path: string;
  /** Created by this copy: no entry can be in the way. */
  readonly fresh: boolean;
  /** Set-group-id: new entries inherit its group instead of ours. */
  readonly setgid: boolean;
}

/** An entry's times, set after its contents (writing into a directory changes its mtime). */
interface DeferredTimes {
  readonly host: string;
  readonly atime: number;
  readonly mtime: number;
}

function seconds(ms: number): number {
  return ms / 1000;
}

/**
 * Copies selected trees into the destination with `cp -a` semantics, as
 * tonistiigi/fsutil's `copy` does for BuildKit: modes, times and extended
 * attributes are kept; symlinks stay symlinks; hard links within one copy
 * stay linked; devices and FIFOs are recreated; sockets become empty files.
 * Owner: `--chown`, else the source's (`keepOwnership`), else 0:0.
 *
 * Why the write discipline: the destination is an image's filesystem and
 * may hold symlinks anywhere. Every target is a name inside a directory
 * that was verified (lstat) or created by this copy; an existing
 * non-directory in the way is unlinked (which never follows a symlink)
 * and the new file is created with `O_EXCL` (`COPYFILE_EXCL`), which fails
 * rather than write through a symlink. A directory never replaces a
 * non-directory and vice versa (BuildKit errors the same way).
 *
 * Why synchronous system calls: a copy is a long run of small metadata
 * calls (create, copy, chown, utimes per file). Through libuv's thread pool
 * each call costs two thread wake-ups, and on a virtual machine a wake-up
 * across CPUs is an interrupt to the hypervisor: on the 2-core reference
 * machine the wake-ups (`futex_wake`, `try_to_wake_up`) took more CPU than
 * the copies. The writer makes the calls on the main thread instead and
 * yields to the event loop every 10 ms ({@link TimeSlice}), so progress
 * output and parallel stages keep running. Special files still go through
 * `mknod` as a tool, a few at a time.
 */
export class TreeWriter {
  /** Non-directory entries written. */
  files = 0;
  /** Bytes of regular file data written. */
  bytes = 0;

  readonly #opts: WriteTreeOptions;
  readonly #pool = new TaskPool(SPECIAL_CONCURRENCY);
  readonly #times: DeferredTimes[] = [];
  /** First copy of each multiply-linked source inode (`dev:ino`), to link the others to. */
  readonly #links = new Map<string, string>();
  /** Paces the synchronous calls (see the class comment). */
  readonly #slice = new TimeSlice();

  constructor(opts: WriteTreeOptions) {
    this.#opts = opts;
  }

  /**
   * Copies `children` into the existing directory `dir` (host path),
   * merging with what is there. `path` is its container path (for
   * messages) and `fresh` tells whether this copy just created it.
   */
  async writeChildren(children: readonly TreeEntry[], host: string, path: string, fresh: boolean): Promise<void> {
    await this.#children(children, { host, path, fresh, setgid: this.#isSetgid(host) });
  }

  /**
   * Writes one non-directory entry at host path `target` (container path
   * `path`), whose parent directory exists. A directory at `target` is an
   * error (BuildKit: "cannot replace to directory ... with file").
   */
  async writeFileAt(entry: TreeEntry, target: string, path: string): Promise<void> {
    const parent = target.slice(0, target.lastIndexOf("/")) || "/";
    await this.#leaf(entry, target, path, false, this.#isSetgid(parent));
  }

  /**
   * Writes a file with the given content at host path `target` (container
   * path `path`): a heredoc source. It gets `mode`, the COPY's owner, and
   * the current time.
   */
  async writeDataAt(data: string, target: string, path: string, mode: number): Promise<void> {
    await this.#pool.drain();
    this.#clear(target, path);
    try {
      await writeFile(target, data, { flag: "wx", mode: 0o600 });
      const owner = this.#opts.owner ?? { uid: 0, gid: 0 };
      await lchown(target, owner.uid, owner.gid);
      await chmod(target, mode);
    } catch (err) {
      throw ioError(`cannot write ${path}`, err);
    }
    this.files++;
    this.bytes += Buffer.byteLength(data);
  }

  /** Records times to set on `host` once everything is written (a copied directory's own times). */
  deferTimes(host: string, entry: TreeEntry): void {
    this.#times.push({ host, atime: seconds(entry.st.atimeMs), mtime: seconds(entry.st.mtimeMs) });
  }

  /** Waits until no special-file creation is in flight, ignoring their failures (used when giving up after an error). */
  async settle(): Promise<void> {
    await this.#pool.settle();
  }

  /** Waits for the pending special-file creations. */
  async flush(): Promise<void> {
    await this.#pool.drain();
  }

  /** Waits for the pending special files, then sets directory times (deepest last-registered first). */
  async finish(): Promise<void> {
    await this.#pool.drain();
    for (let i = this.#times.length - 1; i >= 0; i--) {
      const t = this.#times[i] as DeferredTimes;
      try {
        lutimesSync(t.host, t.atime, t.mtime);
      } catch (err) {
        throw ioError(`cannot set times of ${t.host}`, err);
      }
      await this.#slice.yieldIfDue();
    }
    this.#times.length = 0;
  }

  #isSetgid(host: string): boolean {
    try {
      return (lstatSync(host).mode & 0o2000) !== 0;
    } catch (err) {
      throw ioError(`cannot stat ${host}`, err);
    }
  }

  async #children(children: readonly TreeEntry[], dir: DirContext): Promise<void> {
    for (const child of children) {
      throwIfAborted(this.#opts.signal);
      const target = `${dir.host}/${child.name}`;
      const path = dir.path === "/" ? `/${child.name}` : `${dir.path}/${child.name}`;
      if (child.kind === "dir") {
        await this.#dir(child, target, path, dir);
      } else {
        await this.#leaf(child, target, path, dir.fresh, dir.setgid);
      }
    }
  }

  /** Writes a non-directory: files and symlinks synchronously, special files through the pool. */
  async #leaf(entry: TreeEntry, target: string, path: string, fresh: boolean, parentSetgid: boolean): Promise<void> {
    if (entry.kind === "fifo" || entry.kind === "char" || entry.kind === "block") {
      await this.#pool.run(() => this.#writeSpecial(entry, target, path, fresh, parentSetgid));
      return;
    }
    this.#writeLeaf(entry, target, path, fresh, parentSetgid);
    await this.#slice.yieldIfDue();
  }

  /** The ids an entry gets. */
  #ownerOf(entry: TreeEntry): { uid: number; gid: number } {
    if (this.#opts.owner !== undefined) return this.#opts.owner;
    if (this.#opts.keepOwnership) return { uid: entry.st.uid, gid: entry.st.gid };
    return { uid: 0, gid: 0 };
  }

  /** The permission bits an entry gets. */
  #modeOf(entry: TreeEntry): number {
    const mode = entry.st.mode & 0o7777;
    return this.#opts.chmod === undefined ? mode : this.#opts.chmod.apply(mode, entry.kind === "dir");
  }

  async #dir(entry: TreeEntry, target: string, path: string, parent: DirContext): Promise<void> {
    let fresh = true;
    if (!parent.fresh) {
      let existing;
      try {
        existing = lstatSync(target, { throwIfNoEntry: false });
      } catch (err) {
        throw ioError(`cannot stat ${target}`, err);
      }
      if (existing !== undefined) {
        // fsutil copyDirectoryOnly: a directory merges into a directory, never replaces anything else.
        if (!existing.isDirectory()) throw destConflict(`cannot copy to non-directory: ${path}`);
        fresh = false;
      }
    }
    if (fresh) {
      try {
        mkdirSync(target, { mode: 0o700 });
      } catch (err) {
        throw ioError(`cannot create directory ${path}`, err);
      }
    }
    // Existing directories take the source's metadata too (fsutil overwriteTargetMetadata for sub-directories).
    const mode = this.#modeOf(entry);
    this.#metadata(entry, target, path, mode, true, false);
    this.deferTimes(target, entry);
    await this.#children(entry.children ?? [], { host: target, path, fresh, setgid: (mode & 0o2000) !== 0 });
  }

  /** A regular file, symlink or socket, with its metadata. */
  #writeLeaf(entry: TreeEntry, target: string, path: string, fresh: boolean, parentSetgid: boolean): void {
    if (!fresh) this.#clear(target, path);
    try {
      switch (entry.kind) {
        case "file":
          this.#file(entry, target);
          break;
        case "symlink":
          symlinkSync(readlinkSync(entry.abs), target);
          break;
        case "socket":
          writeFileSync(target, "", { flag: "wx", mode: 0o600 });
          break;
        default:
          throw new BuildError("INTERNAL", `${entry.kind} ${path} passed as a plain leaf`);
      }
    } catch (err) {
      throw ioError(`cannot copy to ${path}`, err);
    }
    this.#finishLeaf(entry, target, path, parentSetgid);
  }

  /** A FIFO or device node, made by `mknod` (there is no mknod in Node's API), with its metadata. */
  async #writeSpecial(entry: TreeEntry, target: string, path: string, fresh: boolean, parentSetgid: boolean): Promise<void> {
    throwIfAborted(this.#opts.signal);
    if (!fresh) this.#clear(target, path);
    try {
      if (entry.kind === "fifo") {
        await runTool("mknod", ["-m", "000", target, "p"], this.#toolOptions());
      } else {
        const { major, minor } = splitDevice(entry.st.rdev);
        await runTool("mknod", ["-m", "000", target, entry.kind === "char" ? "c" : "b", String(major), String(minor)], this.#toolOptions());
      }
    } catch (err) {
      throw ioError(`cannot copy to ${path}`, err);
    }
    this.#finishLeaf(entry, target, path, parentSetgid);
  }

  /** Owner, mode, xattrs and times of a just-written non-directory. */
  #finishLeaf(entry: TreeEntry, target: string, path: string, parentSetgid: boolean): void {
    const owner = this.#ownerOf(entry);
    const mode = this.#modeOf(entry);
    // A new entry belongs to us (and to the directory's group under a set-group-id directory).
    const chown = owner.uid !== EUID || owner.gid !== EGID || parentSetgid;
    // copyFile gave the file the source's mode; nothing to do unless chown cleared set-id bits or --chmod differs.
    const modeIsSet = entry.kind === "file" && !chown && mode === (entry.st.mode & 0o7777);
    this.#metadata(entry, target, path, mode, chown, modeIsSet);
    this.files++;
    if (entry.kind === "file") this.bytes += entry.st.size;
    try {
      lutimesSync(target, seconds(entry.st.atimeMs), seconds(entry.st.mtimeMs));
    } catch (err) {
      throw ioError(`cannot set times of ${path}`, err);
    }
  }

  #toolOptions(): { signal?: AbortSignal } {
    return this.#opts.signal ? { signal: this.#opts.signal } : {};
  }

  /** Removes a non-directory in the way (never following it); a directory there is an error. */
  #clear(target: string, path: string): void {
    let st;
    try {
      st = lstatSync(target, { throwIfNoEntry: false });
    } catch (err) {
      throw ioError(`cannot stat ${target}`, err);
    }
    if (st === undefined) return;
    if (st.isDirectory()) throw destConflict(`cannot replace to directory ${path} with file`);
    try {
      unlinkSync(target);
    } catch (err) {
      throw ioError(`cannot remove ${path}`, err);
    }
  }

  /** Copies a regular file's data (or hard-links it to an earlier copy of the same inode). */
  #file(entry: TreeEntry, target: string): void {
    if (entry.st.nlink > 1) {
      const key = `${entry.st.dev}:${entry.st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        linkSync(first, target);
        return;
      }
      this.#links.set(key, target);
    }
    // COPYFILE_EXCL: O_CREAT|O_EXCL, so an entry planted meanwhile (even a symlink) makes it fail instead of being written through.
    copyFileSync(entry.abs, target, constants.COPYFILE_EXCL);
  }

  /**
   * Owner, mode, extended attributes — in that order, because chown clears
   * set-id bits and file capabilities. `modeIsSet` skips the chmod when the
   * file was created with the right mode already (copyFile copies it).
   */
  #metadata(entry: TreeEntry, target: string, path: string, mode: number, chown: boolean, modeIsSet: boolean): void {
    try {
      if (chown) {
        const { uid, gid } = this.#ownerOf(entry);
        lchownSync(target, uid, gid);
      }
      if (entry.kind !== "symlink" && !modeIsSet) chmodSync(target, mode);
    } catch (err) {
      throw ioError(`cannot set owner and mode of ${path}`, err);
    }
    if (entry.kind === "symlink") return;
    let xattrs: ReadonlyMap<string, Buffer> | undefined;
    try {
      xattrs = readLayerXattrsSync(entry.abs);
    } catch (err) {
      throw ioError(`cannot read extended attributes of ${entry.abs}`, err);
    }
    if (xattrs === undefined) return;
    for (const [name, value] of xattrs) {
      try {
        xattr().setAttributeSync(target, name, value);
      } catch {
        // BuildKit's file backend logs and ignores xattr failures (e.g. user.* on a file system without them).
      }
    }
  }
}
