import { ERROR_CODES, type ErrorCode } from "./error-codes.js";
import type { SourceRange } from "./source.js";

/** Options for {@link BuildError}. */
export interface BuildErrorOptions {
  /** A suggestion for the user, printed after the message. */
  readonly hint?: string;
  /** The underlying error, kept for `--debug` and for walking locations. */
  readonly cause?: unknown;
  /** Dockerfile ranges this error is about. */
  readonly locations?: readonly SourceRange[];
}

/**
 * The one error type tsbuild throws across module boundaries. It carries a
 * stable {@link ErrorCode} (from which the CLI derives the exit status), an
 * optional hint, and the Dockerfile locations it concerns. Messages never
 * contain credentials: registry code redacts before constructing one.
 */
export class BuildError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** A suggestion for the user. */
  readonly hint: string | undefined;
  /** Dockerfile ranges, innermost first; see {@link withLocation}. */
  readonly locations: readonly SourceRange[];

  constructor(code: ErrorCode, message: string, options: BuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BuildError";
    this.code = code;
    this.hint = options.hint;
    this.locations = options.locations ?? [];
  }

  /** The exit status the CLI uses for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

/**
 * Returns `err` with `range` added to its locations. Additive, never
 * replacing (BuildKit's `WithLocation`), so an error can point at both the
 * COPY that failed and the stage it named. Non-BuildError values are wrapped
 * as INTERNAL errors so their location is not lost.
 */
export function withLocation(err: unknown, range: SourceRange): BuildError {
  if (err instanceof BuildError) {
    const wrapped = new BuildError(err.code, err.message, {
      hint: err.hint,
      cause: err.cause,
      locations: [...err.locations, range],
    });
    wrapped.stack = err.stack;
    return wrapped;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BuildError("INTERNAL", message, { cause: err, locations: [range] });
}

/** True when `err` is a {@link BuildError} with the given code. */
export function isBuildError(err: unknown, code?: ErrorCode): err is BuildError {
  return err instanceof BuildError && (code === undefined || err.code === code);
}
