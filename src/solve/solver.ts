import { BuildError, withLocation } from "../diagnostics/build-error.js";
import type { CacheIndex, CacheRecord } from "../cache/cache-index.js";
import { baseKey, stepKey } from "../cache/keys.js";
import type { FileHashCache } from "../copy/file-hash-cache.js";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import type { Digest } from "../oci/digest.js";
import type { Descriptor, HistoryEntry } from "../oci/types.js";
import type { BuildGraph, PlannedStage, SourceRef, StepNode, StepOp } from "../plan/graph.js";
import type { BuildReporter } from "../progress/events.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { CommittedLayer, LayerRef, Snapshotter } from "../snapshot/snapshotter.js";
import type { FsContentStore } from "../store/fs-content-store.js";
import type { OpContext } from "./ops/context.js";
import { runTasks, type Task } from "./scheduler.js";
import { contentKeyedReads, stagesReadByKey, type StageRead } from "./content-keyed.js";
import { stepInputs, type StepInputs } from "./step-inputs.js";

/** A layer of a result: its descriptor and uncompressed digest. */
export interface LayerInfo {
  /** Blob descriptor for the manifest. */
  readonly descriptor: Descriptor;
  /** Uncompressed digest for the config's diff_ids. */
  readonly diffId: string;
}

/** What a stage produced. */
export interface StageOutcome {
  /** Cache key of its last step (or its base). */
  readonly key: string;
  /** Its layers, base image's first. */
  readonly layers: readonly LayerInfo[];
  /** Its history, base image's first, one entry per instruction. */
  readonly history: readonly HistoryEntry[];
}

/** Everything {@link solve} needs. */
export interface SolveOptions {
  readonly graph: BuildGraph;
  readonly content: FsContentStore;
  readonly storeRoot: string;
  readonly snapshotter: Snapshotter;
  readonly cache: CacheIndex;
  readonly sandbox: Sandbox;
  /** Absolute build context directory. */
  readonly contextDir: string;
  /** The context's ignore rules. */
  readonly ignore?: IgnoreMatcher;
  /** Stat cache of context file hashes (cheap rebuilds). */
  readonly hashCache?: FileHashCache;
  /** `--no-cache`: run every step (results are still recorded). */
  readonly noCache?: boolean;
  /** `--no-cache-filter`: stages (by index) whose steps always run. */
  readonly noCacheStages?: ReadonlySet<number>;
  /** Parallel steps at most (default: the number of cores). */
  readonly concurrency: number;
  /** `SOURCE_DATE_EPOCH` in seconds: layer times and history times. */
  readonly sourceDateEpoch?: number;
  /** Progress events. */
  readonly reporter: BuildReporter;
  /** Compute keys and look them up, run nothing (`tsbuild plan`). */
  readonly dryRun?: boolean;
  /** Build secrets by id, for `RUN --mount=type=secret` (never part of a key). */
  readonly secrets?: ReadonlyMap<string, Buffer>;
  /** SSH agent sockets by id, for `RUN --mount=type=ssh` (never part of a key). */
  readonly sshAgents?: ReadonlyMap<string, string>;
  /** Cancels the build. */
  readonly signal?: AbortSignal;
}

/** What {@link solve} returns. */
export interface SolveResult {
  /** Per-stage outcomes (empty for a dry run). */
  readonly stages: Map<number, StageOutcome>;
  /** For a dry run: every step with its key and whether the cache has it, in plan order. */
  readonly planned: PlannedStep[];
}

/** A step's key and cache state, as a dry run finds them. */
export interface PlannedStep {
  /** Step id. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /**
   * Cache key; null when it cannot be known without running the build: it
   * depends on the content of a stage that is not cached (a
   * `COPY --from=<stage>` or a read-only bind mount of it, see
   * {@link contentKeyedReads}), or follows such a step.
   */
  readonly key: string | null;
  /** True when the cache has its result. */
  readonly cached: boolean;
  /** Stages it reads. */
  readonly stageDeps: readonly number[];
}

