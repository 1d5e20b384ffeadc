// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and
// the ASCII space. Compiled once.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const NAMED_ESCAPES: Readonly<Record<number, string>> = {
  0x07: "\\a",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x0b: "\\v",
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/**
 * Go's `strconv.Quote` (the `%q` verb): double quotes, backslash escapes for
 * `"` and `\`, printable characters kept (so `"한국어"` stays readable), and
 * `\n`, `\x00`, `\u00a0`, `\U0001f600`-style escapes for the rest. Used so
 * error messages read exactly like BuildKit's.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") {
      out += "\\" + ch;
      continue;
    }
    if (cp === 0x20 || (cp < 0xd800 || cp > 0xdfff ? PRINTABLE.test(ch) : false)) {
      out += ch;
      continue;
    }
    const named = NAMED_ESCAPES[cp];
    if (named !== undefined) {
      out += named;
    } else if (cp < 0x20 || cp === 0x7f) {
      out += "\\x" + hex(cp, 2);
    } else {
      // A lone surrogate is not a valid rune; Go prints those as U+FFFD.
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
      out += cp < 0x10000 ? "\\u" + hex(cp, 4) : "\\U" + hex(cp, 8);
    }
  }
  return out + '"';
}
