/**
 * Tokens of the Dockerfile line grammar.
 *
 * A Dockerfile is line-oriented: BuildKit first folds physical lines into
 * logical lines (continuations, comment lines and empty lines inside them),
 * then splits each logical line into keyword, flags and arguments. The
 * tokens here capture the physical structure:
 *
 * - `Newline`: the end of a physical line (`\n`, with any `\r` before it,
 *   since BuildKit trims all trailing `\r`/`\n` of a line).
 * - `CommentLine`: a whole line whose first non-space character is `#`.
 *   A `#` anywhere else is ordinary text.
 * - `BlankLine`: a line holding only white space.
 * - `Continuation`: the escape character as the last non-blank character of
 *   a line, unless it is itself escaped (BuildKit's
 *   `([^E])E[ \t]*$|^E[ \t]*$`).
 * - `Text`: everything else on a line.
 *
 * The escape character is chosen by the `# escape=` directive before the
 * lexer runs, so there is one token set per escape character; the patterns
 * are otherwise identical. Every character of any input matches some token,
 * so lexing never fails.
 *
 * Imports nothing from `src/`.
 */
import type { CustomPatternMatcherReturn, IToken, Lexer as ChevrotainLexer, TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";

/** The escape characters BuildKit allows. */
export type EscapeChar = "\\" | "`";

/**
 * Go's `unicode.IsSpace` minus `\n`, as a regular-expression class: BuildKit
 * trims with it when deciding whether a line is blank or a comment. The
 * lexer itself uses the equivalent {@link isLineSpace}.
 */
export const SPACE_CLASS = "[\\t\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/** One lexer and its token types, for one escape character. */
export interface LineTokens {
  /** End of a physical line. */
  readonly Newline: TokenType;
  /** A comment line (leading white space allowed). */
  readonly CommentLine: TokenType;
  /** A line of white space only. */
  readonly BlankLine: TokenType;
  /** The line-continuation escape at the end of a line. */
  readonly Continuation: TokenType;
  /** Any other run of characters on a line. */
  readonly Text: TokenType;
  /** All token types, in matching priority order. */
  readonly all: readonly TokenType[];
  /** The chevrotain lexer over {@link all} (built on first access; the tests compare {@link tokenize} with it). */
  readonly lexer: ChevrotainLexer;
  /**
   * Lexes `text` into exactly the tokens {@link lexer} produces (same types,
   * images, offsets, lines and columns), in a direct loop over the same
   * matchers: chevrotain's generic lexer was a quarter of the parse time.
   * Never fails: every character starts some token.
   */
  readonly tokenize: (text: string) => IToken[];
}

const LF = 10;
const CR = 13;
const TAB = 9;
const SP = 32;
const HASH = 35;

const isLineStart = (text: string, offset: number): boolean => offset === 0 || text.charCodeAt(offset - 1) === LF;

/** {@link SPACE_CLASS} as a predicate on a UTF-16 code unit (Go's `unicode.IsSpace` minus `\n`). */
export function isLineSpace(c: number): boolean {
  if (c <= 0xff) return c === SP || c === TAB || c === 0x0b || c === 0x0c || c === CR || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** True when only a run of `\r` then `\n` or the end of input follows `p` (BuildKit's line end). */
function atEol(text: string, p: number): boolean {
  const n = text.length;
  while (p < n && text.charCodeAt(p) === CR) p++;
  return p === n || text.charCodeAt(p) === LF;
}

/** True when only spaces and tabs, then a line end, follow `p`. */
function blankThenEol(text: string, p: number): boolean {
  const n = text.length;
  let c = 0;
  while (p < n && ((c = text.charCodeAt(p)) === SP || c === TAB)) p++;
  return atEol(text, p);
}

/*
 * The matchers are hand-written scanners rather than regular expressions:
 * each is linear in what it looks at, so no input (a long run of \r, of
 * escapes, of blanks) can make the lexer backtrack quadratically. The
 * regular expression each one implements is given above it. Each returns
 * the end offset of its match, or -1.
 */

/** `\r*\n|\r+$` */
function endOfNewline(text: string, offset: number): number {
  const n = text.length;
  let p = offset;
  while (p < n && text.charCodeAt(p) === CR) p++;
  if (p < n && text.charCodeAt(p) === LF) return p + 1;
  return p === n && p > offset ? p : -1;
}

/** At a line start: `SPACE*#[^\n]*?(?=\r*(?:\n|$))` */
function endOfCommentLine(text: string, offset: number): number {
  if (!isLineStart(text, offset)) return -1;
  const n = text.length;
  let p = offset;
  while (p < n && isLineSpace(text.charCodeAt(p))) p++;
  if (p === n || text.charCodeAt(p) !== HASH) return -1;
  let end = text.indexOf("\n", p + 1);
  if (end < 0) end = n;
  while (end > p + 1 && text.charCodeAt(end - 1) === CR) end--;
  return end;
}

/** At a line start: `SPACE+(?=\n|$)` */
function endOfBlankLine(text: string, offset: number): number {
  if (!isLineStart(text, offset)) return -1;
  const n = text.length;
  let p = offset;
  while (p < n && isLineSpace(text.charCodeAt(p))) p++;
  return p === offset || (p < n && text.charCodeAt(p) !== LF) ? -1 : p;
}

/**
 * `E[ \t]*(?=\r*(?:\n|$))`: the escape is a continuation when followed only
 * by blanks to the end of the line, and not itself preceded by an escape
 * (so `foo \\` ends a line).
 */
function endOfContinuation(text: string, offset: number, esc: number): number {
  if (text.charCodeAt(offset) !== esc) return -1;
  if (offset > 0 && text.charCodeAt(offset - 1) === esc && !isLineStart(text, offset)) return -1;
  const n = text.length;
  let p = offset + 1;
  let c = 0;
  while (p < n && ((c = text.charCodeAt(p)) === SP || c === TAB)) p++;
  return atEol(text, p) ? p : -1;
}

/**
 * `(?:[^\n\rE]|\r+(?!EOL)|EE(?=[ \t]*EOL)|E(?![ \t]*EOL))+` with EOL =
 * `\r*(?:\n|$)`: text stops before a continuation and before the \r run
 * that ends a line.
 */
function endOfText(text: string, offset: number, esc: number): number {
  const n = text.length;
  let p = offset;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (c === LF) break;
    if (c === CR) {
      let q = p + 1;
      while (q < n && text.charCodeAt(q) === CR) q++;
      if (q === n || text.charCodeAt(q) === LF) break;
      p = q;
    } else if (c === esc) {
      if (p + 1 < n && text.charCodeAt(p + 1) === esc && blankThenEol(text, p + 2)) p += 2;
      else if (!blankThenEol(text, p + 1)) p++;
      else break;
    } else {
      p++;
    }
  }
  return p > offset ? p : -1;
}

/** A chevrotain custom pattern from an end-offset matcher. */
function pattern(end: (text: string, offset: number) => number): { exec: (text: string, offset: number) => CustomPatternMatcherReturn | null } {
  return {
    exec: (text, offset) => {
      const e = end(text, offset);
      return e < 0 ? null : ([text.slice(offset, e)] as CustomPatternMatcherReturn);
    },
  };
}

function build(escape: EscapeChar): LineTokens {
  const esc = escape.charCodeAt(0);
  const Newline = createToken({ name: "Newline", pattern: pattern(endOfNewline), line_breaks: true });
  const CommentLine = createToken({ name: "CommentLine", pattern: pattern(endOfCommentLine), line_breaks: false });
  const BlankLine = createToken({ name: "BlankLine", pattern: pattern(endOfBlankLine), line_breaks: false });
  const Continuation = createToken({ name: "Continuation", pattern: pattern((t, o) => endOfContinuation(t, o, esc)), line_breaks: false });
  const Text = createToken({ name: "Text", pattern: pattern((t, o) => endOfText(t, o, esc)), line_breaks: false });
  const all = [Newline, CommentLine, BlankLine, Continuation, Text];
  // Built on first use: tokenize() does not need it, and constructing it
  // (chevrotain analyses the token types) cost ~12 ms of every start-up.
  let lexer: ChevrotainLexer | undefined;
  const makeLexer = (): ChevrotainLexer =>
    new Lexer(all, {
      positionTracking: "full",
      // Custom matchers defeat the first-character optimisation; that is fine
      // for five token types and keeps chevrotain from warning about it.
      ensureOptimizations: false,
      skipValidations: true,
      // Only \n ends a line: BuildKit's scanner splits on \n, and a lone \r
      // is ordinary white space inside a line.
      lineTerminatorsPattern: /\n/g,
      lineTerminatorCharacters: ["\n"],
    });

  /** The same tokens as `lexer.tokenize(text).tokens`, without chevrotain's generic lexing loop. */
  const tokenize = (text: string): IToken[] => {
    const tokens: IToken[] = [];
    const n = text.length;
    let line = 1;
    let lineStart = 0;
    let p = 0;
    while (p < n) {
      // First match wins, in the token order (as chevrotain's lexer does).
      let type = Newline;
      let e = endOfNewline(text, p);
      if (e < 0 && (e = endOfCommentLine(text, p)) >= 0) type = CommentLine;
      else if (e < 0 && (e = endOfBlankLine(text, p)) >= 0) type = BlankLine;
      else if (e < 0 && (e = endOfContinuation(text, p, esc)) >= 0) type = Continuation;
      else if (e < 0) {
        // What no other token takes is text. (Every character starts some
        // token, so the fallback to one character only guarantees progress.)
        e = Math.max(endOfText(text, p, esc), p + 1);
        type = Text;
      }
      const column = p - lineStart + 1;
      tokens.push({
        image: text.slice(p, e),
        startOffset: p,
        endOffset: e - 1,
        startLine: line,
        endLine: line,
        startColumn: column,
        endColumn: column + (e - p) - 1,
        tokenTypeIdx: type.tokenTypeIdx!,
        tokenType: type,
      });
      if (type === Newline) {
        line++;
        lineStart = e;
      }
      p = e;
    }
    return tokens;
  };
  return {
    Newline,
    CommentLine,
    BlankLine,
    Continuation,
    Text,
    all,
    get lexer() {
      return (lexer ??= makeLexer());
    },
    tokenize,
  };
}

let backslash: LineTokens | undefined;
let backtick: LineTokens | undefined;

/** The token set for an escape character (built once, then shared). */
export function lineTokens(escape: EscapeChar): LineTokens {
  if (escape === "`") return (backtick ??= build("`"));
  return (backslash ??= build("\\"));
}
