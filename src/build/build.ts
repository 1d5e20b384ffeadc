import { availableParallelism } from "node:os";
import { FsCacheIndex, MemoryCacheIndex } from "../cache/cache-index.js";
import { checkDockerfile, checkTyped } from "../check/check.js";
import { FrontendError } from "../check/frontend-error.js";
import { FileHashCache } from "../copy/file-hash-cache.js";
import { IgnoreMatcher, loadDockerignore } from "../context/dockerignore.js";
import { BuildError } from "../diagnostics/build-error.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";
import { writeImage, type BuiltImage } from "../export/image.js";
import { hostPlatform, type PlatformSpec } from "../instructions/platform.js";
import { parseReference, withDefaultTag, type ImageReference } from "../registry/reference.js";
import type { BuildGraph } from "../plan/graph.js";
import { imageRefUses, planBuild } from "../plan/plan.js";
import { silentReporter, type BuildReporter } from "../progress/events.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { Snapshotter } from "../snapshot/snapshotter.js";
import { solve, type StageOutcome } from "../solve/solver.js";
import { openStore, type LocalStore } from "../store/store.js";
import { resolveBaseImages, type PullFunction } from "./base-images.js";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { ResolvedDockerfile } from "../instructions/resolve.js";
import type { Instruction } from "../instructions/types.js";

/** Everything `tsbuild build` decides from its command line. */
export interface BuildOptions {
  /** Absolute context directory. */
  readonly contextDir: string;
  /** The Dockerfile, read. */
  readonly dockerfile: SourceFile;
  /** Absolute Dockerfile path (`-` for stdin), to find `<Dockerfile>.dockerignore`. */
  readonly dockerfilePath: string;
  /** `-t` names. */
  readonly tags?: readonly string[];
  /** Keep the context's file hashes in the store for the next build (default true; false for a temporary context). */
  readonly keepContextHashes?: boolean;
  /**
   * Record the image in the local store under every `-t` name (the
   * `type=image` output). Default true; false when the only outputs are
   * files or directories, which buildx writes without storing the image
   * (the names then only label the outputs).
   */
  readonly storeImage?: boolean;
  /** `--build-arg` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** `--target`. */
  readonly target?: string;
  /** `--no-cache`. */
  readonly noCache?: boolean;
  /** `--no-cache-filter` stage names. */
  readonly noCacheFilter?: readonly string[];
  /** `--pull`. */
  readonly pull?: boolean;
  /** `--platform` (only the host's is supported). */
  readonly platform?: PlatformSpec;
  /** `--label`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `--network`: the default network of RUN steps. */
  readonly network?: "default" | "none" | "host";
  /** `--root`. */
  readonly root?: string;
  /** Environment (store root, credentials). */
  readonly env?: NodeJS.ProcessEnv;
  /** `--runtime`: the OCI runtime binary. */
  readonly runtime?: string;
  /** Parallel steps (default: {@link DEFAULT_CONCURRENCY}, or the number of cores if larger). */
  readonly concurrency?: number;
  /** `SOURCE_DATE_EPOCH` (seconds). */
  readonly sourceDateEpoch?: number;
  /** Fetches base images the store lacks. */
  readonly fetch?: PullFunction;
  /** Only compute the plan and the keys (`tsbuild plan`, `--dry-run`). */
  readonly dryRun?: boolean;
  /** `--secret` values, already read (see `secrets.ts`), by id. */
  readonly secrets?: ReadonlyMap<string, Buffer>;
  /** `--ssh` agent sockets, checked (see `ssh.ts`), by id. */
  readonly sshAgents?: ReadonlyMap<string, string>;
}

/**
 * Steps run at once by default. A step mostly waits (on its container, on
 * the disk), so capping at the number of cores serialised independent
 * stages for nothing: four one-second RUNs took two seconds on two cores.
 * BuildKit sets no limit at all; this one only bounds a very wide graph.
 */
export const DEFAULT_CONCURRENCY = 16;

