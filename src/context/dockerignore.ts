/**
 * `.dockerignore`: reading, locating and matching, with the semantics of
 * Docker/BuildKit (moby/patternmatcher, its `ignorefile` reader, BuildKit's
 * `dockerui` frontend and tonistiigi/fsutil's walker).
 *
 * ## Reading (moby `ignorefile.ReadAll`)
 *
 * 1. The text is split into lines at `\n`; one `\r` before it is dropped.
 *    A line of 64 KiB or more is an error (Go's `bufio.Scanner` limit).
 * 2. A UTF-8 byte order mark is removed from the first line.
 * 3. A line whose *first character* is `#` is a comment. Only column one
 *    counts: `  # x` is the pattern `# x`.
 * 4. Leading and trailing white space (Go's `unicode.IsSpace`) is removed;
 *    empty lines are skipped.
 * 5. A leading `!` marks an exception; the white space after it is removed
 *    too (`! foo` is `!foo`).
 * 6. The rest is cleaned like Go's `filepath.Clean` (`a//b/./c/../` →
 *    `a/b`) and one leading `/` is removed (`/foo` is `foo`; `/` stays `/`).
 *
 * ## Matching (moby `PatternMatcher`)
 *
 * Each pattern is trimmed and cleaned once more, split into an optional `!`
 * and a glob, and checked with Go's `filepath.Match` syntax rules. A lone `!`
 * is an error. Paths are relative to the context root, `/`-separated,
 * without `./`.
 *
 * - `*` matches any run of characters except `/`; `?` one character except
 *   `/`; `[abc]`, `[a-z]`, `[^a-z]` a character class; `\` escapes the next
 *   character.
 * - `**` matches any number of directories, including none: `**` + `/*.go`
 *   (one pattern) matches `a.go` and `x/y/a.go`. A final `**` matches
 *   everything below (`dir/**` matches `dir/x`, not `dir`). `**` at the start makes a plain
 *   suffix test (`**file` matches `myfile`), one at the end a plain prefix
 *   test (`abc**` matches `abcdef`).
 * - A pattern that matches a directory matches everything under it: `docs`
 *   excludes `docs/a/b.md`.
 * - Patterns are tried in order and the last one that matches a path decides:
 *   a plain pattern excludes, an exception (`!`) re-includes. `*.md`,
 *   `!README*.md`, `README-secret.md` excludes `README-secret.md`; with the
 *   last two lines swapped it is included.
 * - Docker translates globs into Go regular expressions textually, and some
 *   corners follow that translation rather than `filepath.Match`: `^` outside
 *   brackets is an anchor (`^a*` matches `abc`), `[[:digit:]]` is a POSIX
 *   class, `\d` is a digit, a `*` or `?` inside brackets breaks the class.
 *   {@link IgnoreMatcher} reproduces these exactly.
 *
 * ## Walking (tonistiigi/fsutil)
 *
 * BuildKit filters the context while walking it, carrying each directory's
 * per-pattern results down to its entries ({@link IgnoreMatcher.walkMatch});
 * this agrees with {@link IgnoreMatcher.matches} except in a rare corner
 * documented there. A walker may skip an excluded directory only under the
 * conditions of {@link IgnoreMatcher.canSkipDir}; otherwise it descends and
 * keeps whatever an exception re-includes (together with its parent
 * directories).
 *
 * ## Locating (BuildKit `frontend/dockerui`)
 *
 * `<Dockerfile path>.dockerignore` (next to the Dockerfile, same base name
 * plus `.dockerignore`) wins over `<context>/.dockerignore` when it exists;
 * the two are never merged. See {@link loadDockerignore}.
 */

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { goClean, goDir, goTrimSpace } from "./go-compat.js";
import { compileGlob, PatternSyntaxError, type CompiledGlob } from "./ignore-pattern.js";

