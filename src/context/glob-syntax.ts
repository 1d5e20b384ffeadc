/**
 * Syntax check of a Go `filepath.Match` pattern, as moby/patternmatcher's
 * `New` performs it: it calls `filepath.Match(pattern, ".")` only for the
 * error and rejects the pattern on `ErrBadPattern`. Go (since 1.16) checks the
 * whole pattern even when the match fails early, so a pattern is bad exactly
 * when one of its chunks (the text between unbracketed `*`s) is malformed:
 *
 * - a `\` at the very end of a chunk (a trailing backslash);
 * - a `[` class that is not closed by `]`;
 * - a class item (or range end) that starts with an unescaped `-` or `]`,
 *   so `[]a]`, `[-x]`, `[x-]` and `[a-b-c]` are all bad, while `[\]a]`,
 *   `[\-x]` and `[x\-]` are fine;
 * - a class that ends right after a `\` or a range item.
 *
 * Reversed ranges such as `[z-a]` are *not* an error for `filepath.Match`
 * (Docker reports them later, when its regular expression fails to compile).
 */

/**
 * Returns why `pattern` is not a valid `filepath.Match` pattern, or
 * `undefined` when it is. The reason is a short lower-case phrase.
 */
export function globSyntaxError(pattern: string): string | undefined {
  let rest = pattern;
  while (rest.length > 0) {
    // scanChunk: skip leading stars, then read up to the next star that is
    // not inside brackets (a backslash protects the following character).
    let start = 0;
    while (start < rest.length && rest.charCodeAt(start) === 0x2a) start++;
    rest = rest.slice(start);
    let inRange = false;
    let i = 0;
    scan: for (; i < rest.length; i++) {
      switch (rest[i]) {
        case "\\":
          if (i + 1 < rest.length) i++;
          break;
        case "[":
          inRange = true;
          break;
        case "]":
          inRange = false;
          break;
        case "*":
          if (!inRange) break scan;
          break;
      }
    }
    const reason = chunkSyntaxError(rest.slice(0, i));
    if (reason !== undefined) return reason;
    rest = rest.slice(i);
  }
  return undefined;
}

/** The syntax half of Go's `matchChunk`, run as if the match had already failed. */
function chunkSyntaxError(chunk: string): string | undefined {
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i];
    if (c === "[") {
      i++;
      if (chunk[i] === "^") i++;
      let ranges = 0;
      for (;;) {
        if (i < chunk.length && chunk[i] === "]" && ranges > 0) {
          i++;
          break;
        }
        const lo = classItemEnd(chunk, i);
        if (typeof lo === "string") return lo;
        i = lo;
        if (chunk[i] === "-") {
          const hi = classItemEnd(chunk, i + 1);
          if (typeof hi === "string") return hi;
          i = hi;
        }
        ranges++;
      }
    } else if (c === "\\") {
      i++;
      if (i >= chunk.length) return "trailing backslash";
      i += codePointLength(chunk, i);
    } else {
      i += codePointLength(chunk, i);
    }
  }
  return undefined;
}

/**
 * Go's `getEsc`: reads one class character at `i` and returns the index
 * after it, or the reason it is malformed.
 */
function classItemEnd(chunk: string, i: number): number | string {
  if (i >= chunk.length) return "character class is not closed with ']'";
  const c = chunk[i];
  if (c === "-" || c === "]") {
    return `'${c}' must be escaped with '\\' at this position of a character class`;
  }
  if (c === "\\") {
    i++;
    if (i >= chunk.length) return "character class is not closed with ']'";
  }
  i += codePointLength(chunk, i);
  if (i >= chunk.length) return "character class is not closed with ']'";
  return i;
}

/** Length in UTF-16 code units of the code point starting at `i`. */
function codePointLength(s: string, i: number): number {
  const c = s.codePointAt(i);
  return c !== undefined && c > 0xffff ? 2 : 1;
}
