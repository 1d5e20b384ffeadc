import { CH, EOF, runeString } from "./chars.js";
import { CodePointScanner } from "./scanner.js";

/**
 * One element of a compiled shell pattern: a literal character, `?` (any
 * one character) or `*` (any run of characters).
 */
export type PatternToken = { readonly kind: "literal"; readonly ch: string } | { readonly kind: "any" } | { readonly kind: "star" };

/** A pattern that could not be compiled; `message` is BuildKit's reason. */
export class PatternSyntaxError extends Error {
  /** @param reason e.g. `invalid escape '\x'` */
  constructor(reason: string) {
    super(reason);
    this.name = "PatternSyntaxError";
  }
}

const ANY: PatternToken = { kind: "any" };
const STAR: PatternToken = { kind: "star" };

/**
 * Compiles a BuildKit shell pattern (the text after `#`, `%` or `/` in
 * `${VAR...}`) to tokens. BuildKit's dialect (`convertShellPatternToRegex`):
 *
 * - `*` and `?` are wildcards; everything else is literal, including `[`
 *   and `]` (BuildKit has no bracket expressions).
 * - `\` escapes only `*`, `?` and `\`; any other escape is an error. The
 *   backslash is hard-wired: it is the pattern escape even when the
 *   Dockerfile escape character is a backtick.
 * - `\}` and `\/` mean `}` and `/` (needed to write them inside `${}`).
 *
 * Instead of a regular expression per call, the tokens are matched by
 * {@link PatternMatcher}, which reproduces Go's RE2 leftmost-first result.
 */
export function compilePattern(pattern: string): PatternToken[] {
  const scanner = new CodePointScanner(pattern);
  const tokens: PatternToken[] = [];
  for (let tok = scanner.next(); tok !== EOF; tok = scanner.next()) {
    if (tok === CH.STAR) {
      // `**` finds the same match end as `*` (both greedy or both lazy), and
      // one star keeps the backtracking search small.
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      continue;
    }
    if (tok === CH.QUESTION) {
      tokens.push(ANY);
      continue;
    }
    if (tok === CH.BACKSLASH) {
      const following = scanner.peek();
      if (following === CH.RBRACE || following === CH.SLASH) continue;
      const escaped = scanner.next();
      if (escaped !== CH.STAR && escaped !== CH.QUESTION && escaped !== CH.BACKSLASH) {
        throw new PatternSyntaxError(`invalid escape '\\${runeString(escaped)}'`);
      }
      tokens.push({ kind: "literal", ch: String.fromCodePoint(escaped) });
      continue;
    }
    tokens.push({ kind: "literal", ch: String.fromCodePoint(tok) });
  }
  return tokens;
}

/**
 * Reverses a pattern's characters but keeps each `\x` pair in order
 * (`a\*c` becomes `c\*a`), as BuildKit's `reversePattern`. A lone trailing
 * backslash is reversed like any character, so `ab\` becomes `\ba`.
 */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const ch = chars[i] as string;
    const at = last - i;
    if (ch === "\\" && i !== last) {
      out[at - 1] = ch;
      out[at] = chars[i + 1] as string;
      i += 2;
    } else {
      out[at] = ch;
      i += 1;
    }
  }
  return out.join("");
}

/**
 * Matches compiled pattern tokens against one subject string with the result
 * Go's `regexp` gives for the equivalent RE2 expression: leftmost start,
 * then the first match a backtracking search finds (`*` as `.*` when greedy,
 * `.*?` when not). As in RE2 without the `s` flag, `?` and `*` never match
 * a newline.
 */
export class PatternMatcher {
  private readonly n: number;
  // Results of star positions already tried, keyed by token and offset.
  // A sub-match result depends only on (token, offset), so the cache stays
  // valid across start offsets and keeps the search polynomial.
  private readonly memo = new Map<number, number>();
  private lineEnds: Int32Array | undefined;

  /**
   * @param tokens the compiled pattern
   * @param chars the subject, one code point per element
   * @param greedy whether `*` prefers the longest run
   */
  constructor(
    private readonly tokens: readonly PatternToken[],
    private readonly chars: readonly string[],
    private readonly greedy: boolean,
  ) {
    this.n = chars.length;
  }

  /** End offset of the match anchored at `start`, or -1 if none. */
  matchAt(start: number): number {
    return this.from(0, start);
  }

  /** `[start, end]` of the leftmost match at or after `from`, or undefined. */
  find(from: number): [number, number] | undefined {
    for (let start = from; start <= this.n; start++) {
      const end = this.from(0, start);
      if (end >= 0) return [start, end];
    }
    return undefined;
  }

  private lineEnd(pos: number): number {
    if (this.lineEnds === undefined) {
      const ends = new Int32Array(this.n + 1);
      let end = this.n;
      ends[this.n] = this.n;
      for (let i = this.n - 1; i >= 0; i--) {
        if (this.chars[i] === "\n") end = i;
        ends[i] = end;
      }
      this.lineEnds = ends;
    }
    return this.lineEnds[pos] ?? this.n;
  }

  private from(ti: number, pos: number): number {
    const { tokens, chars, n } = this;
    for (; ti < tokens.length; ti++) {
      const tok = tokens[ti] as PatternToken;
      if (tok.kind === "literal") {
        if (pos >= n || chars[pos] !== tok.ch) return -1;
        pos++;
      } else if (tok.kind === "any") {
        if (pos >= n || chars[pos] === "\n") return -1;
        pos++;
      } else {
        return this.star(ti, pos);
      }
    }
    return pos;
  }

  private star(ti: number, pos: number): number {
    const key = ti * (this.n + 1) + pos;
    const cached = this.memo.get(key);
    if (cached !== undefined) return cached;
    const limit = this.lineEnd(pos);
    let result = -1;
    if (ti === this.tokens.length - 1) {
      result = this.greedy ? limit : pos;
    } else if (this.greedy) {
      for (let k = limit; k >= pos && result < 0; k--) result = this.from(ti + 1, k);
    } else {
      for (let k = pos; k <= limit && result < 0; k++) result = this.from(ti + 1, k);
    }
    this.memo.set(key, result);
    return result;
  }
}
