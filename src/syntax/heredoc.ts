import { isGoSpace } from "./chars.js";

/** A heredoc marker found on an instruction line. */
export interface HeredocMarker {
  /** Delimiter with quotes removed. */
  readonly name: string;
  /** True when any part of the delimiter was quoted: the body is taken literally. */
  readonly quoted: boolean;
  /** True for `<<-`: leading tabs are stripped from body lines and the terminator. */
  readonly chomp: boolean;
  /** File descriptor written before `<<` (`3<<EOF`), 0 when absent. */
  readonly fd: number;
}

// BuildKit's reHeredoc.
const HEREDOC_RE = /^(\d*)<<(-?)([^<]*)$/;

/**
 * BuildKit's `ParseHeredoc` for one word: the marker it is, or undefined
 * when the word is not a heredoc marker (`<<EOF`, `<<-"EOF"`, `3<<EOF`).
 */
export function heredocMarker(word: string): HeredocMarker | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m || m[3] === "") return undefined;
  const rest = m[3]!;
  // BuildKit: a delimiter that is more than one word (or does not lex) is not a heredoc.
  if (rawShellWords(rest)?.length !== 1) return undefined;
  const name = unquote(rest);
  return { name, quoted: countQuotes(name) !== countQuotes(rest), chomp: m[2] === "-", fd: m[1] ? Number.parseInt(m[1], 10) : 0 };
}

/**
 * BuildKit's `heredocsFromLine`: splits the whole logical line into shell
 * words (quotes, escapes and `${...}` kept as written, always with `\` as the
 * escape, as BuildKit does) and returns every word of the form `<<NAME`,
 * `<<-NAME`, `N<<NAME`, in order. A line BuildKit's shell lexer rejects (an
 * unterminated quote or `${`, `${}`) has no heredocs: BuildKit ignores the
 * lexer's error and so finds no words.
 */
export function heredocsFromLine(line: string): HeredocMarker[] {
  const markers: HeredocMarker[] = [];
  for (const word of rawShellWords(line) ?? []) {
    const marker = heredocMarker(word);
    if (marker) markers.push(marker);
  }
  return markers;
}

/**
 * Splits on unquoted, unescaped white space, keeping every character of each
 * word; undefined where BuildKit's lexer fails (unterminated quote, `${`
 * without `}`, `${}`, `${{`, `${:`).
 */
function rawShellWords(s: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\" && i + 1 < s.length) {
      word += ch + s[i + 1]!;
      inWord = true;
      i++;
    } else if (ch === "'" || ch === '"') {
      const close = findQuoteEnd(s, i);
      if (close < 0) return undefined;
      word += s.slice(i, close + 1);
      inWord = true;
      i = close;
    } else if (ch === "$" && s[i + 1] === "{") {
      const close = s.indexOf("}", i + 2);
      const after = s[i + 2];
      if (close < 0 || after === "}" || after === "{" || after === ":") return undefined;
      word += s.slice(i, close + 1);
      inWord = true;
      i = close;
    } else if (isGoSpace(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Index of the quote closing the one at `open`, or -1 when unterminated. */
function findQuoteEnd(s: string, open: number): number {
  const q = s[open]!;
  for (let j = open + 1; j < s.length; j++) {
    if (q === '"' && s[j] === "\\") {
      j++;
      continue;
    }
    if (s[j] === q) return j;
  }
  return -1;
}

/** Removes shell quoting: single quotes literal, double quotes and `\` escaping. */
function unquote(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\" && i + 1 < s.length) {
      out += s[++i]!;
    } else if (ch === "'") {
      const close = findQuoteEnd(s, i);
      const end = close < 0 ? s.length : close;
      out += s.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === "\\" && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) i++;
        out += s[i]!;
      }
    } else {
      out += ch;
    }
  }
  return out;
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
}

/** BuildKit's `ChompHeredocContent`: strips leading tabs from every line. */
export function chompHeredoc(content: string): string {
  // Go's (?m)^ matches only after \n; JavaScript's also after \r, U+2028 and U+2029.
  return content.replace(/(^|\n)\t+/g, "$1");
}