interface NodeState {
  readonly key: string;
  readonly chain: readonly LayerInfo[];
  readonly created: string;
  /**
   * Dry runs only: `chain` is not what the build would produce, because a
   * step up to here is not cached (its layer is known only once it runs).
   */
  readonly chainUnknown?: boolean;
  /** Dry runs only: `key` is not known, because it depends on the content of a stage that is not cached ({@link contentKeyedReads}). */
  readonly keyUnknown?: boolean;
}

const HISTORY_COMMENT = "buildkit.dockerfile.v0";

/**
 * Runs a build graph. Each step: compute its cache key (definition +
 * parent key + keys of the stages it reads by key + checksums of the
 * context files, URL bodies and other stages' files it reads), reuse the
 * recorded result if there is one, otherwise run it on a mutable snapshot and record the result the moment it succeeds — which
 * is what lets a rerun after a failure or a kill resume where it stopped.
 * Independent stages run in parallel.
 */
export async function solve(options: SolveOptions): Promise<SolveResult> {
  const { graph, reporter } = options;
  const states = new Map<string, NodeState>();
  const lastNode = (stage: number): string => {
    const s = graph.stages.get(stage)!;
    const steps = s.entries.filter((e) => e.kind === "step");
    return steps.length ? steps[steps.length - 1]!.step.id : `base:${stage}`;
  };
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  const now = (): string => new Date(options.sourceDateEpoch !== undefined ? options.sourceDateEpoch * 1000 : Date.now()).toISOString();

  const chainOf = (source: Exclude<SourceRef, { kind: "context" }>): LayerInfo[] => {
    if (source.kind === "stage") return [...states.get(lastNode(source.stage))!.chain];
    return imageChain(source.image.layers, source.image.config.rootfs.diff_ids);
  };

  const planned: PlannedStep[] = [];
  const tasks: Task[] = [];
  for (const index of graph.order) {
    const stage = graph.stages.get(index)!;
    const baseId = `base:${index}`;
    tasks.push({
      id: baseId,
      after: stage.base.kind === "stage" ? [lastNode(stage.base.stage)] : [],
      run: async () => {
        states.set(baseId, baseState(stage, states, lastNode));
      },
    });
    let previous = baseId;
    for (const entry of stage.entries) {
      if (entry.kind !== "step") continue;
      const step = entry.step;
      const parentId = previous;
      tasks.push({
        id: step.id,
        after: [parentId, ...step.stageDeps.map(lastNode)],
        run: async () => {
          const parent = states.get(parentId)!;
          const reads = contentKeyedReads(step);
          const stageKeys = stagesReadByKey(step).map((d) => states.get(lastNode(d))!.key);
          const sources = reads.map((r) => states.get(lastNode(r.stage))!);
          if (options.dryRun) {
            // A key depends on definitions, parent keys and checksums of what the step reads: all known before anything runs, except the content of a stage that would run first.
            const unknown =
              parent.keyUnknown === true || step.stageDeps.some((d) => states.get(lastNode(d))!.keyUnknown === true) || sources.some((s) => s.chainUnknown === true || s.keyUnknown === true);
            if (unknown) {
              planned.push({ id: step.id, name: step.name, key: null, cached: false, stageDeps: step.stageDeps });
              states.set(step.id, { key: "", chain: parent.chain, created: parent.created, chainUnknown: true, keyUnknown: true });
              return;
            }
            const inputs = await stepInputs(step, { ...options, signal });
            await inputs.dispose();
            const stageSums = await stageChecksums(step, reads, sources, options, signal);
            const key = stepKey({ definition: step.definition, parent: parentKeyOf(step, parent), stageKeys, checksums: [...inputs.checksums, ...stageSums] });
            const record = await options.cache.get(key);
            planned.push({ id: step.id, name: step.name, key, cached: record !== undefined, stageDeps: step.stageDeps });
            const chain = record?.layer ? [...parent.chain, toLayerInfo(record.layer)] : parent.chain;
            states.set(step.id, { key: stateKey(step, parent, key), chain, created: parent.created, ...(record === undefined || parent.chainUnknown ? { chainUnknown: true } : {}) });
            return;
          }
          const stageSums = await stageChecksums(step, reads, sources, options, signal);
          const state = await runStep(step, parent, {
            ...options,
            signal,
            stageKeys,
            stageChecksums: stageSums,
            chainOf,
            now,
          });
          states.set(step.id, state);
        },
      });
      previous = step.id;
    }
  }
  await runTasks(tasks, { concurrency: Math.max(1, options.concurrency), onFailure: () => internal.abort() });
  if (options.hashCache) await options.hashCache.save();
  if (options.dryRun) return { stages: new Map(), planned: sortByPlan(planned, tasks) };

  const outcomes = new Map<number, StageOutcome>();
  for (const index of graph.order) {
    const stage = graph.stages.get(index)!;
    outcomes.set(index, stageOutcome(stage, states, outcomes, lastNode(index)));
  }
  return { stages: outcomes, planned };
}

