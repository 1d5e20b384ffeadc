import { BuildError } from "../diagnostics/build-error.js";
import { formatCodeFrame } from "../diagnostics/code-frame.js";
import type { SourceFile } from "../diagnostics/source.js";

/**
 * Renders any thrown value for the terminal, once, at the edge: the message,
 * the Dockerfile location and snippet when the error carries one and the
 * source is known, and the hint. Never a stack trace for a BuildError.
 */
export function renderError(err: unknown, source?: SourceFile): string {
  if (!(err instanceof BuildError)) {
    const message = err instanceof Error ? err.message : String(err);
    return `error: internal error: ${message}\n${err instanceof Error && err.stack ? err.stack : ""}\n`;
  }
  const parts: string[] = [];
  const loc = err.locations[0];
  if (loc && source) {
    parts.push(`${source.path}:${loc.start.line}:${loc.start.column}: ${err.message}`);
    parts.push(formatCodeFrame(source, err.locations));
  } else {
    parts.push(`error: ${err.message}`);
  }
  if (err.hint) parts.push(`hint: ${err.hint}`);
  return parts.join("\n") + "\n";
}

/** Exit status for a thrown value: the BuildError's code decides; anything else is internal (70). */
export function exitCodeFor(err: unknown): number {
  return err instanceof BuildError ? err.exitCode : 70;
}