/** One non-comment, non-blank line of an ignore file. */
export interface IgnorePattern {
  /** The line as written, without its line terminator (and without the first line's BOM). */
  readonly raw: string;
  /**
   * The pattern as moby's `ignorefile.ReadAll` returns it: trimmed, cleaned,
   * one leading `/` removed, a leading `!` kept (`"!inverted/abs/path"`).
   */
  readonly text: string;
  /**
   * True for an exception (a `!` line; moby calls it an "exclusion"), which
   * re-includes what earlier patterns excluded.
   */
  readonly exception: boolean;
  /**
   * The glob that is matched: {@link text} after the processing of moby's
   * `PatternMatcher` (trimmed, cleaned again, `!` removed). The empty string
   * means the line is ignored when {@link exception} is false, and is the
   * illegal lone `!` when it is true.
   */
  readonly pattern: string;
  /** 1-based line number in the file; 0 for a pattern that did not come from a file. */
  readonly line: number;
  /** The file the line came from (for messages), if known. */
  readonly file: string | undefined;
}

/** What {@link loadDockerignore} found. */
export interface DockerignoreFile {
  /** The parsed patterns; empty when there is no ignore file. */
  readonly patterns: IgnorePattern[];
  /** Absolute path of the file that was read, or undefined when none exists. */
  readonly file: string | undefined;
}

/** The part of moby's `PatternMatcher.New` that turns one pattern string into exception + glob. */
function splitPattern(text: string): { exception: boolean; pattern: string } {
  let p = goTrimSpace(text);
  if (p === "") return { exception: false, pattern: "" };
  p = goClean(p);
  if (p.startsWith("!")) return { exception: true, pattern: p.slice(1) };
  return { exception: false, pattern: p };
}

/** Go's bufio.Scanner refuses a line (token) of this many bytes or more. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Parses the text of a `.dockerignore` file the way moby's
 * `ignorefile.ReadAll` does (see the module comment for the rules). Like
 * `ReadAll` it does not validate the globs — {@link IgnoreMatcher} does,
 * naming `file` and the line in its errors.
 *
 * @param text the file's content, decoded as UTF-8.
 * @param file the file's path, recorded in each pattern for error messages.
 * @throws BuildError `DF_ARGS` for a line of 64 KiB or more, which Docker
 *   cannot read either.
 */
export function parseDockerignore(text: string, file?: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  if (text === "") return out;
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? "";
    if (line.length * 3 >= MAX_LINE_BYTES && Buffer.byteLength(line, "utf8") >= MAX_LINE_BYTES) {
      throw new BuildError("DF_ARGS", `${where(file, i + 1)}: line is too long (64 KiB or more)`, {
        hint: "Docker reads ignore files line by line and cannot read lines this long either",
      });
    }
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (i === 0 && line.startsWith("\uFEFF")) line = line.slice(1);
    // Comments are recognised before trimming: only column one counts.
    if (line.startsWith("#")) continue;
    let pattern = goTrimSpace(line);
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    if (invert) pattern = "!" + pattern;
    out.push({ raw: line, text: pattern, ...splitPattern(pattern), line: i + 1, file });
  }
  return out;
}

/** `file line N` / `line N` / `pattern` for messages. */
function where(file: string | undefined, line: number): string {
  if (line <= 0) return file ?? "ignore pattern";
  return file === undefined ? `line ${line}` : `${file} line ${line}`;
}

/** Returns `pattern` minus a trailing `/**` and then a trailing `/*` (fsutil's `patternWithoutTrailingGlob`). */
function withoutTrailingGlob(pattern: string): string {
  let p = pattern;
  if (p.endsWith("/**")) p = p.slice(0, -3);
  if (p.endsWith("/*")) p = p.slice(0, -2);
  return p;
}

/** Characters that make an exception pattern more than a literal path for fsutil. */
const GLOB_CHARS = /[*[\]?^\\]/;

/** Paths that {@link parentDirs} must clean before splitting (Go's `filepath.Dir` cleans). */
const NEEDS_CLEAN = /\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$/;

/**
 * The parent directories of `path`, outermost first, as moby builds them:
 * `filepath.Dir(path)` split at `/` and re-joined prefix by prefix.
 * `a/b/c` gives `["a", "a/b"]`; `file` gives `[]`.
 */
