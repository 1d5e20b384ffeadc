import { BuildError } from "../diagnostics/build-error.js";
import { displayPath } from "./source-path.js";

/**
 * The error for a COPY/ADD source that matches nothing, worded like
 * BuildKit's (`"/missing.txt": not found`). When the source is the build
 * context (an ignore matcher is in play) the hint mentions `.dockerignore`,
 * since an ignored path is invisible exactly like a missing one.
 *
 * @param rel the source path relative to the source root (cleaned).
 * @param fromContext true when the source root is the build context with a `.dockerignore`.
 */
export function sourceNotFound(rel: string, fromContext: boolean): BuildError {
  return new BuildError("COPY_SOURCE_NOT_FOUND", `${JSON.stringify(displayPath(rel))}: not found`, {
    hint: fromContext
      ? "check that the path exists in the build context and that .dockerignore does not exclude it"
      : "check that the path exists in the source stage or image",
  });
}

/** A destination that cannot take the source (a directory in the way of a file, or the reverse). */
export function destConflict(message: string): BuildError {
  return new BuildError("COPY_DEST_CONFLICT", message);
}