/** What a build produced. */
export interface BuildResult {
  /** Warnings of the Dockerfile check. */
  readonly warnings: readonly Diagnostic[];
  /** The image (absent for a dry run). */
  readonly image?: BuiltImage;
  /** Names it was stored under. */
  readonly names: readonly ImageReference[];
  /** The plan. */
  readonly graph: BuildGraph;
  /** Per-stage outcomes. */
  readonly outcomes?: ReadonlyMap<number, StageOutcome>;
  /** The store used. */
  readonly store: LocalStore;
  /** For a dry run: each step's key and whether the cache has it. */
  readonly planned?: readonly PlannedStepInfo[];
}

/** A step as `tsbuild plan` shows it. */
export interface PlannedStepInfo {
  /** Step id. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** Cache key; null when it depends on the content of a stage that is not cached yet (known once that stage runs). */
  readonly key: string | null;
  /** True when the cache has a result for it. */
  readonly cached: boolean;
  /** Stages it reads. */
  readonly stageDeps: readonly number[];
}

/**
 * Builds an image: checks the Dockerfile (throwing {@link FrontendError}
 * with every diagnostic when it has errors), resolves base images once,
 * plans, solves (cached, parallel, sandboxed), and stores the image under
 * every tag. The CLI adds outputs and push on top.
 */
export async function build(options: BuildOptions, reporter: BuildReporter = silentReporter, signal?: AbortSignal): Promise<BuildResult> {
  const platform = options.platform ?? hostPlatform();
  const host = hostPlatform();
  if (platform.os !== host.os || platform.architecture !== host.architecture || (platform.variant ?? "") !== (host.variant ?? "")) {
    throw new BuildError("CLI_USAGE", `building for ${platform.os}/${platform.architecture} is not supported yet: only this machine's platform (${host.os}/${host.architecture})`, {
      hint: "drop --platform, or build on a machine of that platform",
    });
  }
  const names = (options.tags ?? []).map((t) => withDefaultTag(parseReference(t)));
  const ignoreFile = await loadDockerignore(options.contextDir, options.dockerfilePath);
  const ignore = ignoreFile.patterns.length ? new IgnoreMatcher(ignoreFile.patterns, ignoreFile.file ? { file: ignoreFile.file } : {}) : undefined;
  const checkOptions = {
    ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
    ...(options.target !== undefined ? { target: options.target } : {}),
    platform,
    ...(ignore ? { ignored: (p: string) => ignore.matches(p) } : {}),
  };
  const first = checkDockerfile(options.dockerfile, checkOptions);
  failOnErrors(options.dockerfile, first.diagnostics);

  const store = await openStore({ root: options.root, env: options.env, ...(signal ? { signal } : {}) });
  const uses = imageRefUses(first.resolved);
  const images = await resolveBaseImages({
    store,
    refs: [...uses.keys()],
    locate: (ref) => uses.get(ref),
    platform,
    pull: options.pull ?? false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    onPhase: (name, status) => reporter.onEvent({ type: "phase", name, status, time: Date.now() }),
    ...(signal ? { signal } : {}),
  });
  // Second pass with the base images' ENV known: expansions and checks now see it.
  const checked = checkTyped(first, {
    ...checkOptions,
    imageEnv: (ref) => images.get(ref)?.config.config?.Env ?? [],
    imageOnBuild: (ref) => images.get(ref)?.config.config?.OnBuild ?? undefined,
  });
  failOnErrors(options.dockerfile, checked.diagnostics);
  const warnings = checked.diagnostics.filter((d) => d.severity === "warning");
  const graph = planBuild(withNetwork(checked.resolved, options.network), { images, ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}), platform });

  const cache = options.noCache && options.dryRun ? new MemoryCacheIndex() : await FsCacheIndex.open(store.root);
  const snapshotter = new Snapshotter(store.root, store.content);
  const stateDir = store.layout.sandboxDir;
  const runtime = options.runtime ?? "runc";
  if (!options.dryRun) {
    // A tsbuild killed with -9 leaves its runc containers behind: remove those of dead owners.
    // Only when some container or bundle may exist: `runc list` is a process spawn every no-op build would pay.
    if (await holdsAnything(stateDir)) {
      const { cleanupStale } = await import("../sandbox/runc-sandbox.js");
      await cleanupStale({ stateDir, runtime }).catch(() => undefined);
    }
    await snapshotter.cleanupStale();
  }
  const hashCache =
    options.keepContextHashes === false ? FileHashCache.memory() : await FileHashCache.open(join(store.layout.contextHashesDir, `${hashName(options.contextDir)}.json`));
  const noCacheStages = new Set(
    (options.noCacheFilter ?? []).map((name) => {
      const s = checked.resolved.stages.find((st) => st.name === name.toLowerCase() || String(st.index) === name);
      if (!s) throw new BuildError("DF_STAGE", `--no-cache-filter: no stage named "${name}"`);
      return s.index;
    }),
  );
  const outcomes = await solve({
    graph,
    content: store.content,
    storeRoot: store.root,
    snapshotter,
    cache,
    sandbox: lazyRuncSandbox(stateDir, runtime),
    contextDir: options.contextDir,
    ...(ignore ? { ignore } : {}),
    hashCache,
    noCache: options.noCache ?? false,
    noCacheStages,
    concurrency: options.concurrency ?? Math.max(DEFAULT_CONCURRENCY, availableParallelism()),
    ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
    reporter,
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.sshAgents ? { sshAgents: options.sshAgents } : {}),
    ...(signal ? { signal } : {}),
  });
  if (options.dryRun) {
    return { warnings, names, graph, store, planned: outcomes.planned };
  }
  reporter.onEvent({ type: "phase", name: "exporting to image", status: "start", time: Date.now() });
  const image = await writeImage({
    stage: graph.stages.get(graph.target)!,
    outcome: outcomes.stages.get(graph.target)!,
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
    content: store.content,
    ...(signal ? { signal } : {}),
  });
  for (const name of options.storeImage === false ? [] : names) {
    await store.images.putImage({
      name,
      manifestDigest: image.manifest.digest as never,
      mediaType: image.manifest.mediaType,
      size: image.manifest.size,
      configDigest: image.config.digest as never,
      platform: image.platform,
      created: image.imageConfig.created,
    });
  }
  reporter.onEvent({ type: "phase", name: "exporting to image", status: "done", time: Date.now() });
  return { warnings, image, names, graph, outcomes: outcomes.stages, store };
}

