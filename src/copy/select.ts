/**
 * Which files a COPY/ADD takes: the source patterns resolved against the
 * source root, with the semantics of BuildKit's Dockerfile frontend
 * (`dockerfile2llb/convert_copy.go`: `FollowSymlinks`, `CopyDirContentsOnly`,
 * `AllowWildcard`, `AllowEmptyWildcard`, the `--parents` pivot) and file
 * backend (tonistiigi/fsutil `copy`). Both `checksumSelection`
 * (checksum.ts) and `applyCopy` (apply.ts) read through this module, so the
 * checksum always covers exactly what the copy writes — as long as both
 * are given the same {@link SourceSelection} (including `parents` and
 * `keepOwnership`).
 */

import { lstat, readdir } from "node:fs/promises";
import { IgnoreMatcher } from "../context/dockerignore.js";
import { BuildError } from "../diagnostics/build-error.js";
import { sourceNotFound } from "./errors.js";
import { isMissing, resolveInRoot } from "./root-resolve.js";
import { cleanSourcePath, isUrlSource } from "./source-path.js";
import {
  entryStat,
  filterCursor,
  ioError,
  kindOf,
  mayMatchBelowPattern,
  throwIfAborted,
  walkTree,
  type EntryStat,
  type FilterCursor,
  type PathFilter,
  type TreeEntry,
} from "./tree.js";
import { BadPatternError, goMatch, hasWildcards, splitWildcards } from "./wildcard.js";

/** The part of a COPY/ADD that says what is read. */
export interface SourceSelection {
  /** Absolute directory the sources are relative to: the build context, another stage's rootfs (merged dir), or an extracted image. */
  readonly root: string;
  /**
   * Sources as in the Dockerfile, after variable expansion: relative to
   * {@link root} (a leading `/` is also relative; `..` cannot climb out),
   * with Go `filepath.Match` wildcards per segment. With {@link parents}, a
   * `/./` marks the pivot: what follows it keeps its path under the
   * destination.
   */
  readonly sources: readonly string[];
  /** `--exclude` patterns (`.dockerignore` syntax), relative to each copied source directory. */
  readonly excludes?: readonly string[];
  /** The context's `.dockerignore` (context sources only): ignored paths are invisible. */
  readonly ignore?: IgnoreMatcher;
  /**
   * Follow a source that is itself a symlink (within {@link root}) and
   * copy what it points to; symlinks inside copied directories always stay
   * symlinks. BuildKit's Dockerfile frontend sets this for every local and
   * `--from` COPY (`FollowSymlinks: true`); the build engine passes true
   * for context sources at least.
   */
  readonly followTopLevelSymlinks?: boolean;
  /** `--parents`: keep each source's path (below the `/./` pivot, or the whole path) under the destination. */
  readonly parents?: boolean;
  /**
   * Keep the owner (uid/gid) of copied entries when no `--chown` is given.
   * BuildKit keeps them for `COPY --from` a stage or image
   * (frontend/dockerfile testCopyChownExistingDir), while build context files
   * arrive owned by 0:0 (the client's `resetUIDAndGID` when transferring
   * the context). Default false: context semantics.
   */
  readonly keepOwnership?: boolean;
}

/** One thing a source matched: a file, symlink or special file to copy as is, or a directory whose contents are copied. */
export interface SelectedMatch {
  /** The matched path relative to the root as written or matched (before following a symlink); `""` is the root. */
  readonly path: string;
  /**
   * The entry. Its `name` is the base name of {@link path} (what the copy
   * is called at a directory destination); a directory carries the
   * filtered entries that are copied into the destination.
   */
  readonly entry: TreeEntry;
}

/** A source and what it matched, in match order (Go `filepath.Walk` order). */
export interface SelectedSource {
  /** The source as given. */
  readonly source: string;
  /** True for a source with wildcards: matching nothing is then not an error (BuildKit `AllowEmptyWildcard`, testEmptyWildcard). */
  readonly wildcard: boolean;
  /** What it matched. */
  readonly matches: readonly SelectedMatch[];
}

