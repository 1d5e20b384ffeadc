import { posix } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import type { SourceRange } from "../diagnostics/source.js";
import type { ResolvedDockerfile, ResolvedStage } from "../instructions/resolve.js";
import type { CopyInstruction, Instruction, RunInstruction, RunMount } from "../instructions/types.js";
import { PROXY_ARGS, type PlatformSpec } from "../instructions/platform.js";
import type { ContainerConfig } from "../oci/types.js";
import { stageReference } from "../instructions/stage-refs.js";
import type { BaseImage, BuildGraph, PlannedBase, PlannedMount, PlannedStage, SourceRef, StageEntry, StepNode } from "./graph.js";
import { exposedPorts } from "./expose.js";
import { goDuration, goList, goQuote, goQuoteList, goQuoteRune } from "./go-format.js";
import { applyToConfig, cloneConfig, DEFAULT_PATH, envMap, resolveWorkdir } from "./image-config.js";
import { runCommand } from "./run-command.js";

/** Inputs of {@link planBuild} besides the resolved Dockerfile. */
export interface PlanOptions {
  /** Every image reference the needed stages use (see {@link imageRefsNeeded}), resolved. */
  readonly images: ReadonlyMap<string, BaseImage>;
  /** `--build-arg` values (proxy args reach RUN without a declaration). */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The target platform. */
  readonly platform: PlatformSpec;
}

/** The image references the target's stages need: FROM images, COPY --from images, RUN --mount from= images. */
export function imageRefsNeeded(resolved: ResolvedDockerfile): string[] {
  return [...imageRefUses(resolved).keys()];
}

/**
 * Every image reference the needed stages use, with the instruction that
 * uses it first (a FROM, a `COPY --from`, a `RUN --mount=from=`), so that
 * a failure to resolve it can point at that line.
 */
export function imageRefUses(resolved: ResolvedDockerfile): Map<string, SourceRange> {
  const refs = new Map<string, SourceRange>();
  const stagesByIndex = new Map(resolved.stages.map((s) => [s.index, s]));
  for (const i of resolved.needed) {
    const stage = stagesByIndex.get(i)!;
    if (stage.base.kind === "image" && !refs.has(stage.base.ref)) refs.set(stage.base.ref, stage.from.range);
    for (const step of stage.steps) {
      for (const from of fromValues(step.instruction)) {
        if (!isStageRef(from, resolved, stage.index) && !refs.has(from)) refs.set(from, step.instruction.range);
      }
    }
  }
  return refs;
}

function fromValues(inst: Instruction): string[] {
  if ((inst.kind === "copy" || inst.kind === "add") && inst.from !== undefined) return [inst.from];
  if (inst.kind === "run") return inst.mounts.filter((m) => m.from !== undefined && m.type !== "secret" && m.type !== "ssh").map((m) => m.from!);
  return [];
}

function isStageRef(from: string, resolved: ResolvedDockerfile, current: number): boolean {
  return /^\d+$/.test(from) || stageReference(from, resolved.stages, current) !== undefined;
}

/**
 * Turns the resolved Dockerfile into the build graph for its target: one
 * chain of steps per needed stage, each with its canonical definition, and
 * the image config each stage ends with. Pure: base images come in through
 * `options.images`.
 */
export function planBuild(resolved: ResolvedDockerfile, options: PlanOptions): BuildGraph {
  const stages = new Map<number, PlannedStage>();
  const byIndex = new Map(resolved.stages.map((s) => [s.index, s]));
  const image = (ref: string): BaseImage => {
    const img = options.images.get(ref);
    if (!img) throw new BuildError("INTERNAL", `base image ${ref} was not resolved before planning`);
    return img;
  };
  const sourceRef = (from: string | undefined, current: number): SourceRef => {
    if (from === undefined) return { kind: "context" };
    if (/^\d+$/.test(from)) return { kind: "stage", stage: Number(from) };
    const idx = stageReference(from, resolved.stages, current);
    return idx !== undefined ? { kind: "stage", stage: idx } : { kind: "image", image: image(from) };
  };
  for (const index of resolved.needed) {
    const stage = byIndex.get(index)!;
    stages.set(index, planStage(stage, stages, { ...options, image, sourceRef }));
  }
  return { stages, order: resolved.needed, target: resolved.target };
}

