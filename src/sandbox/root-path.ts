import { constants, lstatSync, readlinkSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join, posix } from "node:path";

/** Most symlinks followed while resolving one path, as Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** An error with an errno-style code, like Node's own fs errors. */
function fsError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}

/**
 * Resolves `path` as the container would see it with `root` as `/`, and
 * returns the host path. Symlinks are followed component by component the way
 * the kernel does inside a chroot: an absolute target restarts at `root`, and
 * `..` never climbs above `root`. So a rootfs whose `/etc/passwd` is a symlink
 * to `/etc/passwd` or `../../../../etc/passwd` resolves inside the rootfs, never
 * to the host's file. Components that do not exist are appended literally.
 *
 * Races: a component swapped for a symlink after it was checked could still
 * redirect the caller; callers therefore open the final component with
 * `O_NOFOLLOW` ({@link readFileInRoot}), and only resolve paths in a rootfs no
 * container is running in.
 *
 * The `lstat`/`readlink` calls are synchronous: a handful per path, each
 * cheaper than the thread-pool hand-off of its asynchronous form (four RUN
 * steps starting together spent tens of milliseconds waiting on it).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const resolved: string[] = [];
  const pending = splitPath(path);
  let followed = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === ".") continue;
    if (name === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, name);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    if (!isLink) {
      resolved.push(name);
      continue;
    }
    if (++followed > MAX_SYMLINKS) {
      throw fsError("ELOOP", `too many levels of symbolic links resolving ${path} in ${root}`);
    }
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return join(root, ...resolved);
}

function splitPath(path: string): string[] {
  return path.split("/").filter((part) => part !== "");
}

/** Options for {@link readFileInRoot}. */
export interface ReadFileInRootOptions {
  /** Refuse files larger than this many bytes (default 16 MiB). */
  readonly maxBytes?: number;
}

/**
 * Reads a regular file of a rootfs, resolving `path` with
 * {@link resolveInRoot}. Returns `undefined` when the file does not exist, is
 * not a regular file, is a dangling or looping symlink, or is larger than
 * `maxBytes`: a rootfs is untrusted input, and its `/etc/passwd` could be a
 * FIFO (reading would block forever) or a device node such as /dev/zero
 * (reading would never end).
 */
export async function readFileInRoot(
  root: string,
  path: string,
  options: ReadFileInRootOptions = {},
): Promise<Buffer | undefined> {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  let hostPath: string;
  try {
    hostPath = await resolveInRoot(root, path);
  } catch {
    return undefined;
  }
  let handle;
  try {
    // O_NOFOLLOW: the last component is not followed even if it became a
    // symlink after resolution. O_NONBLOCK: opening a FIFO must not wait for
    // a writer; the fstat below then rejects it.
    handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const data = await handle.readFile();
    return data.length > maxBytes ? undefined : data;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Creates directory `path` (and its parents) inside `root`, resolving
 * existing components with {@link resolveInRoot} so that a symlinked working
 * directory is created where the container will see it, never outside the
 * rootfs. Returns the host path of the directory.
 */
export async function mkdirInRoot(root: string, path: string, mode = 0o755): Promise<string> {
  const hostPath = await resolveInRoot(root, posix.normalize(`/${path}`));
  await mkdir(hostPath, { recursive: true, mode });
  return hostPath;
}