/** Options for {@link selectSources}. */
export interface SelectOptions {
  /** Cancels the selection (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

/**
 * Resolves every source of `sel` (URLs excluded: callers handle them) into
 * matched entries with their directory trees.
 *
 * - A plain path must exist and be visible, otherwise BuildError
 *   COPY_SOURCE_NOT_FOUND names it; a wildcard may match nothing.
 * - `.dockerignore`d paths are invisible (a directory stays visible when
 *   an exception re-includes something inside it).
 * - `--exclude` patterns apply relative to each copied directory, and to
 *   wildcard matches relative to the wildcard's directory
 *   (`COPY --exclude=*.txt hom* /mydir/`, Dockerfile reference).
 *
 * @throws BuildError COPY_SOURCE_NOT_FOUND, DF_ARGS (malformed pattern),
 *   COPY_IO, ABORTED.
 */
export async function selectSources(sel: SourceSelection, options: SelectOptions = {}): Promise<SelectedSource[]> {
  const ctx = new Selector(sel, options.signal);
  const out: SelectedSource[] = [];
  for (const source of sel.sources) {
    throwIfAborted(options.signal);
    if (isUrlSource(source)) continue;
    try {
      out.push(sel.parents === true ? await ctx.selectParents(source) : await ctx.selectPlain(source));
    } catch (err) {
      throw ioError(`cannot read source ${JSON.stringify(source)}`, err);
    }
  }
  return out;
}

/** Compiles patterns into a matcher, reporting bad ones as DF_ARGS with the flag name. */
function compile(patterns: readonly string[], what: string): IgnoreMatcher {
  return new IgnoreMatcher(patterns, { file: what });
}

/** A resolved source, or why there is none. */
type Lookup = TreeEntry | "missing" | "hidden";

class Selector {
  private readonly follow: boolean;
  private readonly ignoreFilter: PathFilter | undefined;
  private readonly excludeFilter: PathFilter | undefined;

  constructor(
    private readonly sel: SourceSelection,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.follow = sel.followTopLevelSymlinks === true;
    this.ignoreFilter = sel.ignore !== undefined && !sel.ignore.isEmpty ? { matcher: sel.ignore, mode: "exclude" } : undefined;
    const excludes = (sel.excludes ?? []).filter((e) => e.trim() !== "");
    this.excludeFilter = excludes.length > 0 ? { matcher: compile(excludes, "--exclude"), mode: "exclude" } : undefined;
  }

  /** Where a missing source was looked for, for {@link sourceNotFound}'s hint: context sources are the ones whose owners are reset. */
  private get searchedIn(): "context" | "ignored-context" | "stage" {
    if (this.sel.keepOwnership === true) return "stage";
    return this.sel.ignore !== undefined && !this.sel.ignore.isEmpty ? "ignored-context" : "context";
  }

  /** True when `.dockerignore` hides the root-relative real path `rel` outright. */
  private ignored(rel: string): boolean {
    return this.ignoreFilter !== undefined && rel !== "" && this.ignoreFilter.matcher.matches(rel);
  }

  /** Cursors for walking below a directory whose real path is `realRel`, with include/exclude bases at that directory. */
  private cursors(realRel: string, include?: PathFilter): FilterCursor[] {
    const out: FilterCursor[] = [];
    if (this.ignoreFilter !== undefined) out.push(filterCursor(this.ignoreFilter, realRel));
    if (this.excludeFilter !== undefined) out.push(filterCursor(this.excludeFilter, ""));
    if (include !== undefined) out.push(filterCursor(include, ""));
    return out;
  }