function parentDirs(path: string): string[] {
  const out: string[] = [];
  if (!NEEDS_CLEAN.test(path)) {
    for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) out.push(path.slice(0, i));
    // A leading "/" gives the empty first element, as in Go.
    return out;
  }
  const dir = goDir(path);
  if (dir === ".") return out;
  const parts = dir.split("/");
  let acc = "";
  for (let k = 0; k < parts.length; k++) {
    acc = k === 0 ? (parts[0] ?? "") : `${acc}/${parts[k] ?? ""}`;
    out.push(acc);
  }
  return out;
}

/** A compiled pattern. */
interface Rule {
  readonly exception: boolean;
  /** The glob as matched (moby's `Pattern.String()`). */
  readonly pattern: string;
  readonly glob: CompiledGlob;
  readonly source: IgnorePattern;
}

/**
 * Match state of a directory, handed to its children during a walk (moby's
 * `MatchInfo`): which patterns matched the directory. Treat it as opaque and
 * only pass it back to the {@link IgnoreMatcher} that produced it.
 */
export interface IgnoreWalkState {
  /** Per pattern, whether it matched the directory (or one of its parents). */
  readonly perPattern: readonly boolean[];
}

/** The result of {@link IgnoreMatcher.walkMatch}. */
export interface IgnoreWalkResult {
  /** True when the path is excluded from the context. */
  readonly excluded: boolean;
  /** The state to pass when matching the path's children, if it is a directory. */
  readonly state: IgnoreWalkState;
}

/** Options for {@link IgnoreMatcher}. */
export interface IgnoreMatcherOptions {
  /** File name used in error messages for patterns given as strings (or lacking one). */
  readonly file?: string;
}

const NO_STATE: IgnoreWalkState = { perPattern: [] };

/**
 * A compiled list of `.dockerignore` patterns, with the matching rules of
 * moby/patternmatcher (see the module comment). Build it once per ignore file:
 * every glob is validated and compiled (to a string test or a `RegExp`) in
 * the constructor, so the match methods do no parsing and are safe to run
 * against tens of thousands of paths.
 *
 * All methods take a path relative to the context root, `/`-separated,
 * without a leading `./` or `/` and without a trailing `/`, exactly as a
 * walker produces them; they do not clean it. `""` and `"."` (the root) are
 * never excluded.
 */
export class IgnoreMatcher {
  readonly #rules: readonly Rule[];
  readonly #sources: readonly IgnorePattern[];
  /** Exception patterns without trailing `/**` or `/*`, plus `/` (fsutil's skip test). */
  readonly #exceptionDirs: readonly string[];
  /** False when some exception is a real glob, so no excluded directory may be skipped. */
  readonly #onlyLiteralExceptions: boolean;

  /**
   * True when at least one pattern is an exception (`!`); moby's
   * `Exclusions()`.
   */
  readonly hasExceptions: boolean;

  /**
   * Compiles `patterns`, in order. Strings are taken as `PatternMatcher.New`
   * takes them (already read from a file: `"!foo"` is an exception, no
   * comment handling); {@link IgnorePattern}s come from
   * {@link parseDockerignore}. Blank patterns are skipped.
   *
   * @throws BuildError `DF_ARGS` naming the pattern and its file line, for a
   *   lone `!` and for a glob Docker rejects: a malformed `filepath.Match`
   *   pattern (unclosed `[`, a class item starting with `-` or `]`, a trailing
   *   `\`) or one whose regular expression Go cannot compile (a reversed range
   *   such as `[z-a]`, an unknown escape such as `\q`). Docker reports the
   *   latter kind lazily, when the pattern is first evaluated; tsbuild
   *   reports it up front.
   */
  constructor(patterns: Iterable<IgnorePattern | string>, options: IgnoreMatcherOptions = {}) {
    const rules: Rule[] = [];
    for (const entry of patterns) {
      const source: IgnorePattern =
        typeof entry === "string"
          ? { raw: entry, text: entry, ...splitPattern(entry), line: 0, file: options.file }
          : entry;
      // Re-derive from the text rather than trusting the fields: they must agree with New.
      const { exception, pattern } = splitPattern(source.text);
      if (pattern === "" && !exception) continue;
      const file = source.file ?? options.file;
      const shown = JSON.stringify(goTrimSpace(source.raw));
      if (pattern === "") {
        const message = `${where(file, source.line)}: invalid pattern ${shown}: "!" must be followed by a pattern`;
        throw new BuildError("DF_ARGS", message, {
          hint: "remove the line, or write the path to re-include after the '!'",
        });
      }
      let glob: CompiledGlob;
      try {
        glob = compileGlob(pattern);
      } catch (err) {
        if (!(err instanceof PatternSyntaxError)) throw err;
        throw new BuildError("DF_ARGS", `${where(file, source.line)}: invalid pattern ${shown}: ${err.message}`, {
          hint: "ignore patterns use Go filepath.Match syntax; escape a literal '[', '*', '?' or '\\' with a backslash",
          cause: err,
        });
      }
      rules.push({ exception, pattern, glob, source });
    }
    this.#rules = rules;
    this.#sources = Object.freeze(rules.map((r) => r.source));
    this.hasExceptions = rules.some((r) => r.exception);
    const exceptionPatterns = rules.filter((r) => r.exception).map((r) => withoutTrailingGlob(r.pattern));
    this.#onlyLiteralExceptions = exceptionPatterns.every((p) => !GLOB_CHARS.test(p));
    this.#exceptionDirs = exceptionPatterns.map((p) => p + "/");
  }

