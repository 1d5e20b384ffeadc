/**
 * COPY/ADD source wildcards, with the semantics of BuildKit's file backend
 * (tonistiigi/fsutil `copy.ResolveWildcards`): a source is split at its first
 * path segment that holds a wildcard character; everything before is a plain
 * directory path, everything after is matched with Go's `filepath.Match`
 * against paths below that directory. `*` and `?` never match `/`, so the
 * match is effectively per segment, which is how {@link matchSegment} is used.
 */

/** Thrown for a pattern Go's `filepath.Match` rejects (`ErrBadPattern`). */
export class BadPatternError extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
    this.name = "BadPatternError";
  }
}

/**
 * True when `segment` holds an unescaped `*`, `?` or `[` (fsutil's
 * `containsWildcards`; a `\` escapes the next character on Linux).
 */
export function hasWildcards(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x2a || c === 0x3f || c === 0x5b) return true;
  }
  return false;
}

/** A source path split the way fsutil's `splitWildcards` does. */
export interface WildcardSplit {
  /** The segments before the first one with a wildcard (a plain path). */
  readonly base: readonly string[];
  /** The remaining segments, the first of which has a wildcard; empty for a plain path. */
  readonly pattern: readonly string[];
}

/** Splits clean, `/`-separated, root-relative `path` at its first wildcard segment. */
export function splitWildcards(path: string): WildcardSplit {
  const segments = path === "" ? [] : path.split("/");
  const at = segments.findIndex(hasWildcards);
  if (at < 0) return { base: segments, pattern: [] };
  return { base: segments.slice(0, at), pattern: segments.slice(at) };
}

/** Code points of a string (Go's rune decoding of valid UTF-8). */
function runes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0) as number);
  return out;
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;
const SLASH = 0x2f;

/** Go's `scanChunk`: leading stars, then the chunk up to the next unbracketed star. */
function scanChunk(p: number[], from: number): { star: boolean; start: number; end: number } {
  let i = from;
  let star = false;
  while (i < p.length && p[i] === STAR) {
    i++;
    star = true;
  }
  const start = i;
  let inRange = false;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === BACKSLASH) {
      if (i + 1 < p.length) i++;
    } else if (c === LBRACKET) inRange = true;
    else if (c === RBRACKET) inRange = false;
    else if (c === STAR && !inRange) break;
  }
  return { star, start, end: i };
}

/** Go's `getEsc`: one (possibly escaped) character of a class. */
function getEsc(p: number[], i: number, end: number, pattern: string): { r: number; next: number } {
  if (i >= end || p[i] === DASH || p[i] === RBRACKET) throw new BadPatternError(pattern);
  if (p[i] === BACKSLASH) {
    i++;
    if (i >= end) throw new BadPatternError(pattern);
  }
  const r = p[i] as number;
  i++;
  if (i >= end) throw new BadPatternError(pattern);
  return { r, next: i };
}

/**
 * Go's `matchChunk`: matches chunk `p[start:end]` at the beginning of
 * `s[from:]`; returns the index after the match, or -1. Like Go, it keeps
 * parsing the chunk after a mismatch so malformed patterns always throw.
 */
function matchChunk(p: number[], start: number, end: number, s: number[], from: number, pattern: string): number {
  let failed = false;
  let i = start;
  let j = from;
  while (i < end) {
    if (!failed && j >= s.length) failed = true;
    const c = p[i] as number;
    if (c === LBRACKET) {
      let r = -1;
      if (!failed) r = s[j++] as number;
      i++;
      let negated = false;
      if (i < end && p[i] === CARET) {
        negated = true;
        i++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (i < end && p[i] === RBRACKET && nrange > 0) {
          i++;
          break;
        }
        const lo = getEsc(p, i, end, pattern);
        i = lo.next;
        let hi = lo.r;
        if (p[i] === DASH) {
          const h = getEsc(p, i + 1, end, pattern);
          i = h.next;
          hi = h.r;
        }
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === QUESTION) {
      if (!failed) {
        if (s[j] === SLASH) failed = true;
        j++;
      }
      i++;
    } else {
      if (c === BACKSLASH) {
        i++;
        if (i >= end) throw new BadPatternError(pattern);
      }
      if (!failed) {
        if (p[i] !== s[j]) failed = true;
        j++;
      }
      i++;
    }
  }
  return failed ? -1 : j;
}

/**
 * Go's `filepath.Match(pattern, name)` on Linux, exactly: `*` matches any
 * run of non-`/` characters, `?` one non-`/` character, `[...]` a class
 * (`^` negates, `a-z` ranges), `\` escapes. Throws {@link BadPatternError}
 * for a malformed pattern (Go's `ErrBadPattern`), also when the match
 * fails before reaching the malformed part, as Go 1.16+ does.
 */
export function goMatch(pattern: string, name: string): boolean {
  const p = runes(pattern);
  const s = runes(name);
  let pi = 0;
  let si = 0;
  outer: while (pi < p.length) {
    const { star, start, end } = scanChunk(p, pi);
    pi = end;
    if (star && start === end) {
      // A trailing star matches the rest unless it holds a separator.
      for (let k = si; k < s.length; k++) if (s[k] === SLASH) return false;
      return true;
    }
    const t = matchChunk(p, start, end, s, si, pattern);
    if (t >= 0 && (t === s.length || pi < p.length)) {
      si = t;
      continue;
    }
    if (star) {
      for (let k = si; k < s.length && s[k] !== SLASH; k++) {
        const t2 = matchChunk(p, start, end, s, k + 1, pattern);
        if (t2 >= 0) {
          if (pi >= p.length && t2 < s.length) continue;
          si = t2;
          continue outer;
        }
      }
    }
    // No match: check that the rest of the pattern is well formed.
    while (pi < p.length) {
      const rest = scanChunk(p, pi);
      pi = rest.end;
      matchChunk(p, rest.start, rest.end, [], 0, pattern);
    }
    return false;
  }
  return si === s.length;
}

/**
 * Matches one path segment against one pattern segment. Malformed patterns
 * throw {@link BadPatternError}.
 */
export function matchSegment(pattern: string, name: string): boolean {
  return goMatch(pattern, name);
}
