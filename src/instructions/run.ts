import { BuildError, withLocation } from "../diagnostics/build-error.js";
import type { InstructionNode } from "../syntax/ast.js";
import { atLeastOne } from "./errors.js";
import type { FlagValues } from "./flags.js";
import { parseMount } from "./run-mounts.js";
import type { CommandLine, RunInstruction, RunMount } from "./types.js";

/** The command of RUN/CMD/ENTRYPOINT: exec form when the arguments were a JSON array. */
export function commandLine(node: InstructionNode): CommandLine {
  return node.json ? { form: "exec", args: node.args } : { form: "shell", script: node.args[0] ?? "" };
}

/**
 * `RUN [--mount=...] [--network=...] [--security=...] command`. Mounts are
 * parsed here to reject malformed ones early; their values are expanded
 * again at resolve time.
 */
export function convertRun(node: InstructionNode, flags: FlagValues): RunInstruction {
  if (node.args.length === 0 && node.heredocs.length === 0 && !node.json) throw atLeastOne(node);
  const mountNode = flags.node("mount");
  let mounts: RunMount[];
  try {
    let ssh = 0;
    mounts = flags.strings("mount").map((m) => parseMount(m, undefined, /type=ssh/i.test(m) ? ssh++ : 0));
  } catch (err) {
    throw withLocation(err, mountNode?.range ?? node.range);
  }
  const network = flags.string("network");
  if (network !== undefined && network !== "default" && network !== "none" && network !== "host") {
    throw new BuildError("DF_FLAG", `unsupported network mode "${network}" for RUN`, {
      locations: [flags.node("network")!.range],
      hint: "use --network=default, none or host",
    });
  }
  const security = flags.string("security");
  if (security !== undefined && security !== "sandbox" && security !== "insecure") {
    throw new BuildError("DF_FLAG", `unsupported security mode "${security}" for RUN`, {
      locations: [flags.node("security")!.range],
      hint: "use --security=sandbox or insecure",
    });
  }
  return {
    kind: "run",
    range: node.range,
    node,
    command: commandLine(node),
    heredocs: node.heredocs,
    mounts,
    ...(network !== undefined ? { network } : {}),
    ...(security !== undefined ? { security } : {}),
  };
}
