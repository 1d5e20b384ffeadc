/**
 * Go's `fmt` renderings that BuildKit's history lines contain
 * (dockerfile2llb writes `CMD %q`, `SHELL %v`, `HEALTHCHECK %q` of the
 * config struct...), so `created_by` reads exactly as in an image BuildKit
 * built, and `docker history` shows the same text.
 */

/** `strconv.Quote`: a double-quoted Go string literal (printable Unicode kept, the rest escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += escapeRune(c) ?? (isPrintable(c) ? ch : unicodeEscape(c));
  }
  return `${out}"`;
}

/** `%q` of a `[]string`: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(" ")}]`;
}

/** `%v` of a `[]string`: `[a b]`. */
export function goList(list: readonly string[]): string {
  return `[${list.join(" ")}]`;
}

/** `strconv.QuoteRune` of an integer (what `%q` makes of an int): `'\x00'`, `'A'`. */
export function goQuoteRune(n: number): string {
  if (n === 0x27) return "'\\''";
  if (n === 0x5c) return "'\\\\'";
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCodePoint(n)}'`;
  const escaped = escapeRune(n);
  if (escaped !== undefined) return `'${escaped}'`;
  if (n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "'\\ufffd'";
  return isPrintable(n) ? `'${String.fromCodePoint(n)}'` : `'${unicodeEscape(n)}'`;
}

/** `time.Duration.String()` of a number of nanoseconds: `0s`, `1.5ms`, `30s`, `1m30s`, `2h0m0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = BigInt(Math.abs(Math.trunc(ns)));
  let out: string;
  if (u < 1_000_000_000n) {
    const [unit, prec] = u < 1000n ? ["ns", 0] : u < 1_000_000n ? ["µs", 3] : ["ms", 6];
    out = `${fraction(u, prec)}${unit}`;
  } else {
    const seconds = `${fraction(u % 60_000_000_000n, 9)}s`;
    u /= 60_000_000_000n;
    out = seconds;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** `v` as an integer of 10^-prec units, written with its fraction (trailing zeros and a bare point dropped). */
function fraction(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(prec, "0").replace(/0+$/, "");
  return frac === "" ? whole.toString() : `${whole}.${frac}`;
}

function escapeRune(c: number): string | undefined {
  switch (c) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
    default:
      return c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : undefined;
  }
}

/** Close to Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrintable(c: number): boolean {
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(c));
}

function unicodeEscape(c: number): string {
  return c > 0xffff ? `\\U${c.toString(16).padStart(8, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
}