function sortByPlan(planned: PlannedStep[], tasks: readonly Task[]): PlannedStep[] {
  const order = new Map(tasks.map((t, i) => [t.id, i]));
  return planned.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

function imageChain(layers: readonly Descriptor[], diffIds: readonly string[]): LayerInfo[] {
  return layers.map((d, i) => ({ descriptor: d, diffId: diffIds[i] ?? d.digest }));
}

function baseState(stage: PlannedStage, states: Map<string, NodeState>, lastNode: (s: number) => string): NodeState {
  switch (stage.base.kind) {
    case "image": {
      const img = stage.base.image;
      return {
        key: baseKey({ kind: "image", manifestDigest: img.manifestDigest }),
        chain: imageChain(img.layers, img.config.rootfs.diff_ids),
        created: img.config.created ?? new Date(0).toISOString(),
      };
    }
    case "stage":
      return states.get(lastNode(stage.base.stage))!;
    case "scratch":
      return { key: baseKey({ kind: "scratch" }), chain: [], created: new Date(0).toISOString() };
  }
}

/**
 * The content checksums a step's reads of other stages are keyed by
 * ({@link contentKeyedReads}), in order, from each source stage's layers;
 * errors (a source missing from the stage) carry the instruction's location.
 */
async function stageChecksums(step: StepNode, reads: readonly StageRead[], sources: readonly NodeState[], options: SolveOptions, signal: AbortSignal): Promise<string[]> {
  if (reads.length === 0) return [];
  const [{ stageSelectionChecksum }, { SelectionMemo }] = await Promise.all([import("./stage-checksum.js"), import("../cache/selection-memo.js")]);
  const ctx = { snapshotter: options.snapshotter, memo: SelectionMemo.at(options.storeRoot), signal };
  const sums: string[] = [];
  try {
    for (const [i, read] of reads.entries()) sums.push(await stageSelectionChecksum(read, step.op, sources[i]!.chain.map(toRef), ctx));
  } catch (err) {
    throw withLocation(err, step.range);
  }
  return sums;
}

interface StepContext extends SolveOptions {
  readonly signal: AbortSignal;
  readonly stageKeys: readonly string[];
  /** Content checksums of the stages the step reads by content (after the context checksums in its key). */
  readonly stageChecksums: readonly string[];
  chainOf(source: Exclude<SourceRef, { kind: "context" }>): LayerInfo[];
  now(): string;
}

/** Key → lookup → execute or reuse → record → events, for one step. */
async function runStep(step: StepNode, parent: NodeState, ctx: StepContext): Promise<NodeState> {
  const inputs = await stepInputs(step, { ...ctx, onPhase: (name, status) => ctx.reporter.onEvent({ type: "phase", name, status, time: Date.now() }) });
  try {
    return await keyedStep(step, parent, inputs, ctx);
  } finally {
    await inputs.dispose();
  }
}

/** {@link runStep} once the step's inputs are known. */
async function keyedStep(step: StepNode, parent: NodeState, inputs: StepInputs, ctx: StepContext): Promise<NodeState> {
  const key = stepKey({ definition: step.definition, parent: parentKeyOf(step, parent), stageKeys: ctx.stageKeys, checksums: [...inputs.checksums, ...ctx.stageChecksums] });
  const useCache = !ctx.noCache && !ctx.noCacheStages?.has(step.stage);
  if (useCache) {
    const record = await ctx.cache.get(key);
    if (record && (record.layer === null || (await ctx.content.hasBlob(record.layer.digest as Digest)))) {
      ctx.reporter.onEvent({ type: "step-cached", id: step.id, name: step.name, time: Date.now() });
      return { key: stateKey(step, parent, key), chain: record.layer ? [...parent.chain, toLayerInfo(record.layer)] : parent.chain, created: record.created };
    }
  }
  const started = Date.now();
  ctx.reporter.onEvent({ type: "step-start", id: step.id, name: step.name, time: started });
  const tail = new OutputTail();
  const op: OpContext = {
    contextDir: ctx.contextDir,
    ...(ctx.ignore ? { ignore: ctx.ignore } : {}),
    storeRoot: ctx.storeRoot,
    snapshotter: ctx.snapshotter,
    sandbox: ctx.sandbox,
    chainOf: (s) => ctx.chainOf(s).map(toRef),
    downloads: inputs.downloads,
    gitCommits: inputs.gitCommits,
    ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
    ...(ctx.sshAgents ? { sshAgents: ctx.sshAgents } : {}),
    onOutput: (stream, chunk) => {
      const text = chunk.toString("utf8");
      tail.add(text);
      ctx.reporter.onEvent({ type: "step-log", id: step.id, stream, text, time: Date.now() });
    },
    signal: ctx.signal,
  };
  let layer: CommittedLayer | null;
  try {
    layer = await runOp(step.op, parent.chain.map(toRef), op, ctx);
  } catch (err) {
    const cancelled = ctx.signal.aborted;
    const failure = stepFailure(err, step, tail, cancelled);
    ctx.reporter.onEvent({ type: "step-error", id: step.id, name: step.name, message: failure.message, cancelled, time: Date.now() });
    throw failure;
  }
  const record: CacheRecord = {
    key,
    layer: layer ? { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, diffId: layer.diffId } : null,
    created: ctx.now(),
  };
  // Recorded the moment it succeeds: a later failure or kill cannot lose this step.
  await ctx.cache.put(record);
  ctx.reporter.onEvent({ type: "step-done", id: step.id, name: step.name, duration: Date.now() - started, time: Date.now() });
  return { key: stateKey(step, parent, key), chain: record.layer ? [...parent.chain, toLayerInfo(record.layer)] : parent.chain, created: record.created };
}

/**
 * Runs a step's operation on its parent's layers and commits what it
 * changed, mounting only when it must: a WORKDIR that already exists
 * changes nothing, and a COPY into a new path writes straight into a fresh
 * upper directory.
 */
async function runOp(stepOp: StepOp, chain: readonly LayerRef[], op: OpContext, ctx: StepContext): Promise<CommittedLayer | null> {
  const options = { ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}), signal: ctx.signal };
  switch (stepOp.kind) {
    case "workdir": {
      if (await ctx.snapshotter.isPlainDirectory(chain, stepOp.path, ctx.signal)) return null;
      const { runWorkdir } = await import("./ops/workdir.js");
      return ctx.snapshotter.runMutable(chain, (rootfs) => runWorkdir(stepOp, rootfs), options);
    }
    case "copy": {
      const { runCopy, unmountedCopyParent } = await import("./ops/copy.js");
      // COPY --link: onto an empty filesystem, whatever the layers below hold (BuildKit copies onto scratch and merges).
      if (stepOp.linked) return ctx.snapshotter.runUnmounted([], "/", (upper) => runCopy(stepOp, upper, op), options);
      const parentDir = await unmountedCopyParent(stepOp, chain, ctx.snapshotter, ctx.signal);
      if (parentDir !== undefined) return ctx.snapshotter.runUnmounted(chain, parentDir, (upper) => runCopy(stepOp, upper, op), options);
      return ctx.snapshotter.runMutable(chain, (rootfs) => runCopy(stepOp, rootfs, op), options);
    }
    case "exec": {
      const { runExec } = await import("./ops/exec.js");
      return ctx.snapshotter.runMutable(chain, (rootfs) => runExec(stepOp, rootfs, op), options);
    }
  }
}

