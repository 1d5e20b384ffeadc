import { globSyntaxError } from "./glob-syntax.js";
import { compileRe2, Re2SyntaxError } from "./re2-translate.js";

/**
 * How moby/patternmatcher's `Pattern.compile` decided to match a pattern.
 * The choice is not an optimisation only: the three string strategies give
 * different answers than a regular expression would.
 *
 * - `exact`: no wildcard, escape or bracket — `path === pattern`.
 * - `prefix`: the pattern ends in `**` and has nothing special before it —
 *   `path.startsWith(pattern without the "**")`, so `abc**` matches
 *   `abcdef` and `dir/**` matches `dir/x` but not `dir`.
 * - `suffix`: the pattern starts with `**` and nothing after it is
 *   special — `path.endsWith(pattern without the "**")`, plus `**` + `/x`
 *   matching `x` itself. So `**file` matches `myfile` (a plain string
 *   suffix, not a path-element match).
 * - `regexp`: everything else, through the Go regular expression moby
 *   builds: `*` → `[^/]*`, `?` → `[^/]`, `**` followed by more → `(.*` +
 *   `/)?` (whole directories, or none), a final `**` → `.*`, `\x` → `\x`, `. + ( ) | { } $` escaped, and
 *   `[`, `]`, `^` and all else copied verbatim.
 */
export type GlobKind = "exact" | "prefix" | "suffix" | "regexp";

/** A pattern that Docker rejects; `message` is a short lower-case reason. */
export class PatternSyntaxError extends Error {
  /** @param message what is wrong, as a short lower-case phrase. */
  constructor(message: string) {
    super(message);
    this.name = "PatternSyntaxError";
  }
}

/** One glob compiled the way moby/patternmatcher compiles it. */
export interface CompiledGlob {
  /** The matching strategy moby chose for this pattern. */
  readonly kind: GlobKind;
  /** For `regexp` patterns, the Go regular expression moby builds; otherwise undefined. */
  readonly goRegexp: string | undefined;
  /** True when `path` (a `/`-separated path, as given) matches this glob by itself (no parent logic). */
  test(path: string): boolean;
}

/** Characters moby escapes because they mean something to regexp but nothing to filepath.Match. */
const REGEXP_ONLY = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** moby's `Pattern.compile` with `/` as separator: the match kind and, for `regexp`, the Go source. */
export function mobyCompile(pattern: string): { kind: GlobKind; goRegexp: string } {
  const chars = Array.from(pattern);
  let pos = 0;
  // text/scanner skips a byte order mark at the very start of its input.
  if (chars[0] === "\uFEFF") pos = 1;
  const peek = (): string | undefined => chars[pos];
  let re = "^";
  let kind: GlobKind = "exact";
  for (let i = 0; pos < chars.length; i++) {
    const ch = chars[pos++] ?? "";
    if (ch === "*") {
      if (peek() === "*") {
        pos++;
        // "**/" is treated as "**".
        if (peek() === "/") pos++;
        if (peek() === undefined) {
          // A final "**" accepts everything, as in .gitignore.
          if (kind === "exact") {
            kind = "prefix";
          } else {
            re += ".*";
            kind = "regexp";
          }
        } else {
          // Any number of directories, including none.
          re += "(.*/)?";
          kind = "regexp";
        }
        if (i === 0) kind = "suffix";
      } else {
        re += "[^/]*";
        kind = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      kind = "regexp";
    } else if (REGEXP_ONLY.has(ch)) {
      re += "\\" + ch;
    } else if (ch === "\\") {
      const next = peek();
      if (next !== undefined) {
        pos++;
        re += "\\" + next;
        kind = "regexp";
      } else {
        re += "\\";
      }
    } else if (ch === "[" || ch === "]") {
      re += ch;
      kind = "regexp";
    } else {
      re += ch;
    }
  }
  if (kind === "regexp") re += "$";
  return { kind, goRegexp: re };
}

/**
 * Compiles one cleaned pattern (no leading `!`) exactly as
 * moby/patternmatcher does: first the `filepath.Match` syntax check that
 * `New` performs, then `Pattern.compile`. Throws {@link PatternSyntaxError}
 * for a pattern `filepath.Match` rejects and for one whose regular
 * expression Go cannot compile (such as the reversed range in
 * `[Local-Only]`, which Docker only reports when the pattern is first used).
 */
export function compileGlob(pattern: string): CompiledGlob {
  const syntax = globSyntaxError(pattern);
  if (syntax !== undefined) throw new PatternSyntaxError(syntax);
  const { kind, goRegexp } = mobyCompile(pattern);
  switch (kind) {
    case "exact":
      return { kind, goRegexp: undefined, test: (path) => path === pattern };
    case "prefix": {
      const prefix = pattern.slice(0, -2);
      return { kind, goRegexp: undefined, test: (path) => path.startsWith(prefix) };
    }
    case "suffix": {
      const suffix = pattern.slice(2);
      // "**/foo" also matches "foo" at the root.
      const bare = suffix.startsWith("/") ? suffix.slice(1) : undefined;
      return { kind, goRegexp: undefined, test: (path) => path.endsWith(suffix) || path === bare };
    }
    case "regexp": {
      let regexp: RegExp;
      try {
        regexp = compileRe2(goRegexp);
      } catch (err) {
        if (err instanceof Re2SyntaxError) throw new PatternSyntaxError(err.message);
        throw err;
      }
      // The regular expression is anchored and starts with the pattern's
      // literal text (moby escapes what would be special), so a cheap
      // startsWith rejects most paths before the regexp runs.
      const literal = pattern.startsWith("\uFEFF") ? "" : (/^[^*?[\]\\^]*/.exec(pattern)?.[0] ?? "");
      if (literal === "") return { kind, goRegexp, test: (path) => regexp.test(path) };
      return { kind, goRegexp, test: (path) => path.startsWith(literal) && regexp.test(path) };
    }
  }
}
