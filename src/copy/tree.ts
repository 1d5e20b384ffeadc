import type { Stats } from "node:fs";
import { constants, lstatSync, readdirSync } from "node:fs";
import type { IgnoreMatcher, IgnoreWalkState } from "../context/dockerignore.js";
import { BuildError } from "../diagnostics/build-error.js";
import { TimeSlice } from "../util/time-slice.js";
import { goMatch } from "./wildcard.js";

/** What a selected file system entry is. Sockets become empty regular files when copied (BuildKit testCopySocket). */
export type EntryKind = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/** One selected entry: a node of the tree a COPY reads. */
export interface TreeEntry {
  /** Base name (for a top-level match: the base name of the path as matched, before symlinks). */
  readonly name: string;
  /** Host path to read from. */
  readonly abs: string;
  /** `lstat` of {@link abs} (the fields COPY uses). */
  readonly st: EntryStat;
  /** Entry type. */
  readonly kind: EntryKind;
  /**
   * Directories: the entries below that the COPY takes, sorted by name
   * (after `.dockerignore`, `--exclude` and `--parents` filtering).
   */
  readonly children?: readonly TreeEntry[];
  /**
   * The entry's content digest (see FileHashCache), filled in by
   * checksumSelection; undefined until then. Kept on the entry rather than
   * in a Map: tens of thousands of object-keyed Map insertions cost a
   * no-op rebuild measurable time.
   */
  digest?: string;
}

/**
 * The `lstat` fields COPY uses, copied out of Node's `Stats`. Why not keep
 * the `Stats`: each also holds four `Date` objects, and a tree of tens of
 * thousands of entries kept alive through a checksum makes the garbage
 * collector copy and promote all of them; measured in a fresh process over
 * 21,000 entries, keeping the `Stats` costs about 40 ms more CPU than
 * keeping these plain fields.
 */
export interface EntryStat {
  /** Device id. */
  readonly dev: number;
  /** Inode number. */
  readonly ino: number;
  /** File type and permission bits. */
  readonly mode: number;
  /** Hard link count. */
  readonly nlink: number;
  /** Owner. */
  readonly uid: number;
  /** Group. */
  readonly gid: number;
  /** Device number (device files). */
  readonly rdev: number;
  /** Size in bytes. */
  readonly size: number;
  /** Access time, ms since the epoch (with a sub-ms fraction). */
  readonly atimeMs: number;
  /** Modification time, ms since the epoch (with a sub-ms fraction). */
  readonly mtimeMs: number;
  /** Status change time, ms since the epoch (with a sub-ms fraction). */
  readonly ctimeMs: number;
}

/** Copies the fields COPY uses out of a `Stats`. */
export function entryStat(st: Stats): EntryStat {
  return {
    dev: st.dev,
    ino: st.ino,
    mode: st.mode,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    rdev: st.rdev,
    size: st.size,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
  };
}

/** The type of an entry from its mode bits. */
export function kindOf(st: { readonly mode: number }): EntryKind {
  switch (st.mode & constants.S_IFMT) {
    case constants.S_IFREG:
      return "file";
    case constants.S_IFDIR:
      return "dir";
    case constants.S_IFLNK:
      return "symlink";
    case constants.S_IFCHR:
      return "char";
    case constants.S_IFBLK:
      return "block";
    case constants.S_IFIFO:
      return "fifo";
    default:
      return "socket";
  }
}

/**
 * A pattern list applied while walking, with paths relative to its own
 * base: `.dockerignore` (relative to the context root), `--exclude`
 * (relative to the copied source) or the `--parents` include pattern
 * (relative to the pivot directory).
 */
export interface PathFilter {
  /** The compiled patterns (moby/patternmatcher semantics). */
  readonly matcher: IgnoreMatcher;
  /** `exclude`: matching paths are dropped. `include`: only matching paths (and what is below them) are kept. */
  readonly mode: "exclude" | "include";
  /** Include mode: true when a directory may hold matches below it although it does not match itself. */
  readonly mayMatchBelow?: (rel: string) => boolean;
}

/** A filter's position in the walk: the current directory's relative path and match state. */
export interface FilterCursor {
  /** The filter. */
  readonly filter: PathFilter;
  /** Path of the current directory relative to the filter's base (`""` for the base). */
  readonly rel: string;
  /** Match state of the current directory, handed to its entries (see IgnoreMatcher.walkMatch). */
  readonly state: IgnoreWalkState | undefined;
  /** Include mode: an ancestor matched, so everything below is included. */
  readonly included: boolean;
}

/** Creates the cursor for a filter positioned at directory `rel` (relative to its base). */
export function filterCursor(filter: PathFilter, rel: string): FilterCursor {
  if (rel === "") return { filter, rel, state: undefined, included: false };
  const r = filter.matcher.walkMatch(rel);
  return { filter, rel, state: r.state, included: filter.mode === "include" && r.excluded };
}

/** Result of testing one entry against all filters. */
interface Verdict {
  /** Kept unconditionally. */
  readonly keep: boolean;
  /** Directory dropped by a filter, but one that lets the walk look below it. */
  readonly descend: boolean;
  /** Cursors for the entry's own entries (directories). */
  readonly cursors: FilterCursor[];
}

