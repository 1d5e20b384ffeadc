import { BuildError } from "../diagnostics/build-error.js";
import type { InstructionNode } from "../syntax/ast.js";

/** BuildKit's `errAtLeastOneArgument`, located at the instruction. */
export function atLeastOne(node: InstructionNode): BuildError {
  return new BuildError("DF_ARGS", `${node.keyword} requires at least one argument`, { locations: [node.range] });
}

/** BuildKit's `errExactlyOneArgument`, located at the instruction. */
export function exactlyOne(node: InstructionNode): BuildError {
  return new BuildError("DF_ARGS", `${node.keyword} requires exactly one argument`, { locations: [node.range] });
}

/** An argument error located at the instruction's arguments. */
export function badArgs(node: InstructionNode, message: string, hint?: string): BuildError {
  return new BuildError("DF_ARGS", message, { locations: [node.argsRange], ...(hint ? { hint } : {}) });
}
