import { BuildError } from "../diagnostics/build-error.js";
import type { InstructionNode } from "../syntax/ast.js";
import { badArgs } from "./errors.js";
import type { FlagValues } from "./flags.js";
import type { FromInstruction } from "./types.js";

/** BuildKit's rule for stage names (checked lower-cased). */
export const STAGE_NAME_RE = /^[a-z][a-z0-9-_.]*$/;

/** `FROM [--platform=P] image [AS name]`: one or three arguments. */
export function convertFrom(node: InstructionNode, flags: FlagValues): FromInstruction {
  const args = node.args;
  const platform = flags.string("platform");
  const base = { kind: "from" as const, range: node.range, node, ...(platform !== undefined ? { platform } : {}) };
  if (args.length === 1) return { ...base, image: args[0]! };
  if (args.length === 3 && args[1]!.toLowerCase() === "as") {
    const name = args[2]!.toLowerCase();
    if (!STAGE_NAME_RE.test(name)) {
      throw new BuildError("DF_ARGS", `invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`, {
        locations: [node.argsRange],
        hint: "stage names start with a letter and use letters, digits, '-', '_' and '.'",
      });
    }
    return { ...base, image: args[0]!, stageName: name, stageNameRange: node.argsRange };
  }
  throw badArgs(node, "FROM requires either one or three arguments", "write FROM image or FROM image AS name");
}