interface StageContext extends PlanOptions {
  image(ref: string): BaseImage;
  sourceRef(from: string | undefined, current: number): SourceRef;
}

function planStage(stage: ResolvedStage, done: ReadonlyMap<number, PlannedStage>, ctx: StageContext): PlannedStage {
  let base: PlannedBase;
  let config: ContainerConfig;
  if (stage.base.kind === "image") {
    const img = ctx.image(stage.base.ref);
    base = { kind: "image", image: img };
    config = cloneConfig(img.config.config ?? {});
    // The base's triggers ran in this stage (the resolver put them first); a child does not pass them on.
    delete config.OnBuild;
  } else if (stage.base.kind === "stage") {
    const parent = done.get(stage.base.stage);
    if (!parent) throw new BuildError("INTERNAL", `stage ${stage.base.stage} must be planned before stage ${stage.index}`);
    base = { kind: "stage", stage: stage.base.stage };
    config = cloneConfig(parent.config);
    // As for an image: the parent's triggers ran in this stage, and are not passed on.
    delete config.OnBuild;
  } else {
    base = { kind: "scratch" };
    // BuildKit's emptyImage: WorkingDir "/" (and the default PATH, below).
    config = { WorkingDir: "/" };
  }
  // As BuildKit: a stage whose base sets no PATH gets the default one in its config (resolve.ts does the same for expansion).
  if (base.kind !== "stage" && !envMap(config.Env).has("PATH")) config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
  const label = stage.name ?? `stage-${stage.index}`;
  const layerSteps = stage.steps.filter((s) => isLayerInstruction(s.instruction)).length;
  const total = layerSteps + 1;
  const entries: StageEntry[] = [];
  const state = { cmdFromBase: config.Cmd !== undefined && config.Cmd !== null };
  let author = base.kind === "image" ? base.image.config.author : base.kind === "stage" ? done.get(base.stage)?.author : undefined;
  let n = 1;
  for (const step of stage.steps) {
    const inst = step.instruction;
    const workdir = config.WorkingDir && config.WorkingDir !== "" ? config.WorkingDir : "/";
    const user = config.User ?? "";
    if (!isLayerInstruction(inst)) {
      applyToConfig(config, inst, state);
      if (inst.kind === "maintainer") author = inst.maintainer;
      // BuildKit records no history entry for ONBUILD (dispatchOnbuild only adds the trigger).
      if (inst.kind !== "onbuild") entries.push({ kind: "meta", createdBy: metaCreatedBy(inst, config) });
      continue;
    }
    n++;
    const id = `s${stage.index}.${n - 1}`;
    const name = `[${label} ${n}/${total}] ${inst.node.original}`;
    let node: StepNode;
    if (inst.kind === "run") {
      const command = runCommand(inst, config, step.args, ctx.buildArgs ?? {});
      const mounts = inst.mounts.map((m): PlannedMount => planMount(withTarget(m, workdir, inst), stage.index, ctx));
      const network = inst.network ?? "default";
      const declared = new Set(step.args.map(([k]) => k));
      node = {
        id,
        stage: stage.index,
        name,
        op: { kind: "exec", run: inst, command, user, workdir, network, mounts },
        definition: {
          op: "exec",
          args: command.args,
          // Proxy settings are not part of the result (BuildKit drops them from the exec cache key) unless declared.
          env: command.env.filter((e) => !PROXY_ARGS.has(e.slice(0, e.indexOf("="))) || declared.has(e.slice(0, e.indexOf("=")))),
          cwd: workdir,
          user,
          network,
          security: inst.security ?? "sandbox",
          mounts: mounts.map(mountDefinition),
          ...(command.script ? { script: command.script } : {}),
        },
        stageDeps: mounts.flatMap((m) => (m.sourceRef?.kind === "stage" ? [m.sourceRef.stage] : [])),
        createdBy: runCreatedBy(command.args, step.args, command.env),
        range: inst.range,
      };
    } else if (inst.kind === "copy" || inst.kind === "add") {
      const source = ctx.sourceRef(inst.from, stage.index);
      const linked = isLinkedCopy(inst);
      node = {
        id,
        stage: stage.index,
        name,
        op: { kind: "copy", copy: inst, workdir, source, linked },
        definition: copyDefinition(inst, workdir, source),
        stageDeps: source.kind === "stage" ? [source.stage] : [],
        createdBy: `${inst.node.keyword} ${copyArgs(inst)} # buildkit`,
        range: inst.range,
      };
    } else {
      // WORKDIR: create the directory (owned by USER, as BuildKit), then set it in the config.
      applyToConfig(config, inst, state);
      const path = resolveWorkdir(workdir, inst.kind === "workdir" ? inst.path : "/");
      node = {
        id,
        stage: stage.index,
        name,
        op: { kind: "workdir", path, user },
        definition: { op: "mkdir", path, user },
        stageDeps: [],
        createdBy: `WORKDIR ${path}`,
        range: inst.range,
      };
    }
    entries.push({ kind: "step", step: node });
  }
  return {
    index: stage.index,
    ...(stage.name ? { name: stage.name } : {}),
    base,
    entries,
    config,
    ...(author !== undefined ? { author } : {}),
    platform: ctx.platform,
  };
}

