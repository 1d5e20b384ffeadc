import { isUrlSource } from "../copy/source-path.js";
import type { StepNode } from "../plan/graph.js";

/**
 * A read of another stage's files that a step's key hashes by content:
 * what it selects, with the same meaning as a COPY's sources.
 */
export interface StageRead {
  /** The stage read. */
  readonly stage: number;
  /** Paths in the stage's filesystem (COPY sources, or a bind mount's source). */
  readonly sources: readonly string[];
  /** `--exclude` patterns (COPY only). */
  readonly excludes: readonly string[];
  /** `--parents` (COPY only). */
  readonly parents: boolean;
  /** For a COPY: the files may be read from one layer directory without a mount (`ops/copy.ts` plainFilesLayer). */
  readonly copy: boolean;
}

/**
 * The reads of other stages a step's key hashes by content rather than by
 * the stages' keys. BuildKit keys an op's input by the content checksum of
 * the selected paths once that input is computed (`ComputeDigestFunc`) for
 * a copy's source and for a read-only mount other than the root, so a stage
 * that reruns and produces the same files leaves the step, and everything
 * after it, cached:
 *
 * - `COPY --from=<stage>` (or ADD) of paths;
 * - `RUN --mount=type=bind,from=<stage>` without `rw`, selecting its `source`.
 *
 * Everything else stays keyed by the keys of the stages it reads: copies
 * from the context (checksummed elsewhere) or an image (its manifest digest
 * names its content), URL sources, heredoc-only copies, writable bind
 * mounts and cache mounts seeded `from=` a stage (BuildKit's
 * `NoContentBasedHash`).
 */
export function contentKeyedReads(step: StepNode): StageRead[] {
  const op = step.op;
  if (op.kind === "copy") {
    if (op.source.kind !== "stage" || op.copy.sources.length === 0 || op.copy.sources.some(isUrlSource)) return [];
    return [{ stage: op.source.stage, sources: op.copy.sources, excludes: op.copy.excludes, parents: op.copy.parents, copy: true }];
  }
  if (op.kind !== "exec") return [];
  return op.mounts.flatMap((m): StageRead[] =>
    m.type === "bind" && m.readonly && m.sourceRef?.kind === "stage" ? [{ stage: m.sourceRef.stage, sources: [m.source ?? "/"], excludes: [], parents: false, copy: false }] : [],
  );
}

/**
 * The stages a step reads by key (see {@link contentKeyedReads}): its stage
 * dependencies minus those every read of which is content-keyed.
 */
export function stagesReadByKey(step: StepNode): number[] {
  const byContent = new Set(contentKeyedReads(step).map((r) => r.stage));
  const byKey = new Set<number>();
  const op = step.op;
  if (op.kind === "exec") {
    for (const m of op.mounts) {
      if (m.sourceRef?.kind === "stage" && !(m.type === "bind" && m.readonly)) byKey.add(m.sourceRef.stage);
    }
  }
  return step.stageDeps.filter((d) => byKey.has(d) || !byContent.has(d));
}
