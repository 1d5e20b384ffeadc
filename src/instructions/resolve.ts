import { BuildError } from "../diagnostics/build-error.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceRange } from "../diagnostics/source.js";
import { suggest } from "../diagnostics/suggest.js";
import { OCTAL_MODE_RE, SYMBOLIC_MODE_RE } from "./copy-add.js";
import { expandWord } from "./expand/index.js";
import type { ParsedDockerfile } from "./parse.js";
import { convertInstruction, toDiagnostic } from "./parse.js";
import { parseDockerfile } from "../syntax/parse.js";
import { hostPlatform, isBuilderArg, platformArgs, PROXY_ARGS, type PlatformSpec } from "./platform.js";
import { parseMount } from "./run-mounts.js";
import { DEFAULT_PATH, Scope } from "./scope.js";
import { resolveTarget, stageReference, topologicalNeeds } from "./stage-refs.js";
import type { ArgInstruction, CopyInstruction, FromInstruction, Instruction, KeyValue, RunInstruction, Stage } from "./types.js";

/** Options of {@link resolveDockerfile}: what `--build-arg`, `--target` and `--platform` say. */
export interface ResolveOptions {
  /** `--build-arg` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** `--target` stage name; default the last stage. */
  readonly target?: string;
  /** Target platform; default the host's. */
  readonly platform?: PlatformSpec;
  /** Build platform; default the host's. */
  readonly buildPlatform?: PlatformSpec;
  /**
   * The `Env` of a base image's config, when known. Returning undefined
   * means unknown: variables it might define are then not reported as
   * undefined (so `check` without a registry gives no false positives).
   */
  readonly imageEnv?: (ref: string) => readonly string[] | undefined;
  /**
   * The ONBUILD triggers of a base image's config (`OnBuild`), when known.
   * They run first in a stage built directly on that image, as Docker does.
   */
  readonly imageOnBuild?: (ref: string) => readonly string[] | undefined;
}

/** Where a stage starts from. */
export type StageBase =
  | { readonly kind: "image"; readonly ref: string }
  | { readonly kind: "stage"; readonly stage: number }
  | { readonly kind: "scratch" };

/** One instruction of a stage, expanded, with the variables it saw. */
export interface ResolvedStep {
  /** The instruction with BuildKit's expansions applied. */
  readonly instruction: Instruction;
  /** ENV state before the instruction runs, in image-config order. */
  readonly env: readonly (readonly [string, string])[];
  /** ARGs in scope before it runs (name, value; undefined = declared without value). */
  readonly args: readonly (readonly [string, string | undefined])[];
  /** Stages this instruction reads from (COPY --from, RUN --mount from=). */
  readonly stageRefs: readonly number[];
}

/** A stage with its base resolved and its instructions expanded. */
export interface ResolvedStage {
  /** 0-based position in the file. */
  readonly index: number;
  /** Name after AS, lower-cased. */
  readonly name?: string;
  /** The FROM line, expanded with the global ARGs. */
  readonly from: FromInstruction;
  /** What it builds on. */
  readonly base: StageBase;
  /** Steps, in order. */
  readonly steps: readonly ResolvedStep[];
  /** Every stage this one needs (its base stage and every --from), without duplicates. */
  readonly deps: readonly number[];
  /** False when the base image's ENV is unknown (so undefined-variable checks are skipped). */
  readonly envKnown: boolean;
  /** ENV state at the end of the stage. */
  readonly finalEnv: readonly (readonly [string, string])[];
}

/** A variable reference that resolved to nothing (for the UndefinedVar and UndefinedArgInFrom checks). */
export interface UndefinedVariable {
  /** Variable name. */
  readonly name: string;
  /** The instruction's range. */
  readonly range: SourceRange;
  /** True for a FROM line (global scope). */
  readonly inFrom: boolean;
  /** The closest name in scope. */
  readonly suggestion?: string;
}

