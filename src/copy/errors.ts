import { BuildError } from "../diagnostics/build-error.js";
import { displayPath } from "./source-path.js";

/**
 * The error for a COPY/ADD source that matches nothing, worded like
 * BuildKit's (`"/missing.txt": not found`). The hint says where the path
 * was looked for: the build context (mentioning `.dockerignore` when there
 * is one, since an ignored path is invisible exactly like a missing one),
 * or the stage or image of `--from`.
 *
 * @param rel the source path relative to the source root (cleaned).
 * @param where `context` (no `.dockerignore`), `ignored-context` (with one), or `stage` (a stage or image).
 */
export function sourceNotFound(rel: string, where: "context" | "ignored-context" | "stage"): BuildError {
  const hints = {
    context: "check that the path exists in the build context",
    "ignored-context": "check that the path exists in the build context and that .dockerignore does not exclude it",
    stage: "check that the path exists in the source stage or image",
  };
  return new BuildError("COPY_SOURCE_NOT_FOUND", `${JSON.stringify(displayPath(rel))}: not found`, { hint: hints[where] });
}

/** A destination that cannot take the source (a directory in the way of a file, or the reverse). */
export function destConflict(message: string): BuildError {
  return new BuildError("COPY_DEST_CONFLICT", message);
}
