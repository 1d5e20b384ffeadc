import { BuildError } from "../diagnostics/build-error.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";

/**
 * The Dockerfile has errors: carries every diagnostic (errors and warnings)
 * and the source, so the CLI renders all of them with code frames.
 */
export class FrontendError extends BuildError {
  /** Every diagnostic of the check, in line order. */
  readonly diagnostics: readonly Diagnostic[];
  /** The Dockerfile. */
  readonly source: SourceFile;

  constructor(source: SourceFile, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const first = errors[0];
    super((first?.code as "DF_SYNTAX") ?? "DF_SYNTAX", first?.message ?? "the Dockerfile has errors", {
      locations: first?.range ? [first.range] : [],
    });
    this.diagnostics = diagnostics;
    this.source = source;
  }
}
