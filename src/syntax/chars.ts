/**
 * Character classes with Go's semantics. BuildKit trims and splits with
 * `unicode.IsSpace` and the regexp `[\t\v\f\r ]+`; matching them exactly
 * keeps our argument splitting identical to BuildKit's.
 */

/** Go's `unicode.IsSpace`. */
export function isGoSpace(ch: string): boolean {
  return isGoSpaceCode(ch.charCodeAt(0));
}

/** Go's `unicode.IsSpace` on a UTF-16 code unit (no surrogate is a space). */
export function isGoSpaceCode(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpaceCode(s.charCodeAt(a))) a++;
  while (b > a && isGoSpaceCode(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Number of leading `unicode.IsSpace` characters of `s`. */
export function leadingSpace(s: string): number {
  let a = 0;
  while (a < s.length && isGoSpaceCode(s.charCodeAt(a))) a++;
  return a;
}

/**
 * Go's `strings.ToLower`: rune by rune, simple case mapping. JavaScript's
 * `toLowerCase` differs on `İ` (U+0130, two code points in JavaScript, `i`
 * in Go) and on a final `Σ` (context-dependent `ς` in JavaScript).
 */
export function goToLower(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (ascii) return s.toLowerCase();
  let out = "";
  for (const ch of s) out += ch === "\u0130" ? "i" : ch.toLowerCase();
  return out;
}

/** Splits like Go's `reWhitespace.Split(s, -1)`. */
export function splitWhitespace(s: string): string[] {
  return s.split(/[\t\v\f\r ]+/);
}

/**
 * Go's `strconv.Quote`: how BuildKit's AST dump prints every value.
 * Printable characters stay literal (including non-ASCII), others become
 * `\n`, `\t`, `\xHH`, `\uHHHH` or `\UHHHHHHHH`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case "\\": out += "\\\\"; continue;
      case "\x07": out += "\\a"; continue;
      case "\b": out += "\\b"; continue;
      case "\f": out += "\\f"; continue;
      case "\n": out += "\\n"; continue;
      case "\r": out += "\\r"; continue;
      case "\t": out += "\\t"; continue;
      case "\v": out += "\\v"; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x7f || isPrintable(ch)) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd";
    else if (cp > 0xffff) out += "\\U" + cp.toString(16).padStart(8, "0");
    else out += "\\u" + cp.toString(16).padStart(4, "0");
  }
  return out + '"';
}

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and U+0020.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}
