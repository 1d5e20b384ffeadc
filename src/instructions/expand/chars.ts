/**
 * Character classes of BuildKit's shell lexer, on Unicode code points.
 *
 * BuildKit uses Go's `unicode` package, which is Unicode-aware: a variable
 * name may contain any letter (`$한국어` is a name) and word splitting breaks
 * on any white space, not just ASCII. JavaScript's `\s` is a different set
 * (it includes U+FEFF and lacks U+0085), so the classes are spelled out.
 */

/** The scanner's end-of-input marker (Go's `scanner.EOF`). */
export const EOF = -1;

/** Code points the lexer dispatches on. */
export const CH = {
  /** tab */
  TAB: 0x09,
  /** space */
  SPACE: 0x20,
  /** `"` */
  DQUOTE: 0x22,
  /** `#` */
  HASH: 0x23,
  /** `$` */
  DOLLAR: 0x24,
  /** `%` */
  PERCENT: 0x25,
  /** `'` */
  SQUOTE: 0x27,
  /** `*` */
  STAR: 0x2a,
  /** `+` */
  PLUS: 0x2b,
  /** `-` */
  MINUS: 0x2d,
  /** `/` */
  SLASH: 0x2f,
  /** `0` */
  ZERO: 0x30,
  /** `9` */
  NINE: 0x39,
  /** `:` */
  COLON: 0x3a,
  /** `?` */
  QUESTION: 0x3f,
  /** `@` */
  AT: 0x40,
  /** `\` */
  BACKSLASH: 0x5c,
  /** `_` */
  UNDERSCORE: 0x5f,
  /** `{` */
  LBRACE: 0x7b,
  /** `}` */
  RBRACE: 0x7d,
  /** `!` */
  EXCLAMATION: 0x21,
  /** byte order mark U+FEFF */
  BOM: 0xfeff,
} as const;

// Compiled once: these run per character on non-ASCII input only.
const LETTER = /^\p{L}$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
const WHITE_SPACE = /^\p{White_Space}$/u;

/** Go's `unicode.IsDigit`: any decimal digit (category Nd), not only 0-9. */
export function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= CH.ZERO && cp <= CH.NINE;
  return DECIMAL_DIGIT.test(String.fromCodePoint(cp));
}

/** Go's `unicode.IsLetter`: any letter (category L). */
export function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return LETTER.test(String.fromCodePoint(cp));
}

/**
 * Go's `unicode.IsSpace`: in Latin-1 exactly `\t \n \v \f \r`, space, U+0085
 * and U+00A0; above it the Unicode White_Space property.
 */
export function isSpace(cp: number): boolean {
  if (cp <= 0xff) return cp === CH.SPACE || (cp >= CH.TAB && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  return WHITE_SPACE.test(String.fromCodePoint(cp));
}

/** A character that may continue a variable name: letter, digit or `_`. */
export function isNameChar(cp: number): boolean {
  return cp === CH.UNDERSCORE || isLetter(cp) || isDigit(cp);
}

/**
 * POSIX special parameters (`$@ $* $# $? $- $$ $! $0`). BuildKit reads each
 * as a one-character name; nothing sets them, so they expand as unset.
 */
export function isSpecialParam(cp: number): boolean {
  switch (cp) {
    case CH.AT:
    case CH.STAR:
    case CH.HASH:
    case CH.QUESTION:
    case CH.MINUS:
    case CH.DOLLAR:
    case CH.EXCLAMATION:
    case CH.ZERO:
      return true;
    default:
      return false;
  }
}

/**
 * Go's `string(rune)`: the character, or U+FFFD for EOF. BuildKit formats
 * modifiers this way, so `${X` reports "unsupported modifier (\uFFFD)".
 */
export function runeString(cp: number): string {
  return cp < 0 || cp > 0x10ffff ? "\uFFFD" : String.fromCodePoint(cp);
}