  /**
   * Builds the entry for a path that resolved to `host` (real path
   * `realRel`): "missing" when nothing is there, "hidden" when
   * `.dockerignore` hides it (a hidden directory stays visible when
   * something inside it is re-included).
   */
  private async entryAt(name: string, host: string, realRel: string, walk: boolean, include?: PathFilter): Promise<Lookup> {
    let st: EntryStat;
    try {
      st = entryStat(await lstat(host));
    } catch (err) {
      if (isMissing(err)) return "missing";
      throw ioError(`cannot stat ${host}`, err);
    }
    const kind = kindOf(st);
    const hidden = this.ignored(realRel);
    if (kind !== "dir") return hidden ? "hidden" : { name, abs: host, st, kind };
    if (hidden && this.ignoreFilter?.matcher.canSkipDir(realRel, true) === true) return "hidden";
    if (!walk && !hidden) return { name, abs: host, st, kind, children: [] };
    const children = await walkTree(host, this.cursors(realRel, include), this.signal ? { signal: this.signal } : {});
    if (hidden && children.length === 0) return "hidden";
    return { name, abs: host, st, kind, children };
  }

  /**
   * Resolves a root-relative path as a COPY source. With `walk` false a
   * directory's entries are only read when needed to decide visibility.
   */
  private async resolveSource(rel: string, followLast: boolean, walk: boolean, include?: PathFilter): Promise<Lookup> {
    const res = await resolveInRoot(this.sel.root, rel, { followLast });
    if (res.missingFrom < res.parts.length) return "missing";
    // A symlink that .dockerignore hides was never transferred: nothing behind it is reachable.
    if (res.links.some((l) => this.ignored(l))) return "hidden";
    const name = rel === "" ? "" : rel.slice(rel.lastIndexOf("/") + 1);
    return this.entryAt(name, res.host, res.rel, walk, include);
  }

  async selectPlain(source: string): Promise<SelectedSource> {
    const rel = cleanSourcePath(source);
    const split = splitWildcards(rel);
    if (split.pattern.length === 0) {
      const entry = await this.resolveSource(rel, this.follow, true);
      if (typeof entry === "string") throw sourceNotFound(rel, this.searchedIn);
      return { source, wildcard: false, matches: [{ path: rel, entry }] };
    }
    const matches: SelectedMatch[] = [];
    for (const path of await this.expandWildcard(source, split.base, split.pattern)) {
      throwIfAborted(this.signal);
      const entry = await this.resolveSource(path, this.follow, true);
      if (entry === "hidden") continue;
      // Matched by name but gone since, or a dangling symlink (BuildKit fails to stat it too).
      if (entry === "missing") throw sourceNotFound(path, this.searchedIn);
      matches.push({ path, entry });
    }
    return { source, wildcard: true, matches };
  }

  /**
   * Expands `base/pattern...` into matching root-relative paths, in Go
   * `filepath.Walk` order: the base directory is resolved (symlinks
   * followed), then each pattern segment is matched against directory
   * entries with `filepath.Match`; symlinked directories are not entered
   * below the base (Walk uses lstat). Ignored and `--exclude`d matches are
   * dropped.
   */
  private async expandWildcard(source: string, base: readonly string[], pattern: readonly string[]): Promise<string[]> {
    for (const seg of pattern) {
      try {
        goMatch(seg, "");
      } catch (err) {
        if (!(err instanceof BadPatternError)) throw err;
        throw new BuildError("DF_ARGS", `invalid wildcard in source ${JSON.stringify(source)}: ${err.message}`, {
          hint: "sources use Go filepath.Match syntax; escape a literal '[', '*', '?' or '\\' with a backslash",
        });
      }
    }
    const baseRel = base.join("/");
    const res = await resolveInRoot(this.sel.root, baseRel, { followLast: true });
    if (res.missingFrom < res.parts.length || res.links.some((l) => this.ignored(l))) return [];
    const out: string[] = [];
    const visit = async (host: string, realRel: string, matchRel: string, depth: number): Promise<void> => {
      throwIfAborted(this.signal);
      let names: string[];
      try {
        names = await readdir(host);
      } catch (err) {
        if (isMissing(err)) return;
        throw ioError(`cannot read directory ${host}`, err);
      }
      names.sort();
      const seg = pattern[depth] as string;
      const last = depth === pattern.length - 1;
      for (const name of names) {
        if (!goMatch(seg, name)) continue;
        const childReal = realRel === "" ? name : `${realRel}/${name}`;
        const childMatch = matchRel === "" ? name : `${matchRel}/${name}`;
        const childHost = `${host}/${name}`;
        let isDir = false;
        try {
          isDir = (await lstat(childHost)).isDirectory();
        } catch (err) {
          if (isMissing(err)) continue;
          throw ioError(`cannot stat ${childHost}`, err);
        }
        if (this.ignored(childReal) && !(isDir && this.ignoreFilter?.matcher.canSkipDir(childReal, true) === false)) continue;
        if (last) {
          const relToBase = childMatch.slice(baseRel === "" ? 0 : baseRel.length + 1);
          if (this.excluded(relToBase, isDir)) continue;
          out.push(childMatch);
        } else if (isDir) {
          await visit(childHost, childReal, childMatch, depth + 1);
        }
      }
    };
    // Directory entries below the base are real paths: the base's resolved path plus the names walked.
    let isDir = false;
    try {
      isDir = (await lstat(res.host)).isDirectory();
    } catch (err) {
      if (!isMissing(err)) throw ioError(`cannot stat ${res.host}`, err);
    }
    if (!isDir) return [];
    await visit(res.host, res.rel, baseRel, 0);
    return out;
  }

