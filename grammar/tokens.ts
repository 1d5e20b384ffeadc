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
import { createToken, Lexer, type CustomPatternMatcherFunc, type TokenType } from "chevrotain";

/** The escape characters BuildKit allows. */
export type EscapeChar = "\\" | "`";

/**
 * Go's `unicode.IsSpace` minus `\n`: BuildKit trims with it when deciding
 * whether a line is blank or a comment.
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
  /** The lexer over {@link all}. */
  readonly lexer: Lexer;
}

const isLineStart = (text: string, offset: number): boolean => offset === 0 || text.charCodeAt(offset - 1) === 10;

/** Wraps a sticky regex as a chevrotain custom matcher, optionally only at line starts. */
function matcher(re: RegExp, atLineStart: boolean): CustomPatternMatcherFunc {
  return (text, offset) => {
    if (atLineStart && !isLineStart(text, offset)) return null;
    re.lastIndex = offset;
    return re.exec(text);
  };
}

function escapeRe(ch: string): string {
  return ch === "\\" ? "\\\\" : ch;
}

function build(escape: EscapeChar): LineTokens {
  const e = escapeRe(escape);
  // Line end as BuildKit sees it: optional \r run, then \n or end of input.
  const eol = "\\r*(?:\\n|$)";
  // A lone \r run at the very end of the input also ends the last line.
  const Newline = createToken({ name: "Newline", pattern: matcher(/\r*\n|\r+$/y, false), line_breaks: true });
  const CommentLine = createToken({
    name: "CommentLine",
    pattern: matcher(new RegExp(`${SPACE_CLASS}*#[^\\n]*?(?=${eol})`, "y"), true),
    line_breaks: false,
  });
  const BlankLine = createToken({
    name: "BlankLine",
    pattern: matcher(new RegExp(`${SPACE_CLASS}+(?=\\n|$)`, "y"), true),
    line_breaks: false,
  });
  // The escape is a continuation when followed only by blanks to the end of
  // the line, and not itself preceded by an escape (so `foo \\` ends a line).
  const Continuation = createToken({
    name: "Continuation",
    pattern: {
      exec: (text: string, offset: number) => {
        if (offset > 0 && text[offset - 1] === escape && !isLineStart(text, offset)) return null;
        const re = continuationRe;
        re.lastIndex = offset;
        return re.exec(text);
      },
    } as unknown as CustomPatternMatcherFunc,
    line_breaks: false,
  });
  const continuationRe = new RegExp(`${e}[ \\t]*(?=${eol})`, "y");
  // Text stops before a continuation and before the \r run that ends a line.
  const Text = createToken({
    name: "Text",
    pattern: matcher(new RegExp(`(?:[^\\n\\r${e}]|\\r+(?!${eol})|${e}${e}(?=[ \\t]*${eol})|${e}(?![ \\t]*${eol}))+`, "y"), false),
    line_breaks: false,
  });
  const all = [Newline, CommentLine, BlankLine, Continuation, Text];
  const lexer = new Lexer(all, {
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
  return { Newline, CommentLine, BlankLine, Continuation, Text, all, lexer };
}

let backslash: LineTokens | undefined;
let backtick: LineTokens | undefined;

/** The token set for an escape character (built once, then shared). */
export function lineTokens(escape: EscapeChar): LineTokens {
  if (escape === "`") return (backtick ??= build("`"));
  return (backslash ??= build("\\"));
}
