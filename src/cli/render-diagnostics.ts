import { formatDiagnostic } from "../diagnostics/code-frame.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";

/** Renders diagnostics, errors and warnings, one block each, with a count line at the end. */
export function renderDiagnostics(source: SourceFile, diagnostics: readonly Diagnostic[]): string {
  if (diagnostics.length === 0) return "";
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const blocks = diagnostics.map((d) => formatDiagnostic(source, d));
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${blocks.join("\n\n")}\n\n${source.path}: ${plural(errors, "error")}, ${plural(warnings, "warning")}\n`;
}
