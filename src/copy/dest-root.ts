import { chmod, lchown, lstat, mkdir } from "node:fs/promises";
import { posix } from "node:path";
import { destConflict } from "./errors.js";
import { hostPath, resolveInRoot, type RootResolution } from "./root-resolve.js";
import { ioError } from "./tree.js";

/** A COPY destination as the container sees it. */
export interface Destination {
  /** Absolute, clean container path (`/` for the root). */
  readonly path: string;
  /**
   * True when the destination is written as a directory: it ends with `/`
   * (or `/.`, or is `.` or empty, which name the working directory). Such
   * a destination is created as a directory and sources go inside it.
   */
  readonly dirShaped: boolean;
}

/**
 * Resolves the destination as written against the stage's WORKDIR, as
 * BuildKit's `pathRelativeToWorkingDir` does: a relative path is joined to
 * `workdir`, an empty one means `workdir` itself (as a directory), and a
 * trailing `/` or `/.` is kept as the "directory" marker.
 */
export function destinationOf(dest: string, workdir: string): Destination {
  const base = workdir.startsWith("/") ? workdir : `/${workdir}`;
  if (dest === "") return { path: posix.normalize(base), dirShaped: true };
  const joined = dest.startsWith("/") ? dest : `${base}/${dest}`;
  const dirShaped = joined.endsWith("/") || joined.endsWith("/.") || dest === "." || dest === "..";
  let path = posix.normalize(joined);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return { path, dirShaped };
}

/** Owner and mode given to directories a COPY creates. */
export interface CreatedDirOptions {
  /** Owner of created directories (the `--chown` user, else 0:0). */
  readonly uid: number;
  /** Group of created directories. */
  readonly gid: number;
  /** Permission bits of created directories (0755, or what `--chmod` makes of it). */
  readonly mode: number;
}

/**
 * The destination root filesystem (an overlay merged directory) seen as a
 * chroot: every path is resolved with {@link resolveInRoot}, so a symlink
 * such as `/app -> /etc` leads to `<root>/etc`, never to the host's `/etc`,
 * and nothing is ever created or written outside `root`.
 */
export class DestRoot {
  constructor(
    /** Absolute host path of the root. */
    readonly root: string,
    private readonly created: CreatedDirOptions,
  ) {}

  /** Resolves a container path (symlinks followed inside the root). */
  resolve(path: string, followLast = true): Promise<RootResolution> {
    return resolveInRoot(this.root, path, { followLast });
  }

  /**
   * Makes sure container path `path` is a directory, creating the missing
   * components (fsutil's `MkdirAll` with the COPY's owner and mode), and
   * returns its host path.
   *
   * @throws BuildError COPY_DEST_CONFLICT when a component is not a directory.
   */
  async mkdirAll(path: string): Promise<{ host: string; created: boolean }> {
    const res = await this.resolve(path);
    if (res.missingFrom > 0) {
      // The deepest existing component must be a directory (the ones above it were walked through).
      const existing = res.parts.slice(0, res.missingFrom);
      const host = hostPath(this.root, existing);
      const st = await lstat(host).catch((err: unknown) => {
        throw ioError(`cannot stat ${host}`, err);
      });
      if (!st.isDirectory()) throw destConflict(`cannot create directory "${path}": "/${existing.join("/")}" is not a directory`);
    }
    for (let i = res.missingFrom; i < res.parts.length; i++) {
      const host = hostPath(this.root, res.parts.slice(0, i + 1));
      try {
        await mkdir(host, { mode: 0o700 });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOTDIR" || code === "EEXIST") {
          throw destConflict(`cannot create directory "${path}": "/${res.parts.slice(0, i).join("/")}" is not a directory`);
        }
        throw ioError(`cannot create directory ${host}`, err);
      }
      await this.claim(host);
    }
    return { host: res.host, created: res.missingFrom < res.parts.length };
  }

  /** Gives a directory created here the COPY's owner and mode (chmod after chown: chown may clear set-id bits). */
  async claim(host: string): Promise<void> {
    try {
      await lchown(host, this.created.uid, this.created.gid);
      await chmod(host, this.created.mode);
    } catch (err) {
      throw ioError(`cannot set owner and mode of ${host}`, err);
    }
  }
}