/**
 * The parent key a step's key is made with: its parent's, except for a
 * linked COPY ({@link StepOp} `linked`), whose layer does not depend on the
 * layers below, so that a change before it does not rerun it.
 */
function parentKeyOf(step: StepNode, parent: NodeState): string {
  return isLinked(step) ? "" : parent.key;
}

/**
 * The key of the state after a step, which the next step is keyed on: the
 * step's own key, except after a linked COPY, where it is the key of the
 * merge of the parent state and the copy's layer (BuildKit's MergeOp keys
 * on both inputs). Without this, the steps after a linked copy would not
 * see a change made before it.
 */
function stateKey(step: StepNode, parent: NodeState, key: string): string {
  return isLinked(step) ? stepKey({ definition: { op: "merge" }, parent: parent.key, stageKeys: [key] }) : key;
}

function isLinked(step: StepNode): boolean {
  return step.op.kind === "copy" && step.op.linked;
}

function toLayerInfo(l: { mediaType: string; digest: string; size: number; diffId: string }): LayerInfo {
  return { descriptor: { mediaType: l.mediaType, digest: l.digest, size: l.size }, diffId: l.diffId };
}

function toRef(l: LayerInfo): LayerRef {
  return { digest: l.descriptor.digest, diffId: l.diffId };
}