/** Instructions that may change the filesystem (BuildKit: RUN, COPY, ADD, WORKDIR). */
export function isLayerInstruction(inst: Instruction): inst is RunInstruction | CopyInstruction | Extract<Instruction, { kind: "workdir" }> {
  return inst.kind === "run" || inst.kind === "copy" || inst.kind === "add" || inst.kind === "workdir";
}

/**
 * BuildKit's `dispatchRunMounts`: a relative (or empty) target is relative
 * to WORKDIR, a target of "/" is refused, and a cache id defaults to the
 * target.
 */
function withTarget(m: RunMount, workdir: string, inst: RunInstruction): RunMount {
  // A secret given only as env= has no file to mount.
  if (m.type === "secret" && m.env !== undefined && m.target === "") return m;
  const target = m.target.startsWith("/") ? posix.normalize(m.target) : posix.join("/", workdir, m.target);
  if (target === "/" && !(m.type === "secret" && m.env !== undefined)) {
    throw new BuildError("DF_FLAG", `invalid mount target "${m.target || "/"}"`, { locations: [inst.range], hint: "mount somewhere other than /, e.g. target=/src" });
  }
  return { ...m, target, ...(m.type === "cache" ? { id: m.id ?? target } : {}) };
}

function planMount(m: RunMount, current: number, ctx: StageContext): PlannedMount {
  if (m.type === "bind") return { ...m, sourceRef: ctx.sourceRef(m.from, current) };
  if (m.type === "cache" && m.from !== undefined) return { ...m, sourceRef: ctx.sourceRef(m.from, current) };
  return m;
}

function mountDefinition(m: PlannedMount): unknown {
  const { sourceRef, ...rest } = m;
  // The source's content enters the key through the solver (stage keys, image digests, context checksums).
  const src = sourceRef === undefined ? undefined : sourceRef.kind === "image" ? `image:${sourceRef.image.manifestDigest}` : sourceRef.kind === "stage" ? `stage:${sourceRef.stage}` : "context";
  return { ...rest, ...(src ? { sourceRef: src } : {}) };
}

function copyDefinition(inst: CopyInstruction, workdir: string, source: SourceRef): unknown {
  return {
    op: inst.kind,
    sources: inst.sources,
    inline: inst.inline.map((f) => ({ name: f.name, content: f.content })),
    dest: inst.dest,
    workdir,
    chown: inst.chown ?? null,
    chmod: inst.chmod ?? null,
    link: inst.link,
    parents: inst.parents,
    excludes: inst.excludes,
    keepGitDir: inst.keepGitDir,
    checksum: inst.checksum ?? null,
    unpack: inst.unpack ?? null,
    from: source.kind === "image" ? `image:${source.image.manifestDigest}` : source.kind === "stage" ? `stage:${source.stage}` : "context",
  };
}

