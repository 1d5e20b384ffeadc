import { CH, EOF } from "./chars.js";

/**
 * A one-code-point-lookahead reader, the part of Go's `text/scanner` that
 * BuildKit's lexer uses (`Peek` and `Next`). Works on code points so that
 * multi-unit characters (emoji, astral CJK) are never split.
 */
export class CodePointScanner {
  private pos: number;

  /** Starts reading `src` from its beginning. */
  constructor(private readonly src: string) {
    // text/scanner silently drops a byte order mark at the very start of its
    // input; BuildKit inherits that, both for the word and for patterns.
    this.pos = src.charCodeAt(0) === CH.BOM ? 1 : 0;
  }

  /** The next code point without consuming it, or {@link EOF}. */
  peek(): number {
    return this.pos < this.src.length ? (this.src.codePointAt(this.pos) ?? EOF) : EOF;
  }

  /** Consumes and returns the next code point, or {@link EOF} at the end. */
  next(): number {
    const cp = this.peek();
    if (cp !== EOF) this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}