/** The error a failed step reports: its message, the instruction's location, and the last lines of its output. */
function stepFailure(err: unknown, step: StepNode, tail: OutputTail, cancelled: boolean): BuildError {
  if (cancelled && !(err instanceof BuildError && err.code === "STEP_FAILED")) {
    return new BuildError("ABORTED", `${step.name}: cancelled`, { cause: err, locations: [step.range] });
  }
  const located = withLocation(err, step.range);
  const lines = tail.lines();
  const hint = lines.length ? `last output of ${step.name}:\n${lines.map((l) => `  ${l}`).join("\n")}` : located.hint;
  return new BuildError(located.code, `${step.name}: ${located.message}`, { cause: err, locations: located.locations, ...(hint ? { hint } : {}) });
}

/** Keeps the last lines of a step's output for its error message. */
class OutputTail {
  private text = "";
  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-8192);
  }
  lines(max = 12): string[] {
    return this.text.split(/\r?\n/).filter((l) => l.trim() !== "").slice(-max);
  }
}

/** The stage's layers and history once every step ran. */
function stageOutcome(stage: PlannedStage, states: Map<string, NodeState>, outcomes: Map<number, StageOutcome>, last: string): StageOutcome {
  const history: HistoryEntry[] =
    stage.base.kind === "image" ? [...(stage.base.image.config.history ?? [])] : stage.base.kind === "stage" ? [...outcomes.get(stage.base.stage)!.history] : [];
  let created = states.get(`base:${stage.index}`)!.created;
  let prevChainLength = states.get(`base:${stage.index}`)!.chain.length;
  for (const entry of stage.entries) {
    if (entry.kind === "meta") {
      history.push({ created, created_by: entry.createdBy, comment: HISTORY_COMMENT, empty_layer: true });
      continue;
    }
    const s = states.get(entry.step.id)!;
    created = s.created;
    const made = s.chain.length > prevChainLength;
    prevChainLength = s.chain.length;
    history.push({ created, created_by: entry.step.createdBy, comment: HISTORY_COMMENT, ...(made ? {} : { empty_layer: true }) });
  }
  const final = states.get(last)!;
  return { key: final.key, layers: final.chain, history };
}
