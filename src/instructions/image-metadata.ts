import { BuildError, withLocation } from "../diagnostics/build-error.js";
import type { InstructionNode } from "../syntax/ast.js";
import { parseGoDuration } from "./duration.js";
import { atLeastOne, badArgs, exactlyOne } from "./errors.js";
import type { FlagValues } from "./flags.js";
import { commandLine } from "./run.js";
import type {
  CmdInstruction,
  EntrypointInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  MaintainerInstruction,
  ShellInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "./types.js";

/** `CMD`: exec or shell form; `CMD []` clears the command. */
export function convertCmd(node: InstructionNode): CmdInstruction {
  return { kind: "cmd", range: node.range, node, command: commandLine(node) };
}

/** `ENTRYPOINT`: exec or shell form. */
export function convertEntrypoint(node: InstructionNode): EntrypointInstruction {
  return { kind: "entrypoint", range: node.range, node, command: commandLine(node) };
}

/** `EXPOSE port[/proto] ...`. */
export function convertExpose(node: InstructionNode): ExposeInstruction {
  if (node.args.length === 0) throw atLeastOne(node);
  return { kind: "expose", range: node.range, node, ports: node.args };
}

/** `VOLUME path ...` or `VOLUME ["path", ...]`. */
export function convertVolume(node: InstructionNode): VolumeInstruction {
  if (node.args.length === 0) throw atLeastOne(node);
  for (const p of node.args) if (p.trim() === "") throw badArgs(node, "VOLUME specified can not be an empty string");
  return { kind: "volume", range: node.range, node, paths: node.args };
}

function single(node: InstructionNode): string {
  if (node.args.length !== 1) throw exactlyOne(node);
  return node.args[0]!;
}

/** `USER user[:group]`. */
export function convertUser(node: InstructionNode): UserInstruction {
  return { kind: "user", range: node.range, node, user: single(node) };
}

/** `WORKDIR path`. */
export function convertWorkdir(node: InstructionNode): WorkdirInstruction {
  return { kind: "workdir", range: node.range, node, path: single(node) };
}

/** `STOPSIGNAL signal`. */
export function convertStopsignal(node: InstructionNode): StopsignalInstruction {
  return { kind: "stopsignal", range: node.range, node, signal: single(node) };
}

/** `MAINTAINER name` (deprecated in favour of a label). */
export function convertMaintainer(node: InstructionNode): MaintainerInstruction {
  return { kind: "maintainer", range: node.range, node, maintainer: single(node) };
}

/** `SHELL ["executable", "parameters"]`: only the JSON form is allowed. */
export function convertShell(node: InstructionNode): ShellInstruction {
  if (!node.json) {
    throw badArgs(node, "SHELL requires the arguments to be in JSON form", 'write SHELL ["/bin/sh", "-c"]');
  }
  if (node.args.length === 0) throw atLeastOne(node);
  return { kind: "shell", range: node.range, node, shell: node.args };
}

/** `HEALTHCHECK [flags] CMD command` or `HEALTHCHECK NONE`. */
export function convertHealthcheck(node: InstructionNode, flags: FlagValues): HealthcheckInstruction {
  if (node.args.length === 0) throw atLeastOne(node);
  const type = node.args[0]!.toUpperCase();
  const base = { kind: "healthcheck" as const, range: node.range, node };
  if (type === "NONE") {
    if (node.args.length > 1) throw badArgs(node, "HEALTHCHECK NONE takes no arguments");
    return { ...base, test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  if (type !== "CMD") {
    throw badArgs(node, `Unknown type "${node.args[0]}" in HEALTHCHECK (try CMD)`);
  }
  const cmd = node.args.slice(1);
  if (cmd.length === 0) throw badArgs(node, "Missing command after HEALTHCHECK CMD");
  const test = node.json ? ["CMD", ...cmd] : ["CMD-SHELL", cmd[0]!];
  const duration = (name: string): number => {
    const text = flags.string(name);
    if (text === undefined) return 0;
    try {
      const ns = parseGoDuration(text);
      // BuildKit: zero means "inherit the default"; anything else must be at least 1ms.
      if (ns !== 0 && ns < 1e6) throw new BuildError("DF_FLAG", `Interval "${name}" cannot be less than 1ms`);
      return ns;
    } catch (err) {
      throw withLocation(err, flags.node(name)!.range);
    }
  };
  const retriesText = flags.string("retries");
  let retries = 0;
  if (retriesText !== undefined) {
    if (!/^[+-]?\d+$/.test(retriesText)) {
      throw new BuildError("DF_FLAG", `invalid --retries value "${retriesText}"`, { locations: [flags.node("retries")!.range] });
    }
    retries = Number.parseInt(retriesText, 10);
    if (retries < 0) throw new BuildError("DF_FLAG", `--retries cannot be negative (${retries})`, { locations: [flags.node("retries")!.range] });
  }
  return {
    ...base,
    test,
    interval: duration("interval"),
    timeout: duration("timeout"),
    startPeriod: duration("start-period"),
    startInterval: duration("start-interval"),
    retries,
  };
}
