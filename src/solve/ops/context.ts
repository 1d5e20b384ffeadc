import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Snapshotter, LayerRef } from "../../snapshot/snapshotter.js";
import type { IgnoreMatcher } from "../../context/dockerignore.js";
import type { SourceRef } from "../../plan/graph.js";
import type { DownloadedFile } from "../../copy/http-source.js";

/** What step operations need from the build around them. */
export interface OpContext {
  /** Absolute build context directory. */
  readonly contextDir: string;
  /** The context's `.dockerignore`, if any. */
  readonly ignore?: IgnoreMatcher;
  /** Store root (for cache mounts and temporary files). */
  readonly storeRoot: string;
  /** Layer snapshots. */
  readonly snapshotter: Snapshotter;
  /** Runs RUN processes. */
  readonly sandbox: Sandbox;
  /** The layer chain of a stage's result or of an image (for COPY --from and bind mounts). */
  chainOf(source: Exclude<SourceRef, { kind: "context" }>): readonly LayerRef[];
  /** URL sources of an ADD, fetched when the step was keyed (`StepInputs.downloads` in `../step-inputs.ts`). */
  readonly downloads?: ReadonlyMap<string, DownloadedFile>;
  /** Git sources of an ADD and the commits they were keyed by (`StepInputs.gitCommits`): the copy checks out exactly those. */
  readonly gitCommits?: ReadonlyMap<string, string>;
  /** SSH agent sockets by id (`--ssh`), for `RUN --mount=type=ssh`. */
  readonly sshAgents?: ReadonlyMap<string, string>;
  /** Build secrets by id (`--secret`), for `RUN --mount=type=secret`. */
  readonly secrets?: ReadonlyMap<string, Buffer>;
  /** Output of the running process. */
  onOutput(stream: "stdout" | "stderr", chunk: Buffer): void;
  /** Cancels the step. */
  readonly signal: AbortSignal;
}

/** Runs `fn` with the root directory of a source: the context as is, or a read-only view of a stage or image. */
export async function withSourceRoot<T>(source: SourceRef, ctx: OpContext, fn: (root: string) => Promise<T>): Promise<T> {
  if (source.kind === "context") return fn(ctx.contextDir);
  return ctx.snapshotter.withReadOnly(ctx.chainOf(source), fn, ctx.signal);
}