/** The outcome of {@link resolveDockerfile}. */
export interface ResolvedDockerfile {
  /** Every stage, resolved (stages the target does not need included, for checks). */
  readonly stages: readonly ResolvedStage[];
  /** Index of the target stage. */
  readonly target: number;
  /** The stages the target needs, dependencies first, the target last. */
  readonly needed: readonly number[];
  /** Global ARG values (after --build-arg), undefined when declared without value. */
  readonly metaArgs: ReadonlyMap<string, string | undefined>;
  /** `--build-arg` names no needed stage declares (Docker warns about them). */
  readonly unusedBuildArgs: readonly string[];
  /** References to variables that were not defined. */
  readonly undefinedVariables: readonly UndefinedVariable[];
  /** Errors and warnings found while resolving. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Resolves parsed stages for a build, with BuildKit's semantics: global
 * ARGs (overridden by --build-arg) and the automatic platform ARGs expand
 * FROM lines; each stage starts from its base stage's variables or the base
 * image's ENV; ARG declarations bring values into scope; ENV shadows ARG;
 * every variable of an instruction expands against the state *before* it
 * (so `ENV a=1 b=$a` uses the old `a`); COPY --from and RUN --mount from=
 * resolve to stages by name or index.
 */
export function resolveDockerfile(parsed: ParsedDockerfile, options: ResolveOptions = {}): ResolvedDockerfile {
  const diagnostics: Diagnostic[] = [];
  const undefinedVariables: UndefinedVariable[] = [];
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));
  const consumed = new Set<string>();
  const target = options.platform ?? hostPlatform();
  const build = options.buildPlatform ?? hostPlatform();
  const auto = platformArgs(target, build);

  // Global scope: automatic platform ARGs, then ARGs before the first FROM.
  const meta = new Map<string, string | undefined>(auto);
  for (const inst of parsed.metaArgs) {
    for (const decl of inst.args) {
      consumed.add(decl.key);
      if (buildArgs.has(decl.key)) {
        meta.set(decl.key, buildArgs.get(decl.key));
      } else if (decl.value !== undefined) {
        meta.set(decl.key, tryExpand(decl.value, (n) => meta.get(n), inst, diagnostics, parsed.escapeChar).value);
      } else if (!meta.has(decl.key)) {
        meta.set(decl.key, undefined);
      }
    }
  }

  // FROM lines expand against the global scope only.
  const froms = parsed.stages.map((stage) => expandFrom(stage, meta, diagnostics, undefinedVariables, parsed.escapeChar));
  const bases: StageBase[] = froms.map((from, i) => {
    if (from.image.toLowerCase() === "scratch") return { kind: "scratch" };
    const ref = stageReference(from.image, parsed.stages, i);
    if (ref !== undefined) return { kind: "stage", stage: ref };
    warnIfCloseToStage(from.image, parsed.stages, from, diagnostics);
    return { kind: "image", ref: from.image };
  });

  const resolved: (ResolvedStage | undefined)[] = new Array(parsed.stages.length);
  // ARGs in scope at the end of each stage: a stage built FROM it inherits them.
  const finalArgs = new Map<number, Scope["args"]>();
  const visiting = new Set<number>();
  const resolveStage = (i: number): ResolvedStage | undefined => {
    if (resolved[i]) return resolved[i];
    const stage = parsed.stages[i]!;
    if (visiting.has(i)) {
      diagnostics.push({ severity: "error", code: "DF_STAGE", message: `circular dependency detected on stage: ${stage.name ?? i}`, range: stage.from.range });
      return undefined;
    }
    visiting.add(i);
    const base = bases[i]!;
    let scope: Scope;
    let envKnown = true;
    if (base.kind === "stage") {
      const parent = resolveStage(base.stage);
      scope = parent ? new Scope(parent.finalEnv, finalArgs.get(base.stage)) : new Scope();
      envKnown = parent?.envKnown ?? false;
    } else if (base.kind === "image") {
      const env = options.imageEnv?.(base.ref);
      envKnown = env !== undefined;
      scope = new Scope(Scope.parseEnvList(env ?? []));
    } else {
      scope = new Scope();
    }
    // BuildKit gives every stage whose base sets no PATH the default one (a
    // stage FROM a stage already has it from that stage).
    if (base.kind !== "stage" && envKnown && !scope.env.has("PATH")) scope.env.set("PATH", DEFAULT_PATH);
    const ctx: StageContext = {
      stage,
      stages: parsed.stages,
      scope,
      meta,
      buildArgs,
      consumed,
      diagnostics,
      undefinedVariables,
      envKnown,
      escapeChar: parsed.escapeChar,
    };
    // BuildKit runs the ONBUILD triggers of a stage's base, image or earlier
    // stage alike: a stage's config carries its own ONBUILD expressions, and
    // the stage built FROM it dispatches them first (dockerfile2llb's
    // dispatchOnBuildTriggers on the base's cloned image config).
    const inherited =
      base.kind === "image" ? (options.imageOnBuild?.(base.ref) ?? []) : base.kind === "stage" ? stageOnBuild(parsed.stages[base.stage]!) : [];
    const triggers = onbuildTriggers(inherited, base.kind === "stage" ? "base stage" : "base image", stage, parsed.escapeChar, diagnostics);
    const steps = [...triggers, ...stage.instructions].map((inst) => resolveStep(inst, ctx));
    const deps = [...new Set([...(base.kind === "stage" ? [base.stage] : []), ...steps.flatMap((s) => s.stageRefs)])];
    const result: ResolvedStage = {
      index: i,
      ...(stage.name ? { name: stage.name } : {}),
      from: froms[i]!,
      base,
      steps,
      deps,
      envKnown,
      finalEnv: [...scope.env],
    };
    visiting.delete(i);
    resolved[i] = result;
    finalArgs.set(i, scope.args);
    return result;
  };
  for (let i = 0; i < parsed.stages.length; i++) resolveStage(i);
  const stages = resolved.filter((s): s is ResolvedStage => s !== undefined);

  let targetIndex = parsed.stages.length - 1;
  let needed: number[] = [];
  try {
    targetIndex = resolveTarget(options.target, parsed.stages);
    needed = topologicalNeeds(targetIndex, stages);
  } catch (err) {
    if (err instanceof BuildError) diagnostics.push({ severity: "error", code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    else throw err;
  }
  const unusedBuildArgs = [...buildArgs.keys()].filter((k) => !consumed.has(k) && !PROXY_ARGS.has(k) && !isBuilderArg(k)).sort();
  return { stages, target: targetIndex, needed, metaArgs: meta, unusedBuildArgs, undefinedVariables, diagnostics };
}

/** Everything resolving one stage's instructions needs. */
interface StageContext {
  readonly stage: Stage;
  readonly stages: readonly Stage[];
  readonly scope: Scope;
  readonly meta: ReadonlyMap<string, string | undefined>;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly consumed: Set<string>;
  readonly diagnostics: Diagnostic[];
  readonly undefinedVariables: UndefinedVariable[];
  readonly envKnown: boolean;
  readonly escapeChar: "\\" | "`";
}

function tryExpand(
  word: string,
  lookup: (name: string) => string | undefined,
  inst: Instruction,
  diagnostics: Diagnostic[],
  escapeChar: "\\" | "`",
  unmatched?: Set<string>,
): { value: string } {
  try {
    const r = expandWord(word, { escapeChar, lookup });
    if (unmatched) for (const n of r.unmatched) unmatched.add(n);
    return { value: r.value };
  } catch (err) {
    diagnostics.push(toDiagnostic(err, inst.node));
    return { value: word };
  }
}

function expandFrom(
  stage: Stage,
  meta: ReadonlyMap<string, string | undefined>,
  diagnostics: Diagnostic[],
  undefinedVariables: UndefinedVariable[],
  escapeChar: "\\" | "`",
): FromInstruction {
  const from = stage.from;
  const unmatched = new Set<string>();
  const lookup = (n: string): string | undefined => meta.get(n);
  const image = tryExpand(from.image, lookup, from, diagnostics, escapeChar, unmatched).value;
  const platform = from.platform === undefined ? undefined : tryExpand(from.platform, lookup, from, diagnostics, escapeChar, unmatched).value;
  for (const name of unmatched) {
    if (meta.has(name)) continue;
    const s = suggest(name, meta.keys());
    undefinedVariables.push({ name, range: from.range, inFrom: true, ...(s ? { suggestion: s } : {}) });
  }
  if (image === "") {
    diagnostics.push({ severity: "error", code: "DF_ARGS", message: `base name (${from.image}) should not be blank`, range: from.range });
  }
  return { ...from, image, ...(platform !== undefined ? { platform } : {}) };
}

/** Expands one instruction of a stage and updates the scope. */
function resolveStep(inst: Instruction, ctx: StageContext): ResolvedStep {
  const { scope } = ctx;
  const before = { env: [...scope.env] as [string, string][], args: [...scope.args] as [string, string | undefined][] };
  const unmatched = new Set<string>();
  const x = (word: string): string => tryExpand(word, (n) => scope.lookup(n), inst, ctx.diagnostics, ctx.escapeChar, unmatched).value;
  const stageRefs: number[] = [];
  let out: Instruction = inst;
  switch (inst.kind) {
    case "env": {
      const pairs = expandPairs(inst.pairs, x);
      for (const p of pairs) scope.env.set(p.key, p.value);
      out = { ...inst, pairs };
      break;
    }
    case "label":
      out = { ...inst, pairs: expandPairs(inst.pairs, x) };
      break;
    case "arg":
      out = resolveArg(inst, ctx, x);
      break;
    case "workdir":
      out = { ...inst, path: x(inst.path) };
      break;
    case "user":
      out = { ...inst, user: x(inst.user) };
      break;
    case "stopsignal":
      out = { ...inst, signal: x(inst.signal) };
      break;
    case "expose":
      out = { ...inst, ports: inst.ports.map(x) };
      break;
    case "volume":
      out = { ...inst, paths: inst.paths.map(x) };
      break;
    case "copy":
    case "add":
      out = resolveCopy(inst, ctx, x, stageRefs);
      break;
    case "run":
      out = resolveRun(inst, ctx, x, stageRefs);
      break;
    case "from":
    case "cmd":
    case "entrypoint":
    case "shell":
    case "healthcheck":
    case "maintainer":
    case "onbuild":
      // Not expanded by the builder: the container's shell or a child build does it.
      break;
    default: {
      const never: never = inst;
      throw new Error(`unhandled instruction ${(never as Instruction).kind}`);
    }
  }
  if (ctx.envKnown) {
    for (const name of unmatched) {
      if (scope.isDeclared(name) || before.args.some(([k]) => k === name)) continue;
      const s = suggest(name, scope.names());
      ctx.undefinedVariables.push({ name, range: inst.range, inFrom: false, ...(s ? { suggestion: s } : {}) });
    }
  }
  return { instruction: out, env: before.env, args: before.args, stageRefs };
}

function expandPairs(pairs: readonly KeyValue[], x: (w: string) => string): KeyValue[] {
  // Every pair expands against the state before the instruction (BuildKit's "one value per variable").
  return pairs.map((p) => ({ ...p, key: x(p.key), value: x(p.value) }));
}

/** BuildKit's `dispatchArg`: build-arg value, else default, else the global value. */
function resolveArg(inst: ArgInstruction, ctx: StageContext, x: (w: string) => string): ArgInstruction {
  const args = inst.args.map((decl) => {
    ctx.consumed.add(decl.key);
    let value: string | undefined;
    if (ctx.buildArgs.has(decl.key)) value = ctx.buildArgs.get(decl.key);
    else if (decl.value !== undefined) value = x(decl.value);
    else if (ctx.meta.has(decl.key)) value = ctx.meta.get(decl.key);
    ctx.scope.args.set(decl.key, value);
    return value === undefined ? { key: decl.key } : { key: decl.key, value };
  });
  return { ...inst, args };
}

function resolveCopy(inst: CopyInstruction, ctx: StageContext, x: (w: string) => string, stageRefs: number[]): CopyInstruction {
  const from = inst.from === undefined ? undefined : x(inst.from);
  if (from !== undefined) {
    const ref = resolveFromFlag(from, inst, ctx);
    if (ref !== undefined) stageRefs.push(ref);
  }
  const chmod = inst.chmod === undefined ? undefined : x(inst.chmod);
  if (chmod !== undefined && !OCTAL_MODE_RE.test(chmod) && !SYMBOLIC_MODE_RE.test(chmod)) {
    ctx.diagnostics.push({ severity: "error", code: "DF_FLAG", message: `invalid --chmod value "${chmod}" for ${inst.node.keyword}`, range: inst.range });
  }
  const checksum = inst.checksum === undefined ? undefined : x(inst.checksum);
  return {
    ...inst,
    sources: inst.sources.map(x),
    dest: x(inst.dest),
    // Heredoc files expand variables unless their delimiter was quoted; quotes in the body are plain text.
    inline: inst.inline.map((s) => (s.quoted ? s : { ...s, content: expandRaw(s.content, ctx, inst) })),
    excludes: inst.excludes.map(x),
    ...(from !== undefined ? { from } : {}),
    ...(inst.chown !== undefined ? { chown: x(inst.chown) } : {}),
    ...(chmod !== undefined ? { chmod } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
  };
}

function expandRaw(text: string, ctx: StageContext, inst: Instruction): string {
  try {
    // BuildKit's ExpandRaw: always `\` as escape, quotes are plain text.
    return expandWord(text, { escapeChar: "\\", lookup: (n) => ctx.scope.lookup(n), skipProcessQuotes: true }).value;
  } catch (err) {
    ctx.diagnostics.push(toDiagnostic(err, inst.node));
    return text;
  }
}

function resolveRun(inst: RunInstruction, ctx: StageContext, x: (w: string) => string, stageRefs: number[]): RunInstruction {
  if (inst.mounts.length === 0) return inst;
  let ssh = 0;
  const mounts = inst.node.flags
    .filter((f) => f.name === "mount" && f.value !== undefined)
    .map((f) => {
      try {
        const m = parseMount(f.value!, x, /type=ssh/i.test(f.value!) ? ssh++ : 0);
        if (m.from !== undefined) {
          const ref = resolveFromFlag(m.from, inst, ctx);
          if (ref !== undefined) stageRefs.push(ref);
        }
        return m;
      } catch (err) {
        ctx.diagnostics.push({ ...toDiagnostic(err, inst.node), range: f.range });
        return undefined;
      }
    })
    .filter((m) => m !== undefined);
  return { ...inst, mounts };
}

/**
 * Resolves a `--from` value: a stage name or index gives that stage; a
 * number past the known stages is an error; anything else is an image. A
 * name close to a stage name is probably a typo: warn with a suggestion.
 */
function resolveFromFlag(from: string, inst: Instruction, ctx: StageContext): number | undefined {
  if (/^\d+$/.test(from)) {
    const index = Number(from);
    if (index >= ctx.stage.index) {
      ctx.diagnostics.push({
        severity: "error",
        code: "DF_STAGE",
        message: `invalid from flag value ${from}: refers to current build stage or a later one`,
        range: inst.range,
        hint: `stage indexes count from 0; this stage is number ${ctx.stage.index}`,
      });
      return undefined;
    }
    return index;
  }
  const ref = stageReference(from, ctx.stages, ctx.stage.index);
  if (ref !== undefined) {
    if (ref === ctx.stage.index) {
      ctx.diagnostics.push({ severity: "error", code: "DF_STAGE", message: `stage "${from}" cannot copy from itself`, range: inst.range });
      return undefined;
    }
    return ref;
  }
  warnIfCloseToStage(from, ctx.stages, inst, ctx.diagnostics);
  return undefined;
}

/** A FROM or --from value that is not a stage but close to a stage name is probably a typo: warn. */
function warnIfCloseToStage(name: string, stages: readonly Stage[], inst: Instruction, diagnostics: Diagnostic[]): void {
  if (name.includes("/") || name.includes(":")) return;
  const names = stages.map((s) => s.name).filter((n): n is string => n !== undefined);
  const close = suggest(name.toLowerCase(), names);
  if (!close) return;
  diagnostics.push({
    severity: "warning",
    code: "DF_STAGE",
    message: `"${name}" is not a stage name, so it is used as an image reference`,
    range: inst.range,
    hint: `did you mean stage "${close}"?`,
  });
}

/** The expressions of a stage's own ONBUILD instructions, in order: what its image config's `OnBuild` holds. */
function stageOnBuild(stage: Stage): string[] {
  return stage.instructions.flatMap((inst) => (inst.kind === "onbuild" ? [inst.expression] : []));
}

/**
 * Parses a base image's (or base stage's) ONBUILD triggers into instructions of the child
 * stage, located at its FROM line (that is where Docker reports them).
 */
function onbuildTriggers(triggers: readonly string[], of: string, stage: Stage, escapeChar: "\\" | "`", diagnostics: Diagnostic[]): Instruction[] {
  const out: Instruction[] = [];
  for (const text of triggers) {
    const prefix = escapeChar === "`" ? "# escape=`\n" : "";
    const { ast, diagnostics: syntax } = parseDockerfile(prefix + text);
    const node = ast.instructions[0];
    if (!node || syntax.some((d) => d.severity === "error")) {
      diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: `invalid ONBUILD trigger of the ${of}: ${text}`, range: stage.from.range });
      continue;
    }
    try {
      out.push(convertInstruction({ ...node, range: stage.from.range, keywordRange: stage.from.range, argsRange: stage.from.range }));
    } catch (err) {
      diagnostics.push({ ...toDiagnostic(err, stage.from.node), message: `ONBUILD trigger of the ${of}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return out;
}