function judge(name: string, isDir: boolean, cursors: readonly FilterCursor[]): Verdict {
  let keep = true;
  let descend = true;
  const next: FilterCursor[] = [];
  for (const c of cursors) {
    const rel = c.rel === "" ? name : `${c.rel}/${name}`;
    if (c.filter.mode === "include") {
      if (c.included) {
        next.push({ filter: c.filter, rel, state: undefined, included: true });
        continue;
      }
      const r = c.filter.matcher.walkMatch(rel, c.state);
      next.push({ filter: c.filter, rel, state: r.state, included: r.excluded });
      if (!r.excluded) {
        keep = false;
        if (!isDir || c.filter.mayMatchBelow?.(rel) === false) descend = false;
      }
      continue;
    }
    const r = c.filter.matcher.walkMatch(rel, c.state);
    next.push({ filter: c.filter, rel, state: r.state, included: false });
    if (r.excluded) {
      keep = false;
      // fsutil's rule: an excluded directory is only entered when an exception may re-include something in it.
      if (!isDir || c.filter.matcher.canSkipDir(rel, true)) descend = false;
    }
  }
  return { keep, descend: isDir && descend, cursors: next };
}

/** Options for {@link walkTree}. */
export interface WalkTreeOptions {
  /** Cancels the walk (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

/** lstat options, allocated once: the walk calls lstat tens of thousands of times. */
const NO_THROW = { throwIfNoEntry: false } as const;

/**
 * Reads the directory tree below `dirAbs`, keeping what the filters let
 * through, and returns the directory's entries (sorted by name, each
 * directory with its own entries). Symlinks are never followed.
 *
 * A directory that a filter drops but may still hold kept entries (an
 * ignore exception below it, or `--parents` pattern that can match deeper)
 * is entered and kept only if something below it is kept: the walker's
 * equivalent of fsutil creating parent directories lazily.
 *
 * Why synchronous `lstat`: a no-op rebuild must stat tens of thousands of
 * files in a few hundred milliseconds; on a small machine `lstatSync` costs
 * about 4 µs per file while the promise and callback forms cost 8-25 µs
 * (libuv's thread pool hand-off dominates). The walk yields to the event
 * loop every 10 ms ({@link TimeSlice}) so timers, I/O and abort signals are
 * still served. Why `Stats` and not `BigIntStats`: Node 20 materialises
 * 18 BigInts and 4 Dates per BigIntStats, and the garbage collector then
 * costs more than the system calls; millisecond doubles keep sub-µs
 * precision, far below the 2 s racy-clean margin the hash cache relies on.
 */
export async function walkTree(dirAbs: string, cursors: readonly FilterCursor[], options: WalkTreeOptions = {}): Promise<TreeEntry[]> {
  const walker = new Walker(options.signal);
  return walker.walk(dirAbs, cursors);
}

class Walker {
  private readonly slice = new TimeSlice();

  constructor(private readonly signal: AbortSignal | undefined) {}

  async walk(dirAbs: string, cursors: readonly FilterCursor[]): Promise<TreeEntry[]> {
    throwIfAborted(this.signal);
    let names: string[];
    try {
      names = readdirSync(dirAbs);
    } catch (err) {
      throw ioError(`cannot read directory ${dirAbs}`, err);
    }
    names.sort();
    const out: TreeEntry[] = [];
    for (const name of names) {
      if (this.slice.due()) {
        await this.slice.yield();
        throwIfAborted(this.signal);
      }
      const abs = `${dirAbs}/${name}`;
      let raw: Stats | undefined;
      try {
        raw = lstatSync(abs, NO_THROW);
      } catch (err) {
        throw ioError(`cannot stat ${abs}`, err);
      }
      // Removed while walking: as if it never existed.
      if (raw === undefined) continue;
      const st = entryStat(raw);
      const kind = kindOf(st);
      const isDir = kind === "dir";
      if (cursors.length === 0) {
        out.push(isDir ? { name, abs, st, kind, children: await this.walk(abs, cursors) } : { name, abs, st, kind });
        continue;
      }
      const v = judge(name, isDir, cursors);
      if (v.keep) {
        out.push(isDir ? { name, abs, st, kind, children: await this.walk(abs, v.cursors) } : { name, abs, st, kind });
      } else if (v.descend) {
        const children = await this.walk(abs, v.cursors);
        if (children.length > 0) out.push({ name, abs, st, kind, children });
      }
    }
    return out;
  }
}

/**
 * A `mayMatchBelow` test for an include pattern: false when directory
 * `rel` cannot contain a path the pattern matches, comparing segment by
 * segment with Go's `filepath.Match` until a `**` (which can match any
 * depth) is met. Conservative: true whenever unsure.
 */
export function mayMatchBelowPattern(pattern: string): (rel: string) => boolean {
  const segs = pattern.split("/").filter((s) => s !== "");
  return (rel: string): boolean => {
    const parts = rel.split("/");
    for (let i = 0; i < parts.length; i++) {
      const seg = segs[i];
      if (seg === undefined) return false;
      if (seg.includes("**")) return true;
      try {
        if (!goMatch(seg, parts[i] as string)) return false;
      } catch {
        return true;
      }
    }
    return parts.length < segs.length;
  };
}

/** Throws BuildError ABORTED when `signal` fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new BuildError("ABORTED", "copy cancelled", { cause: signal.reason });
}

/** Wraps a file system error as BuildError COPY_IO (BuildErrors pass through). */
export function ioError(message: string, err: unknown): BuildError {
  if (err instanceof BuildError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new BuildError("COPY_IO", `${message}: ${detail}`, { cause: err });
}
