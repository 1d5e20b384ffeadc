import type { SourceRange } from "./source.js";

/** How bad a diagnostic is: errors fail `check` and `build`, warnings are reported only. */
export type Severity = "error" | "warning";

/**
 * One finding about a Dockerfile: a syntax error, a semantic error, or a
 * build-check (lint) warning. Diagnostics are values, never thrown: the
 * parser and checker collect all of them so one run reports every problem.
 */
export interface Diagnostic {
  /** Whether this fails the command. */
  readonly severity: Severity;
  /**
   * Stable identifier: an {@link ErrorCode} for errors (`DF_SYNTAX`), or the
   * BuildKit rule name for build checks (`JSONArgsRecommended`).
   */
  readonly code: string;
  /** One-line message, without location (the renderer adds `Dockerfile:L:C`). */
  readonly message: string;
  /** Where in the Dockerfile; absent only for whole-file problems. */
  readonly range?: SourceRange;
  /** A suggestion that helps fix it, e.g. `did you mean RUN?`. */
  readonly hint?: string;
  /** Documentation link (build checks link to BuildKit's rule pages). */
  readonly url?: string;
}
