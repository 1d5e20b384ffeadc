import { isSpace } from "./chars.js";

/**
 * Collects the fields of an expansion (BuildKit `wordsStruct`).
 *
 * Literal text and `$` results go through {@link addChar}/{@link addString},
 * which split on white space; escaped characters and quoted strings go
 * through the raw variants, which never split. A quoted empty string sets
 * `inWord` but adds no text, and `getWords` drops empty words, so `""`
 * yields no field at all (unlike a POSIX shell).
 */
export class WordAccumulator {
  private readonly words: string[] = [];
  private word = "";
  private inWord = false;

  /** Adds one unquoted character: white space ends the current word. */
  addChar(cp: number): void {
    if (isSpace(cp)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
      return;
    }
    this.addRaw(String.fromCodePoint(cp));
  }

  /** Adds unquoted text (an expansion result), splitting on white space. */
  addString(text: string): void {
    for (const ch of text) this.addChar(ch.codePointAt(0) ?? 0);
  }

  /** Adds text that never splits (escaped character, quoted string). */
  addRaw(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  /** The collected words, including a pending non-empty one. */
  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}