/** The history line's arguments, as BuildKit's dispatchCopy writes them: --parents, --chown, --chmod, sources, heredocs, destination. */
function copyArgs(inst: CopyInstruction): string {
  const flags = [
    ...(inst.parents ? ["--parents"] : []),
    ...(inst.chown ? [`--chown=${inst.chown}`] : []),
    ...(inst.chmod ? [`--chmod=${inst.chmod}`] : []),
  ];
  return [...flags, ...inst.sources, ...inst.inline.map((f) => `<<${f.name}`), inst.dest].join(" ");
}

/**
 * Whether `--link` takes effect: BuildKit merges the copy onto the stage
 * only without `--chmod` (dockerfile2llb's `cfg.link && cfg.chmod == ""`).
 * Such a copy runs on an empty filesystem, where a user or group name
 * cannot be looked up: BuildKit refuses a named `--chown` with `--link`
 * (moby/buildkit#7134), numeric ids and `root` work.
 */
function isLinkedCopy(inst: CopyInstruction): boolean {
  if (!inst.link || (inst.chmod !== undefined && inst.chmod !== "")) return false;
  if (inst.chown !== undefined && inst.chown !== "") {
    const named = inst.chown.split(":").filter((part) => part !== "" && part !== "root" && !/^\d+$/.test(part));
    if (named.length > 0) {
      throw new BuildError("DF_FLAG", `--chown=${inst.chown} cannot be used with --link: user and group names cannot be resolved in a linked copy`, {
        locations: [inst.range],
        hint: "use numeric ids (--chown=1000:1000), or drop --link",
      });
    }
  }
  return true;
}

/** BuildKit's history line for RUN: `RUN |N K=V ... argv # buildkit`. */
/**
 * BuildKit's `runCommandString`: `|N K=V ...` for the ARGs in scope, each
 * with the value the process sees (an ENV of the same name wins over the
 * ARG, as `env.Get` does there), then argv.
 */
function runCreatedBy(argv: readonly string[], args: readonly (readonly [string, string | undefined])[], env: readonly string[]): string {
  const seen = new Map(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const));
  const valued = args.filter(([k, v]) => v !== undefined && !PROXY_ARGS.has(k)).map(([k, v]) => [k, seen.get(k) ?? v] as const);
  const prefix = valued.length ? `|${valued.length} ${valued.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
  return `RUN ${prefix}${argv.join(" ")} # buildkit`;
}

function metaCreatedBy(inst: Instruction, config: ContainerConfig): string {
  switch (inst.kind) {
    case "env":
    case "label":
      return `${inst.node.keyword} ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`;
    case "arg":
      return `ARG ${inst.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(" ")}`;
    case "cmd":
      return `CMD ${goQuoteList(config.Cmd ?? [])}`;
    case "entrypoint":
      return `ENTRYPOINT ${goQuoteList(config.Entrypoint ?? [])}`;
    case "shell":
      return `SHELL ${goList(config.Shell ?? [])}`;
    case "expose":
      // BuildKit formats its parsed []string with %v: `EXPOSE [80/tcp 53/udp]`.
      return `EXPOSE [${exposedPorts(inst.ports).join(" ")}]`;
    case "volume":
      return `VOLUME ${goList(inst.paths)}`;
    case "user":
      return `USER ${inst.user}`;
    case "stopsignal":
      return `STOPSIGNAL ${inst.signal}`;
    case "healthcheck": {
      // `%q` of BuildKit's HealthcheckConfig pointer: fields in order, durations through String(), Retries as a rune.
      const h = config.Healthcheck ?? {};
      const durations = [h.Interval, h.Timeout, h.StartPeriod, h.StartInterval].map((d) => goQuote(goDuration(d ?? 0)));
      return `HEALTHCHECK &{${[goQuoteList(h.Test ?? []), ...durations, goQuoteRune(h.Retries ?? 0)].join(" ")}}`;
    }
    case "maintainer":
      return `MAINTAINER ${inst.maintainer}`;
    default:
      return inst.node.original;
  }
}