  /** The patterns in effect, in order (blank ones dropped). */
  get patterns(): readonly IgnorePattern[] {
    return this.#sources;
  }

  /** True when no pattern is in effect: nothing is ever excluded. */
  get isEmpty(): boolean {
    return this.#rules.length === 0;
  }

  /**
   * True when `relPath` is excluded from the build context — moby's
   * `MatchesOrParentMatches`. Patterns are visited in order, skipping a
   * plain pattern while the path is already excluded and an exception while
   * it is not; a pattern applies when it matches the path itself or any of
   * its parent directories (`docs` matches `docs/a/b`), and then sets the
   * result (excluded for a plain pattern, included for an exception).
   */
  matches(relPath: string): boolean {
    if (relPath === "" || relPath === ".") return false;
    let matched = false;
    let parents: string[] | undefined;
    for (const rule of this.#rules) {
      if (rule.exception !== matched) continue;
      let m = rule.glob.test(relPath);
      if (!m) {
        parents ??= parentDirs(relPath);
        for (const dir of parents) {
          if (rule.glob.test(dir)) {
            m = true;
            break;
          }
        }
      }
      if (m) matched = !rule.exception;
    }
    return matched;
  }

  /**
   * Like {@link matches} but without parent matching: a pattern applies only
   * when it matches `relPath` itself — moby's `MatchesExact`. `docs` does not
   * exactly match `docs/README.md`.
   */
  matchesExact(relPath: string): boolean {
    if (relPath === "" || relPath === ".") return false;
    let matched = false;
    for (const rule of this.#rules) {
      if (rule.exception !== matched) continue;
      if (rule.glob.test(relPath)) matched = !rule.exception;
    }
    return matched;
  }

  /**
   * Matches `relPath` during a top-down walk, reusing its parent directory's
   * result — moby's `MatchesUsingParentResults`, which is what BuildKit's
   * context transfer (fsutil) actually uses. Pass the `state` returned for a
   * directory when matching its entries; omit `parent` for entries of the
   * context root.
   *
   * A pattern that matched the parent directory applies to the child
   * unconditionally; the others are tested against the child's own path only
   * (with no `parent`, against its parent directories too, as in
   * {@link matches}). This costs one test per pattern instead of one per
   * pattern and ancestor, and differs from {@link matches} in a corner:
   * with `a/b` then `!a`, `a/b/c` is included by `matches` but excluded here
   * (and by Docker), because `!a` was skipped for `a` (nothing was excluded
   * yet) and is not re-tested against the ancestors of `a/b/c`.
   */
  walkMatch(relPath: string, parent?: IgnoreWalkState): IgnoreWalkResult {
    if (relPath === "" || relPath === ".") return { excluded: false, state: NO_STATE };
    const rules = this.#rules;
    const inherited = parent !== undefined && parent.perPattern.length > 0 ? parent.perPattern : undefined;
    if (inherited !== undefined && inherited.length !== rules.length) {
      throw new BuildError("INTERNAL", "IgnoreWalkState passed to a different IgnoreMatcher than the one that made it");
    }
    const perPattern = new Array<boolean>(rules.length).fill(false);
    let matched = false;
    let parents: string[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule;
      let m = inherited !== undefined && inherited[i] === true;
      if (!m) {
        if (rule.exception !== matched) continue;
        m = rule.glob.test(relPath);
        if (!m && inherited === undefined) {
          parents ??= parentDirs(relPath);
          for (const dir of parents) {
            if (rule.glob.test(dir)) {
              m = true;
              break;
            }
          }
        }
      }
      perPattern[i] = m;
      if (m) matched = !rule.exception;
    }
    return { excluded: matched, state: { perPattern } };
  }

