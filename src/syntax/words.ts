import { isGoSpace } from "./chars.js";

/**
 * BuildKit's `parseWords`: splits on white space outside quotes, keeping
 * quotes and escape characters in the words (they are removed later, at
 * expansion time). Used for ARG arguments and for ENV/LABEL pairs.
 *
 * When `spans` is given, it receives each word's `[start, end)` offsets in
 * `rest`, for error ranges.
 */
export function parseWords(rest: string, escape: string, spans?: [number, number][]): string[] {
  const words: string[] = [];
  let start = 0;
  let inWord = false;
  let quote = "";
  let word = "";
  let blankOK = false;
  const n = rest.length;
  for (let pos = 0; pos < n; pos++) {
    let ch = rest[pos]!;
    if (!inWord && !quote) {
      if (isGoSpace(ch)) continue;
      inWord = true;
      start = pos;
    }
    if (quote) {
      if (ch === quote) quote = "";
      // Inside single quotes the escape character escapes nothing.
      if (ch === escape && quote !== "'") {
        if (pos + 1 === n) {
          // An escape at the very end is dropped.
          continue;
        }
        pos++;
        word += ch;
        ch = rest[pos]!;
      }
      word += ch;
      continue;
    }
    if (isGoSpace(ch)) {
      inWord = false;
      if (blankOK || word.length > 0) {
        words.push(word);
        spans?.push([start, pos]);
      }
      word = "";
      blankOK = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOK = true;
    }
    if (ch === escape) {
      if (pos + 1 === n) continue;
      // Unquoted escape: keep it and the next character, even a quote.
      word += ch;
      pos++;
      ch = rest[pos]!;
    }
    word += ch;
  }
  if ((inWord || quote) && (blankOK || word.length > 0)) {
    words.push(word);
    spans?.push([start, n]);
  }
  return words;
}
