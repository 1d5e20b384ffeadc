import type { Diagnostic } from "./diagnostic.js";
import type { SourceFile, SourceRange } from "./source.js";

/** Options for {@link formatCodeFrame}. */
export interface CodeFrameOptions {
  /** Lines of context shown before the first marked line. Default 2. */
  readonly before?: number;
  /** Lines of context shown after the last marked line. Default 1. */
  readonly after?: number;
  /** Marked lines beyond which a long range is elided in the middle. Default 8. */
  readonly maxMarked?: number;
  /** Terminal columns a source line may take; longer lines are cut around the carets. Default 120. */
  readonly maxWidth?: number;
}

/**
 * Renders a numbered snippet of `source` with the lines in `ranges` marked by
 * `>>>` (as BuildKit's `Source.Print` does), and a caret line under the
 * columns when a range sits on one line. Pure: returns text, prints nothing.
 *
 * Lines are the parser's physical lines (split on `\n` only, trailing `\r`
 * dropped), so line numbers agree with diagnostics even in files with lone
 * `\r`. What is shown is made safe and measurable for a terminal: tabs
 * become four spaces, control characters their visible Control Pictures
 * (`␀`, `␍`, `␛`), bidirectional overrides `�`; carets count wide (CJK,
 * emoji) characters as two columns and combining marks as none. A line wider
 * than `maxWidth` is cut, with `…`, to a window around its carets.
 */
export function formatCodeFrame(source: SourceFile, ranges: readonly SourceRange[], options: CodeFrameOptions = {}): string {
  if (ranges.length === 0) return "";
  const lines = physicalLines(source.text);
  const marked = new Set<number>();
  for (const r of ranges) {
    for (let l = r.start.line; l <= r.end.line; l++) marked.add(l);
  }
  const first = Math.max(1, Math.min(...ranges.map((r) => r.start.line)) - (options.before ?? 2));
  const last = Math.min(lines.length, Math.max(...ranges.map((r) => r.end.line)) + (options.after ?? 1));
  const width = String(last).length;
  const maxMarked = options.maxMarked ?? 8;
  const maxWidth = Math.max(20, options.maxWidth ?? 120);
  const out: string[] = [];
  let markedShown = 0;
  for (let l = first; l <= last; l++) {
    const isMarked = marked.has(l);
    if (isMarked) {
      markedShown++;
      // A long RUN can span dozens of lines: keep its head and tail.
      if (markedShown > maxMarked && marked.has(l + 1)) {
        if (markedShown === maxMarked + 1) out.push(`${" ".repeat(width)} | >>> ...`);
        continue;
      }
    }
    const caret = ranges.find((r) => r.start.line === l && r.end.line === l);
    const shown = renderLine(lines[l - 1] ?? "", caret ? [caret.start.column - 1, caret.end.column] : undefined, maxWidth);
    // No trailing blank after the marker of an empty line; a line's own trailing blanks stay (they can be the problem).
    out.push(`${String(l).padStart(width)} | ${isMarked ? ">>>" : ""}${shown.text ? `${isMarked ? " " : "    "}${shown.text}` : ""}`);
    if (shown.caret) out.push(`${" ".repeat(width)} |     ${" ".repeat(shown.caret[0])}${"^".repeat(shown.caret[1])}`);
  }
  return out.join("\n");
}

// The lines of the last file framed: a file with many diagnostics is split once, not once per diagnostic.
let cachedText: string | undefined;
let cachedLines: readonly string[] = [];

/** The parser's physical lines: BOM dropped, split on `\n`, each line's trailing `\r` run dropped. */
function physicalLines(text: string): readonly string[] {
  if (text === cachedText) return cachedLines;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split("\n").map((line) => line.replace(/\r+$/, ""));
  // A final newline ends the last line; it does not start an empty one worth showing.
  if (lines.length > 1 && lines[lines.length - 1] === "" && body.endsWith("\n")) lines.pop();
  cachedText = text;
  cachedLines = lines;
  return lines;
}

/** One code point as shown: its text and how many terminal columns it takes. */
interface Cell {
  readonly text: string;
  readonly width: number;
  /** Offset of the code point in the line, in UTF-16 units (how columns count). */
  readonly offset: number;
}

