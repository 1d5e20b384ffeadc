/**
 * Translation of Go `regexp` (RE2 syntax, `regexp.Compile`'s Perl flags) into
 * an equivalent JavaScript `RegExp` source for the `u` flag.
 *
 * moby/patternmatcher turns a glob into a Go regular expression by textual
 * substitution and passes `[`, `]`, `^` and every `\x` escape through
 * unchanged, so what Docker matches is decided by Go's regexp parser, not by
 * `filepath.Match`: `[[:digit:]]` is a POSIX class, `\d` is a digit, `\12` is
 * an octal newline, `^` outside brackets is an anchor, and a `?` or `*` inside
 * brackets turns into a nested `[^/]` that closes the bracket early. This
 * module reproduces Go's reading of such a string:
 *
 * - `.` is any character except `\n` (JavaScript's `.` also rejects `\r`,
 *   U+2028 and U+2029, so it is spelled `[^\n]`);
 * - `^`/`$` are the start/end of the text (Go's default, no multi-line mode);
 * - character classes are parsed as Go does (`]` first is literal, `-` is
 *   literal first or last, `[:name:]` POSIX classes, `\d \s \w` and their
 *   negations with Go's ASCII-only sets, `\pL`-style Unicode classes,
 *   reversed ranges are errors) and emitted as explicit code point ranges;
 * - escapes follow Go's `parseEscape`: punctuation stands for itself,
 *   `\a \f \n \r \t \v`, octal `\0`..`\777` (a lone `\1`..`\7` is a
 *   backreference and rejected), `\xHH`, `\x{H...}`; `\A \z \b \B` are
 *   assertions, `\Q...\E` quotes, `\C` and any other letter are errors.
 *
 * Only the constructs moby can produce are supported; anything else (Go flag
 * groups `(?i)`, counted repetition `{n,m}`) cannot reach this translator
 * because moby escapes `( ) { } | + . $`.
 */

/** A syntax error Go's `regexp.Compile` would report (or a construct tsbuild does not translate). */
export class Re2SyntaxError extends Error {
  /** @param message what is wrong, as a short lower-case phrase. */
  constructor(message: string) {
    super(message);
    this.name = "Re2SyntaxError";
  }
}

/** An inclusive code point range. */
type Range = readonly [number, number];

const MAX_RUNE = 0x10ffff;

/** Go's Perl class escapes (ASCII-only, `regexp/syntax/perl_groups.go`). */
const PERL_GROUPS: Readonly<Record<string, readonly Range[]>> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

/** Go's POSIX classes, `[:name:]` (negated forms `[:^name:]` are derived). */
const POSIX_GROUPS: Readonly<Record<string, readonly Range[]>> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/**
 * Go's Unicode general categories (`unicode.Categories`), which JavaScript
 * knows under the same names. Go's `C` lacks unassigned code points (`Cn`)
 * where JavaScript's `\p{C}` includes them; no file name can tell the two
 * apart in practice.
 */
const CATEGORIES = new Set(
  "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split(" "),
);

/** The complement of sorted, disjoint `ranges` within [0, U+10FFFF]. */
function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

/** A code point as a JavaScript `u`-mode escape, valid inside and outside classes. */
function cpEscape(c: number): string {
  return `\\u{${c.toString(16)}}`;
}

/** Ranges as the body of a JavaScript character class. */
function rangesBody(ranges: readonly Range[]): string {
  let out = "";
  for (const [lo, hi] of ranges) out += lo === hi ? cpEscape(lo) : `${cpEscape(lo)}-${cpEscape(hi)}`;
  return out;
}

/** A literal code point outside a class; plain for `[A-Za-z0-9_/-]`, escaped otherwise. */
function literal(c: number): string {
  if (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c === 0x2f ||
    c === 0x2d
  ) {
    return String.fromCharCode(c);
  }
  return cpEscape(c);
}

function cpAt(src: string, i: number): number {
  return src.codePointAt(i) ?? 0;
}

function cpLen(c: number): number {
  return c > 0xffff ? 2 : 1;
}

function isOctal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "7";
}