  /**
   * True when a walker may skip the directory `relDir` without reading it:
   * the directory is excluded and no exception can re-include anything
   * inside it. This is fsutil's rule, and it is conservative in the same way:
   *
   * - a directory that is not excluded is never skipped;
   * - with no exceptions at all, an excluded directory is skipped;
   * - if any exception is a real glob (contains `* ? [ ] ^ \` once a
   *   trailing `/**` or `/*` is removed) nothing is skipped, since it might
   *   match anywhere;
   * - otherwise the directory is skipped unless some exception (minus a
   *   trailing `/**` or `/*`) is the directory itself or lies inside it:
   *   with `**` and `!src/main/**`, `src` and `src/main` are walked, `test`
   *   is skipped.
   *
   * @param relDir the directory, relative to the context root.
   * @param excluded whether `relDir` is excluded; pass the result of
   *   {@link walkMatch} when walking (as fsutil does). Defaults to
   *   {@link matches}.
   */
  canSkipDir(relDir: string, excluded: boolean = this.matches(relDir)): boolean {
    if (!excluded || !this.#onlyLiteralExceptions) return false;
    if (!this.hasExceptions) return true;
    const dirSlash = relDir + "/";
    for (const e of this.#exceptionDirs) {
      if (e.startsWith(dirSlash)) return false;
    }
    return true;
  }
}

/** Reads `file` as UTF-8, or returns undefined when it does not exist or is not a regular file. */
async function readOptional(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file)).toString("utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw new BuildError("IO_READ", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Finds and parses the ignore file for a build, as BuildKit's Dockerfile
 * frontend does (`frontend/dockerui/config.go`):
 *
 * 1. `<dockerfilePath>.dockerignore` — the Dockerfile's own path with
 *    `.dockerignore` appended, in the Dockerfile's directory (so
 *    `build/app.Dockerfile` uses `build/app.Dockerfile.dockerignore`, even
 *    when `build/` is outside the context). It is used whenever it exists,
 *    even if empty.
 * 2. Otherwise `<contextDir>/.dockerignore`.
 * 3. Otherwise no patterns.
 *
 * The files are never merged. A missing file, or a directory in its place,
 * counts as absent.
 *
 * @param contextDir the build context directory.
 * @param dockerfilePath the Dockerfile as the user named it (`-f`), relative
 *   to the current directory or absolute; `""` means the default
 *   `<contextDir>/Dockerfile` and `"-"` a Dockerfile read from stdin (which
 *   has no ignore file of its own). Pass the requested name, not a resolved
 *   fallback: BuildKit looks for `Dockerfile.dockerignore` even when it ends
 *   up reading `dockerfile`.
 * @throws BuildError `IO_READ` when a file exists but cannot be read, and
 *   `DF_ARGS` for an unreadably long line.
 */
export async function loadDockerignore(contextDir: string, dockerfilePath: string): Promise<DockerignoreFile> {
  const candidates: string[] = [];
  if (dockerfilePath !== "-") {
    const dockerfile = dockerfilePath === "" ? join(resolve(contextDir), "Dockerfile") : resolve(dockerfilePath);
    candidates.push(`${dockerfile}.dockerignore`);
  }
  candidates.push(join(resolve(contextDir), ".dockerignore"));
  for (const file of candidates) {
    const text = await readOptional(file);
    if (text !== undefined) return { patterns: parseDockerignore(text, file), file };
  }
  return { patterns: [], file: undefined };
}
