/**
 * Crash-safe small-file writes: temp file, fsync, rename, fsync directory.
 * After a crash the target holds either its old content or the new one,
 * never a mix or an empty file.
 */
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { throwIfAborted } from "./abort.js";
import { errnoCode, tempFilePath } from "./temp-files.js";

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Directory for the temp file; must be on the target's filesystem. */
  readonly tmpDir: string;
  /** Permission bits of the new file. Default `0o644`. */
  readonly mode?: number | undefined;
  /** Checked before the rename: an aborted write publishes nothing. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Flushes a directory's entries to disk, so a rename into it survives a
 * crash. Platforms that cannot open or sync directories are ignored.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EISDIR" || code === "EPERM" || code === "EACCES") return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") throw err;
  } finally {
    await fh.close();
  }
}

/** Removes `path`, ignoring a missing file. Used to clean up temp files. */
export async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}

/**
 * Atomically replaces `path` with `data`. The data is synced before the
 * rename (otherwise a crash could leave the new name pointing at an empty
 * inode), and the directory after it (so the new name itself is durable).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<void> {
  throwIfAborted(options.signal, `writing ${path}`);
  const tmp = tempFilePath(options.tmpDir, "file");
  try {
    const fh = await open(tmp, "wx", options.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    throwIfAborted(options.signal, `writing ${path}`);
    await rename(tmp, path);
  } catch (err) {
    await unlinkQuietly(tmp);
    throw err;
  }
  await fsyncDirectory(dirname(path));
}