function unhex(ch: string | undefined): number {
  if (ch === undefined || !/^[0-9A-Fa-f]$/.test(ch)) return -1;
  return Number.parseInt(ch, 16);
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Go's `parseEscape` for `src[i] === "\\"`: the escaped code point and the index after it. */
function parseEscape(src: string, i: number): { cp: number; end: number } {
  if (i + 1 >= src.length) throw new Re2SyntaxError("trailing backslash at end of expression");
  const c = cpAt(src, i + 1);
  let j = i + 1 + cpLen(c);
  const bad = (): never => {
    throw new Re2SyntaxError(`invalid escape sequence: \`${src.slice(i, j)}\``);
  };
  if (c < 0x80 && !isAsciiAlnum(c)) return { cp: c, end: j };
  const ch = String.fromCodePoint(c);
  if (ch >= "0" && ch <= "7") {
    // A single non-zero digit is a backreference, which RE2 does not support.
    if (ch !== "0" && !isOctal(src[j])) return bad();
    let r = c - 0x30;
    for (let k = 1; k < 3 && isOctal(src[j]); k++) {
      r = r * 8 + (src.charCodeAt(j) - 0x30);
      j++;
    }
    return { cp: r, end: j };
  }
  switch (ch) {
    case "x": {
      if (j >= src.length) return bad();
      if (src[j] === "{") {
        j++;
        let r = 0;
        let digits = 0;
        for (;;) {
          if (j >= src.length) return bad();
          const h = src[j++];
          if (h === "}") break;
          const v = unhex(h);
          if (v < 0) return bad();
          r = r * 16 + v;
          if (r > MAX_RUNE) return bad();
          digits++;
        }
        if (digits === 0) return bad();
        return { cp: r, end: j };
      }
      const x = unhex(src[j]);
      j += j < src.length ? cpLen(cpAt(src, j)) : 0;
      const y = unhex(src[j]);
      j += j < src.length ? cpLen(cpAt(src, j)) : 0;
      if (x < 0 || y < 0) return bad();
      return { cp: x * 16 + y, end: j };
    }
    case "a":
      return { cp: 0x07, end: j };
    case "f":
      return { cp: 0x0c, end: j };
    case "n":
      return { cp: 0x0a, end: j };
    case "r":
      return { cp: 0x0d, end: j };
    case "t":
      return { cp: 0x09, end: j };
    case "v":
      return { cp: 0x0b, end: j };
  }
  return bad();
}

/**
 * Go's `parseUnicodeClass` for `\p`/`\P` at `i`: a class body (`\p{L}`,
 * `\P{Lu}`, explicit ranges for `Any`) and the index after it.
 */
function parseUnicodeClass(src: string, i: number): { body: string; end: number } {
  let positive = src[i + 1] === "p";
  let j = i + 2;
  let name: string;
  if (src[j] === "{") {
    const close = src.indexOf("}", j);
    if (close < 0) throw new Re2SyntaxError(`invalid character class range: \`${src.slice(i)}\``);
    name = src.slice(j + 1, close);
    j = close + 1;
  } else if (j < src.length) {
    const c = cpAt(src, j);
    name = String.fromCodePoint(c);
    j += cpLen(c);
  } else {
    name = "";
  }
  const seq = src.slice(i, j);
  if (name.startsWith("^")) {
    positive = !positive;
    name = name.slice(1);
  }
  // Go canonicalises the name: first letter upper case, the rest lower case,
  // without '_', '-' and ' '.
  const bare = name.replace(/[_\- ]/g, "");
  const canonical = bare.slice(0, 1).toUpperCase() + bare.slice(1).toLowerCase();
  if (canonical === "Any") return { body: positive ? rangesBody([[0, MAX_RUNE]]) : "", end: j };
  if (CATEGORIES.has(canonical)) return { body: `\\${positive ? "p" : "P"}{${canonical}}`, end: j };
  throw new Re2SyntaxError(`invalid or unsupported character class range: \`${seq}\``);
}

/** The Perl class escape (`\d`, `\S`, ...) at `i`, as ranges, or undefined. */
function perlGroup(src: string, i: number): Range[] | undefined {
  const letter = src[i + 1];
  if (letter === undefined) return undefined;
  const ranges = PERL_GROUPS[letter.toLowerCase()];
  if (ranges === undefined) return undefined;
  return letter === letter.toLowerCase() ? [...ranges] : complement(ranges);
}

/** Go's `parseClassChar`: one class character (possibly escaped) at `i`. */
function parseClassChar(src: string, i: number, classStart: number): { cp: number; end: number } {
  if (i >= src.length) {
    throw new Re2SyntaxError(`missing closing ]: \`${src.slice(classStart)}\``);
  }
  if (src[i] === "\\") return parseEscape(src, i);
  const c = cpAt(src, i);
  return { cp: c, end: i + cpLen(c) };
}

/** Go's `parseClass` for `src[i] === "["`: the JavaScript class and the index after it. */
function translateClass(src: string, i: number): { js: string; end: number } {
  let j = i + 1;
  let negated = false;
  if (src[j] === "^") {
    negated = true;
    j++;
  }
  let body = "";
  let first = true;
  while (j >= src.length || src[j] !== "]" || first) {
    first = false;
    if (j + 2 < src.length && src[j] === "[" && src[j + 1] === ":") {
      const close = src.indexOf(":]", j + 2);
      if (close >= 0) {
        const name = src.slice(j, close + 2);
        const inner = name.slice(2, -2);
        const neg = inner.startsWith("^");
        const ranges = POSIX_GROUPS[neg ? inner.slice(1) : inner];
        if (ranges === undefined) throw new Re2SyntaxError(`invalid character class range: \`${name}\``);
        body += rangesBody(neg ? complement(ranges) : ranges);
        j = close + 2;
        continue;
      }
    }
    if (src[j] === "\\" && (src[j + 1] === "p" || src[j + 1] === "P")) {
      const u = parseUnicodeClass(src, j);
      body += u.body;
      j = u.end;
      continue;
    }
    if (src[j] === "\\") {
      const perl = perlGroup(src, j);
      if (perl !== undefined) {
        body += rangesBody(perl);
        j += 2;
        continue;
      }
    }
    const rangeStart = j;
    const lo = parseClassChar(src, j, i);
    j = lo.end;
    let hi = lo.cp;
    if (j + 1 < src.length && src[j] === "-" && src[j + 1] !== "]") {
      const h = parseClassChar(src, j + 1, i);
      j = h.end;
      hi = h.cp;
      if (hi < lo.cp) {
        throw new Re2SyntaxError(`invalid character class range: \`${src.slice(rangeStart, j)}\``);
      }
    }
    body += rangesBody([[lo.cp, hi]]);
  }
  return { js: `[${negated ? "^" : ""}${body}]`, end: j + 1 };
}

/** An escape outside a class at `src[i] === "\\"`. */
function translateEscape(src: string, i: number): { js: string; end: number } {
  switch (src[i + 1]) {
    case "A":
      return { js: "^", end: i + 2 };
    case "z":
      return { js: "$", end: i + 2 };
    case "b":
      return { js: "\\b", end: i + 2 };
    case "B":
      return { js: "\\B", end: i + 2 };
    case "C":
      throw new Re2SyntaxError("invalid escape sequence: `\\C`");
    case "Q": {
      const close = src.indexOf("\\E", i + 2);
      const text = close < 0 ? src.slice(i + 2) : src.slice(i + 2, close);
      // Each quoted character is its own literal, as in Go: a repetition
      // after \E applies to the last one only.
      let js = "";
      for (const ch of text) js += literal(ch.codePointAt(0) ?? 0);
      return { js, end: close < 0 ? src.length : close + 2 };
    }
    case "p":
    case "P": {
      const u = parseUnicodeClass(src, i);
      return { js: `[${u.body}]`, end: u.end };
    }
  }
  const perl = perlGroup(src, i);
  if (perl !== undefined) return { js: `[${rangesBody(perl)}]`, end: i + 2 };
  const e = parseEscape(src, i);
  return { js: literal(e.cp), end: e.end };
}

/**
 * Translates the Go regular expression `src` into JavaScript source with the
 * same meaning under the `u` flag. Throws {@link Re2SyntaxError} for
 * expressions Go rejects (bad escapes, reversed or unknown class ranges,
 * unclosed classes).
 */
export function re2ToJs(src: string): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const ch = src[i] ?? "";
    switch (ch) {
      case "^":
      case "$":
      case ")":
      case "|":
      case "*":
      case "+":
      case "?":
        out += ch;
        i++;
        break;
      case ".":
        out += "[^\\n]";
        i++;
        break;
      case "(":
        if (src[i + 1] === "?") throw new Re2SyntaxError("unsupported group flags `(?`");
        out += "(?:";
        i++;
        break;
      case "[": {
        const c = translateClass(src, i);
        out += c.js;
        i = c.end;
        break;
      }
      case "\\": {
        const e = translateEscape(src, i);
        out += e.js;
        i = e.end;
        break;
      }
      default: {
        const c = cpAt(src, i);
        out += literal(c);
        i += cpLen(c);
      }
    }
  }
  return out;
}

/**
 * Compiles the Go regular expression `src` to a JavaScript `RegExp` that
 * matches the same strings. Throws {@link Re2SyntaxError} when Go would
 * reject it (including misplaced repetition, which the JavaScript engine
 * reports for us).
 */
export function compileRe2(src: string): RegExp {
  const js = re2ToJs(src);
  try {
    return new RegExp(js, "u");
  } catch (err) {
    throw new Re2SyntaxError(`invalid regular expression \`${src}\`: ${(err as Error).message}`);
  }
}
