import { isUrlSource } from "../copy/source-path.js";
import type { StepNode } from "../plan/graph.js";

/**
 * The stage a step's key reads by content rather than by key: for a
 * `COPY --from=<stage>` (or ADD) of paths, that stage. BuildKit keys a
 * copy from another state by the content checksum of the selected paths
 * once that state is computed (the op's `ComputeDigestFunc`), so a stage
 * that reruns and produces the same files leaves the copy, and everything
 * after it, cached. Undefined for every other step, which stay keyed by
 * the keys of the stages they read: copies from the context or an image
 * (an image's manifest digest already names its content), URL sources, a
 * copy of heredocs only, and RUN mounts of a stage.
 */
export function contentKeyedStage(step: StepNode): number | undefined {
  const op = step.op;
  if (op.kind !== "copy" || op.source.kind !== "stage") return undefined;
  if (op.copy.sources.length === 0 || op.copy.sources.some(isUrlSource)) return undefined;
  return op.source.stage;
}