// Bidirectional embedding, override and isolate controls: shown as U+FFFD so
// they cannot reorder the frame around them.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Terminal columns of a printable code point: East Asian wide and emoji take two. */
function columns(cp: number, ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

function cellsOf(line: string): Cell[] {
  const cells: Cell[] = [];
  let offset = 0;
  for (const ch of line) {
    const cp = ch.codePointAt(0)!;
    let cell: Cell;
    if (ch === "\t") cell = { text: "    ", width: 4, offset };
    else if (cp < 0x20) cell = { text: String.fromCodePoint(0x2400 + cp), width: 1, offset };
    else if (cp === 0x7f) cell = { text: "\u2421", width: 1, offset };
    else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || BIDI.test(ch)) cell = { text: "\ufffd", width: 1, offset };
    else cell = { text: ch, width: columns(cp, ch), offset };
    cells.push(cell);
    offset += ch.length;
  }
  return cells;
}

/**
 * A source line as the frame shows it, and where the carets go: `span` is
 * the marked `[start, end)` in UTF-16 offsets; the result's caret is
 * `[pad, length]` in terminal columns.
 */
function renderLine(line: string, span: readonly [number, number] | undefined, maxWidth: number): { text: string; caret?: [number, number] } {
  const cells = cellsOf(line);
  const total = cells.reduce((sum, c) => sum + c.width, 0);
  // Cells [from, to) are shown.
  let from = 0;
  let to = cells.length;
  if (total > maxWidth) {
    const room = maxWidth - 2; // for the ellipses
    if (span) {
      // Start a little before the carets, so they and some context show.
      let before = 0;
      const first = cells.findIndex((c) => c.offset >= span[0]);
      from = first < 0 ? cells.length : first;
      while (from > 0 && before + cells[from - 1]!.width <= Math.min(16, room >> 2)) before += cells[--from]!.width;
    }
    let used = 0;
    to = from;
    while (to < cells.length && used + cells[to]!.width <= room) used += cells[to++]!.width;
    if (from > 0 && to === cells.length) {
      // The window reaches the end: use the room left to show more before it.
      while (from > 0 && used + cells[from - 1]!.width <= room) used += cells[--from]!.width;
    }
  }
  const head = from > 0 ? "…" : "";
  const text = head + cells.slice(from, to).map((c) => c.text).join("") + (to < cells.length ? "…" : "");
  if (!span) return { text };
  let pad = head.length;
  let length = 0;
  for (let i = from; i < to; i++) {
    const c = cells[i]!;
    if (c.offset < span[0]) pad += c.width;
    else if (c.offset < span[1]) length += c.width;
  }
  // A range past the last shown character (an empty range at the line end) still gets one caret.
  return { text, caret: [pad, Math.max(1, length)] };
}

/**
 * Renders one diagnostic the way every tsbuild command reports problems:
 * `Dockerfile:LINE:COL: message`, the code frame, then the hint.
 */
export function formatDiagnostic(source: SourceFile, diagnostic: Diagnostic): string {
  const where = diagnostic.range
    ? `${source.path}:${diagnostic.range.start.line}:${diagnostic.range.start.column}`
    : source.path;
  // Build checks are named by their rule (BuildKit's names), whatever their severity;
  // tsbuild's own error codes (DF_*) would only be noise in front of the message.
  const isRule = !/^[A-Z_]+$/.test(diagnostic.code);
  const label = diagnostic.severity === "warning" ? `warning: ${diagnostic.code}: ` : isRule ? `${diagnostic.code}: ` : "";
  const parts = [`${where}: ${label}${printable(diagnostic.message)}`];
  if (diagnostic.range) parts.push(formatCodeFrame(source, [diagnostic.range]));
  if (diagnostic.hint) parts.push(`hint: ${printable(diagnostic.hint)}`);
  if (diagnostic.url) parts.push(`see ${diagnostic.url}`);
  return parts.join("\n");
}

/**
 * Messages quote Dockerfile text (an unknown keyword, a word without `=`):
 * control characters in it are shown as Control Pictures and bidirectional
 * controls as U+FFFD, so a message can never drive the terminal. Tabs and
 * newlines stay.
 */
function printable(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x20 ? String.fromCharCode(0x2400 + c) : c === 0x7f ? "\u2421" : "\ufffd";
  });
}
