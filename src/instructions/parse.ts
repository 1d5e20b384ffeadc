import { BuildError, withLocation } from "../diagnostics/build-error.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DockerfileAst, InstructionNode } from "../syntax/ast.js";
import { isInstructionKeyword } from "../syntax/keywords.js";
import { convertCopy } from "./copy-add.js";
import { convertArg, convertEnv, convertLabel } from "./env-arg-label.js";
import { parseFlags } from "./flags.js";
import { convertFrom } from "./from.js";
import {
  convertCmd,
  convertEntrypoint,
  convertExpose,
  convertHealthcheck,
  convertMaintainer,
  convertShell,
  convertStopsignal,
  convertUser,
  convertVolume,
  convertWorkdir,
} from "./image-metadata.js";
import { convertRun } from "./run.js";
import type { ArgInstruction, Instruction, OnbuildInstruction, Stage } from "./types.js";

/** Typed instructions grouped in stages, before any variable is expanded. */
export interface ParsedDockerfile {
  /** The file's escape character (variable expansion needs it). */
  readonly escapeChar: "\\" | "`";
  /** ARG instructions before the first FROM (global scope). */
  readonly metaArgs: readonly ArgInstruction[];
  /** Stages in file order. */
  readonly stages: readonly Stage[];
  /** Errors found while typing instructions (unknown flags, bad arguments...). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Turns one AST node into a typed instruction; throws located BuildErrors. */
export function convertInstruction(node: InstructionNode): Instruction {
  try {
    return convert(node);
  } catch (err) {
    if (err instanceof BuildError && err.locations.length > 0) throw err;
    throw withLocation(err, node.range);
  }
}

function convert(node: InstructionNode): Instruction {
  const flags = parseFlags(node);
  switch (node.keyword) {
    case "FROM":
      return convertFrom(node, flags);
    case "RUN":
      return convertRun(node, flags);
    case "CMD":
      return convertCmd(node);
    case "ENTRYPOINT":
      return convertEntrypoint(node);
    case "COPY":
      return convertCopy(node, flags, "copy");
    case "ADD":
      return convertCopy(node, flags, "add");
    case "ENV":
      return convertEnv(node);
    case "ARG":
      return convertArg(node);
    case "LABEL":
      return convertLabel(node);
    case "MAINTAINER":
      return convertMaintainer(node);
    case "EXPOSE":
      return convertExpose(node);
    case "VOLUME":
      return convertVolume(node);
    case "USER":
      return convertUser(node);
    case "WORKDIR":
      return convertWorkdir(node);
    case "STOPSIGNAL":
      return convertStopsignal(node);
    case "HEALTHCHECK":
      return convertHealthcheck(node, flags);
    case "SHELL":
      return convertShell(node);
    case "ONBUILD":
      return convertOnbuild(node);
    default:
      throw new BuildError("DF_UNKNOWN_INSTRUCTION", `unknown instruction: ${node.keywordText}`, { locations: [node.keywordRange] });
  }
}

/** `ONBUILD instruction`: any instruction but ONBUILD, FROM and MAINTAINER. */
function convertOnbuild(node: InstructionNode): OnbuildInstruction {
  const inner = node.onbuild;
  if (!inner) throw new BuildError("DF_ARGS", "ONBUILD requires at least one argument", { locations: [node.range] });
  if (inner.keyword === "ONBUILD") throw new BuildError("DF_ARGS", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", { locations: [node.range] });
  if (inner.keyword === "FROM" || inner.keyword === "MAINTAINER") {
    throw new BuildError("DF_ARGS", `${inner.keyword} isn't allowed as an ONBUILD trigger`, { locations: [node.range] });
  }
  const trigger = convert({ ...inner, heredocs: node.heredocs, range: node.range });
  // The image config stores the trigger as written, heredoc bodies appended (as BuildKit does).
  let expression = inner.original;
  for (const h of node.heredocs) expression += `\n${h.content}${h.name}`;
  return { kind: "onbuild", range: node.range, node, expression, trigger };
}

/**
 * Types every instruction of `ast` and groups them in stages, as BuildKit's
 * `instructions.Parse`: ARGs before the first FROM are global; any other
 * instruction before a FROM is an error. Every bad instruction is reported;
 * the others are kept so later checks still run.
 */
export function parseInstructions(ast: DockerfileAst): ParsedDockerfile {
  const diagnostics: Diagnostic[] = [];
  const metaArgs: ArgInstruction[] = [];
  const stages: { index: number; name?: string; from: Stage["from"]; instructions: Instruction[] }[] = [];
  for (const node of ast.instructions) {
    // Unknown keywords were reported by the parser already.
    if (node.keyword !== "ONBUILD" && !isInstructionKeyword(node.keyword)) continue;
    let inst: Instruction;
    try {
      inst = convertInstruction(node);
    } catch (err) {
      diagnostics.push(toDiagnostic(err, node));
      // A FROM that failed still opens a stage, so its instructions are not reported as orphans.
      if (node.keyword === "FROM") stages.push({ index: stages.length, from: placeholderFrom(node), instructions: [] });
      continue;
    }
    if (inst.kind === "from") {
      stages.push({ index: stages.length, ...(inst.stageName ? { name: inst.stageName } : {}), from: inst, instructions: [] });
    } else if (stages.length === 0) {
      if (inst.kind === "arg") {
        metaArgs.push(inst);
      } else {
        diagnostics.push({
          severity: "error",
          code: "DF_STRUCTURE",
          message: `no build stage in current context: ${node.keyword} must come after a FROM`,
          range: node.range,
          hint: "start the Dockerfile with FROM (only ARG may come before it)",
        });
      }
    } else {
      stages[stages.length - 1]!.instructions.push(inst);
    }
  }
  return {
    escapeChar: ast.escapeChar,
    metaArgs,
    stages: stages.map((s) => ({
      ...s,
      range: { start: s.from.range.start, end: (s.instructions[s.instructions.length - 1] ?? s.from).range.end },
    })),
    diagnostics,
  };
}

function placeholderFrom(node: InstructionNode): Stage["from"] {
  return { kind: "from", range: node.range, node, image: node.args[0] ?? "scratch" };
}

/** Converts a thrown error into a diagnostic located at its first location or the instruction. */
export function toDiagnostic(err: unknown, node: InstructionNode): Diagnostic {
  if (err instanceof BuildError) {
    return {
      severity: "error",
      code: err.code,
      message: err.message,
      range: err.locations[0] ?? node.range,
      ...(err.hint ? { hint: err.hint } : {}),
    };
  }
  return { severity: "error", code: "INTERNAL", message: err instanceof Error ? err.message : String(err), range: node.range };
}