function failOnErrors(source: SourceFile, diagnostics: readonly Diagnostic[]): void {
  if (diagnostics.some((d) => d.severity === "error")) throw new FrontendError(source, diagnostics);
}

/** `--network` sets the default network of RUN steps that do not choose one. */
function withNetwork(resolved: ResolvedDockerfile, network: BuildOptions["network"]): ResolvedDockerfile {
  if (network === undefined || network === "default") return resolved;
  const apply = (inst: Instruction): Instruction =>
    inst.kind === "run" && (inst.network === undefined || inst.network === "default") ? { ...inst, network } : inst;
  return { ...resolved, stages: resolved.stages.map((s) => ({ ...s, steps: s.steps.map((st) => ({ ...st, instruction: apply(st.instruction) })) })) };
}

/**
 * False when the sandbox state directory holds nothing below its first
 * level (the runtime's state root and the bundles directory are empty, or
 * absent): then no container or bundle can be left over from a killed build.
 */
async function holdsAnything(stateDir: string): Promise<boolean> {
  try {
    for (const entry of await readdir(stateDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || (await readdir(join(stateDir, entry.name))).length > 0) return true;
    }
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** The runc sandbox, loaded on the first RUN: a build whose steps are all cached never needs it. */
function lazyRuncSandbox(stateDir: string, runtime: string): Sandbox {
  let loaded: Promise<Sandbox> | undefined;
  return {
    async run(spec, runOptions) {
      loaded ??= import("../sandbox/runc-sandbox.js").then((m) => new m.RuncSandbox({ stateDir, runtime }));
      return (await loaded).run(spec, runOptions);
    },
  };
}

/** One context-hash cache file per context directory. */
function hashName(dir: string): string {
  return createHash("sha256").update(dir).digest("hex").slice(0, 32);
}
