import type { InstructionNode } from "../syntax/ast.js";
import { atLeastOne, badArgs } from "./errors.js";
import type { ArgDeclaration, ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from "./types.js";

function pairs(node: InstructionNode): KeyValue[] {
  if (node.keyValues.length === 0) throw atLeastOne(node);
  return node.keyValues.map((kv) => {
    if (kv.key === "") throw badArgs(node, `${node.keyword} names can not be blank`);
    return { key: kv.key, value: kv.value, legacy: kv.separator === "" };
  });
}

/** `ENV k=v ...` or legacy `ENV k v`. */
export function convertEnv(node: InstructionNode): EnvInstruction {
  return { kind: "env", range: node.range, node, pairs: pairs(node) };
}

/** `LABEL k=v ...`. */
export function convertLabel(node: InstructionNode): LabelInstruction {
  return { kind: "label", range: node.range, node, pairs: pairs(node) };
}

/** `ARG name[=default] ...`: the default keeps its quotes until expansion. */
export function convertArg(node: InstructionNode): ArgInstruction {
  if (node.args.length === 0) throw atLeastOne(node);
  const args: ArgDeclaration[] = node.args.map((word) => {
    const eq = word.indexOf("=");
    if (eq === 0) throw badArgs(node, "ARG names can not be blank");
    return eq < 0 ? { key: word } : { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
  return { kind: "arg", range: node.range, node, args };
}
