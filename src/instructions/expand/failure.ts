import { BuildError } from "../../diagnostics/build-error.js";
import { goQuote } from "./go-quote.js";

/**
 * An expansion error inside the lexer, carrying BuildKit's inner message
 * (`X: msg`, `syntax error: bad substitution`...). Internal: callers of the
 * public API only ever see a {@link BuildError}.
 */
export class ExpansionFailure extends Error {
  /** @param reason BuildKit's message for this failure. */
  constructor(reason: string) {
    super(reason);
    this.name = "ExpansionFailure";
  }
}

/**
 * Wraps a failure the way BuildKit does (`errors.Wrapf(err, "failed to
 * process %q", source)`), as a `DF_EXPANSION` {@link BuildError}. The bare
 * reason stays reachable as `cause.message`.
 */
export function toBuildError(source: string, failure: ExpansionFailure): BuildError {
  return new BuildError("DF_EXPANSION", `failed to process ${goQuote(source)}: ${failure.message}`, { cause: failure });
}