  /** True when `--exclude` drops a wildcard match (`rel` relative to the wildcard's directory). */
  private excluded(rel: string, isDir: boolean): boolean {
    const m = this.excludeFilter?.matcher;
    if (m === undefined || !m.matches(rel)) return false;
    // A directory with an exception inside stays (and is filtered below).
    return !isDir || m.canSkipDir(rel, true);
  }

  /**
   * `COPY --parents`: the source is split at its first `/./` (the pivot;
   * without one, the pivot is the root). The part before is resolved like a
   * source (wildcards allowed: each match is a pivot directory); the part
   * after is an include pattern (`.dockerignore` syntax, `**` allowed)
   * relative to the pivot, and what it matches keeps its path below the
   * pivot (BuildKit convert_copy.go, frontend/dockerfile
   * testCopyParents/testCopyRelativeParents). Without wildcards, the path
   * must exist.
   */
  async selectParents(source: string): Promise<SelectedSource> {
    const pivotAt = source.indexOf("/./");
    const parentRaw = pivotAt < 0 ? "/" : source.slice(0, pivotAt);
    const patternRaw = pivotAt < 0 ? source : source.slice(pivotAt + 3);
    const parent = cleanSourcePath(parentRaw);
    const pattern = cleanSourcePath(patternRaw);
    const wildcard = hasWildcards(parent) || hasWildcards(pattern);
    const include: PathFilter | undefined =
      pattern === "" ? undefined : { matcher: compile([pattern], "--parents source"), mode: "include", mayMatchBelow: mayMatchBelowPattern(pattern) };
    if (!wildcard) {
      const required = parent === "" ? pattern : pattern === "" ? parent : `${parent}/${pattern}`;
      if (typeof (await this.resolveSource(required, false, false)) === "string") throw sourceNotFound(required, this.searchedIn);
    }
    const split = splitWildcards(parent);
    const pivots = split.pattern.length === 0 ? [parent] : await this.expandWildcard(source, split.base, split.pattern);
    const matches: SelectedMatch[] = [];
    for (const pivot of pivots) {
      throwIfAborted(this.signal);
      const entry = await this.resolveSource(pivot, true, true, include);
      if (typeof entry === "string") {
        if (wildcard) continue;
        throw sourceNotFound(pivot, this.searchedIn);
      }
      if (entry.kind !== "dir") {
        if (wildcard) continue;
        throw new BuildError("COPY_SOURCE_NOT_FOUND", `${JSON.stringify(`/${pivot}`)}: not a directory (the part before "/./" must be a directory)`);
      }
      matches.push({ path: pivot, entry });
    }
    return { source, wildcard, matches };
  }
}
