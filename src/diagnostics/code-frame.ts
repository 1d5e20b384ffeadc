import type { Diagnostic } from "./diagnostic.js";
import { splitLines, type SourceFile, type SourceRange } from "./source.js";

/** Options for {@link formatCodeFrame}. */
export interface CodeFrameOptions {
  /** Lines of context shown before the first marked line. Default 2. */
  readonly before?: number;
  /** Lines of context shown after the last marked line. Default 1. */
  readonly after?: number;
  /** Marked lines beyond which a long range is elided in the middle. Default 8. */
  readonly maxMarked?: number;
}

/**
 * Renders a numbered snippet of `source` with the lines in `ranges` marked by
 * `>>>` (as BuildKit's `Source.Print` does), and a caret line under the
 * columns when a range sits on one line. Pure: returns text, prints nothing.
 */
export function formatCodeFrame(source: SourceFile, ranges: readonly SourceRange[], options: CodeFrameOptions = {}): string {
  if (ranges.length === 0) return "";
  const lines = splitLines(source.text.replace(/^\uFEFF/, ""));
  // A final newline ends the last line; it does not start an empty one worth showing.
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const marked = new Set<number>();
  for (const r of ranges) {
    for (let l = r.start.line; l <= r.end.line; l++) marked.add(l);
  }
  const first = Math.max(1, Math.min(...ranges.map((r) => r.start.line)) - (options.before ?? 2));
  const last = Math.min(lines.length, Math.max(...ranges.map((r) => r.end.line)) + (options.after ?? 1));
  const width = String(last).length;
  const maxMarked = options.maxMarked ?? 8;
  const out: string[] = [];
  let markedShown = 0;
  for (let l = first; l <= last; l++) {
    const text = (lines[l - 1] ?? "").replace(/\t/g, "    ");
    const isMarked = marked.has(l);
    if (isMarked) {
      markedShown++;
      // A long RUN can span dozens of lines: keep its head and tail.
      if (markedShown > maxMarked && marked.has(l + 1)) {
        if (markedShown === maxMarked + 1) out.push(`${" ".repeat(width)} | >>> ...`);
        continue;
      }
    }
    out.push(`${String(l).padStart(width)} | ${isMarked ? ">>> " : "    "}${text}`);
    const caret = ranges.find((r) => r.start.line === l && r.end.line === l);
    if (caret) {
      const raw = lines[l - 1] ?? "";
      const pad = visualWidth(raw.slice(0, caret.start.column - 1));
      const len = Math.max(1, visualWidth(raw.slice(caret.start.column - 1, caret.end.column)));
      out.push(`${" ".repeat(width)} |     ${" ".repeat(pad)}${"^".repeat(len)}`);
    }
  }
  return out.join("\n");
}

/** Tabs are shown as four spaces in the frame, so carets must count them the same way. */
function visualWidth(s: string): number {
  return s.replace(/\t/g, "    ").length;
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
  const parts = [`${where}: ${label}${diagnostic.message}`];
  if (diagnostic.range) parts.push(formatCodeFrame(source, [diagnostic.range]));
  if (diagnostic.hint) parts.push(`hint: ${diagnostic.hint}`);
  if (diagnostic.url) parts.push(`see ${diagnostic.url}`);
  return parts.join("\n");
}
