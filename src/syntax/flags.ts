import { isGoSpace } from "./chars.js";

/** A flag word found by {@link extractFlags}, with its offsets in the scanned text. */
export interface RawFlag {
  /** The flag word with quotes and escapes removed, e.g. `--mount=type=cache`. */
  readonly text: string;
  /** Offset of the flag's first character. */
  readonly start: number;
  /** Offset just past the flag's last character. */
  readonly end: number;
}

/**
 * BuildKit's `extractBuilderFlags`: collects leading `--flag` words (quotes
 * removed, a backslash escaping the next character) and returns the offset
 * where the arguments begin. Collection stops at the first word not
 * starting with `--`; a lone `--` ends the flags and is dropped.
 *
 * The escape is always the backslash, whatever `# escape=` says: BuildKit
 * hard-codes it here, so under a backtick escape `--chown=DOMAIN\user` is
 * `--chown=DOMAINuser` and a backtick in a flag is literal.
 */
export function extractFlags(line: string): { flags: RawFlag[]; argsOffset: number } {
  const escape = "\\";
  const flags: RawFlag[] = [];
  const n = line.length;
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let start = 0;
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= n; pos++) {
    const ch = pos < n ? line[pos]! : "";
    if (phase === "spaces") {
      if (pos === n) break;
      if (isGoSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === n || line[pos + 1] !== "-") return { flags, argsOffset: pos };
      phase = "word";
      start = pos;
    }
    if (pos === n) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push({ text: word, start, end: pos });
      break;
    }
    if (phase === "word") {
      if (isGoSpace(ch)) {
        phase = "spaces";
        if (word === "--") return { flags, argsOffset: pos };
        if (blankOK || word.length > 0) flags.push({ text: word, start, end: pos });
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === n) continue;
        pos++;
        word += line[pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    // phase === "quote"
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === n) {
        phase = "word";
        continue;
      }
      pos++;
      word += line[pos]!;
      continue;
    }
    word += ch;
  }
  return { flags, argsOffset: n };
}
