import { lstatSync, readlinkSync } from "node:fs";
import { BuildError } from "../diagnostics/build-error.js";

/** Most symlinks followed while resolving one path, as Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** Where a root-relative path leads, resolved as inside a chroot. */
export interface RootResolution {
  /** The real path components below the root, symlinks resolved (the missing tail literal). */
  readonly parts: readonly string[];
  /** `parts` joined with `/` (`""` for the root itself). */
  readonly rel: string;
  /** The host path: the root joined with {@link parts}. */
  readonly host: string;
  /**
   * Index in {@link parts} of the first component that does not exist (or
   * sits below a non-directory); `parts.length` when the whole path exists.
   */
  readonly missingFrom: number;
  /** Root-relative real paths of the symlinks that were followed, in order. */
  readonly links: readonly string[];
}

/** Options for {@link resolveInRoot}. */
export interface ResolveInRootOptions {
  /** Follow the last component when it is a symlink (like `stat`); default true. */
  readonly followLast?: boolean;
}

/** Joins a root and root-relative components into a host path. */
export function hostPath(root: string, parts: readonly string[]): string {
  return parts.length === 0 ? root : `${root}/${parts.join("/")}`;
}

/**
 * Resolves `path` (components separated by `/`, absolute or not: both are
 * taken relative to `root`) as a process chrooted into `root` would, and
 * returns the real location: symlinks are followed component by component
 * with `lstat`/`readlink`, an absolute target restarts at `root`, and `..`
 * never climbs above `root` (containerd's `fs.RootPath`, which BuildKit
 * uses for both COPY sources and destinations).
 *
 * Why: a rootfs is untrusted. An image may hold `/app -> /etc` or
 * `x -> ../../../../etc`; resolving them here, textually, means the
 * returned host path is always `root` or below it, so nothing read or
 * written through it can reach the host's files. Components that do not
 * exist are appended literally (see {@link RootResolution.missingFrom}).
 *
 * Races: the result is only meaningful while nobody else modifies the
 * tree (no container runs in it); callers still create files with
 * `O_EXCL` so a symlink planted later is never written through.
 *
 * The `lstat`/`readlink` calls are synchronous: a handful per path, each
 * cheaper than the thread-pool hand-off of its asynchronous form.
 *
 * @throws BuildError COPY_DEST_CONFLICT after more than 40 symlinks (ELOOP).
 */
export async function resolveInRoot(root: string, path: string, options: ResolveInRootOptions = {}): Promise<RootResolution> {
  const followLast = options.followLast ?? true;
  const pending = splitComponents(path);
  const parts: string[] = [];
  const links: string[] = [];
  let missingFrom = -1;
  let followed = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === ".") continue;
    if (name === "..") {
      // Lexical ".." inside the missing tail, or a real parent: never above the root.
      if (parts.length > 0) parts.pop();
      if (missingFrom >= parts.length) missingFrom = -1;
      continue;
    }
    if (missingFrom >= 0) {
      parts.push(name);
      continue;
    }
    const last = pending.length === 0;
    parts.push(name);
    if (last && !followLast) {
      // Still report whether it exists.
      try {
        lstatSync(hostPath(root, parts));
      } catch (err) {
        if (!isMissing(err)) throw err;
        missingFrom = parts.length - 1;
      }
      break;
    }
    const candidate = hostPath(root, parts);
    let isLink = false;
    try {
      isLink = (lstatSync(candidate)).isSymbolicLink();
    } catch (err) {
      if (!isMissing(err)) throw err;
      missingFrom = parts.length - 1;
      continue;
    }
    if (!isLink) continue;
    if (++followed > MAX_SYMLINKS) {
      throw new BuildError("COPY_DEST_CONFLICT", `too many levels of symbolic links resolving "/${parts.join("/")}"`);
    }
    links.push(parts.join("/"));
    const target = readlinkSync(candidate);
    parts.pop();
    if (target.startsWith("/")) parts.length = 0;
    pending.unshift(...splitComponents(target));
  }
  return {
    parts,
    rel: parts.join("/"),
    host: hostPath(root, parts),
    missingFrom: missingFrom < 0 ? parts.length : missingFrom,
    links,
  };
}

function splitComponents(path: string): string[] {
  return path.split("/").filter((c) => c !== "");
}

/** ENOENT or ENOTDIR: the path does not exist (or goes through a non-directory). */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
