import type { DockerfileAst, InstructionNode } from "./ast.js";
import { goQuote, goToLower } from "./chars.js";

/**
 * Renders an AST as BuildKit's `Node.Dump()` does: one s-expression per
 * instruction, keyword lower-cased, flags as a quoted list, arguments
 * quoted with Go's rules; heredoc bodies are not shown. Byte-for-byte equal
 * to the `result` files of BuildKit's parser tests (plus a final newline).
 */
export function dumpSexp(ast: DockerfileAst): string {
  return ast.instructions.map((n) => `(${dumpNode(n)})\n`).join("");
}

function dumpNode(node: InstructionNode): string {
  let s = goToLower(node.keywordText);
  if (node.flags.length > 0) s += ` [${node.flags.map((f) => goQuote(f.text)).join(" ")}]`;
  if (node.onbuild) return `${s} (${dumpNode(node.onbuild)})`;
  for (const a of node.args) s += ` ${goQuote(a)}`;
  return s.trim();
}

/** The JSON form printed by `tsbuild parse --json`: every field of the AST except the source text. */
export function dumpJson(ast: DockerfileAst): unknown {
  return {
    file: ast.source.path,
    escapeChar: ast.escapeChar,
    directives: ast.directives,
    instructions: ast.instructions.map(jsonNode),
  };
}

function jsonNode(n: InstructionNode): unknown {
  return {
    keyword: n.keyword,
    flags: n.flags.map((f) => ({ name: f.name, value: f.value, range: f.range })),
    form: n.json ? "json" : "shell",
    args: n.args,
    ...(n.keyValues.length ? { keyValues: n.keyValues } : {}),
    ...(n.heredocs.length ? { heredocs: n.heredocs } : {}),
    ...(n.onbuild ? { onbuild: jsonNode(n.onbuild) } : {}),
    ...(n.comments.length ? { comments: n.comments } : {}),
    range: n.range,
  };
}

/**
 * A one-line-per-instruction text dump used by the golden fixtures: the
 * s-expression, the line range and form (plus `empty-continuation` when a
 * blank line sat inside the continuation), then each heredoc body quoted,
 * after its marker as written (`3<<-'EOF'`: file descriptor, chomp, quoted).
 */
export function dumpText(ast: DockerfileAst): string {
  const out: string[] = [];
  for (const d of ast.directives) out.push(`# ${d.name}=${d.value}  @${d.range.start.line}`);
  for (const n of ast.instructions) {
    const r = n.range;
    const form = n.json ? "json" : "shell";
    const empty = n.hasEmptyContinuation ? " empty-continuation" : "";
    out.push(`(${dumpNode(n)})  @${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column} ${form}${empty}`);
    for (const h of n.heredocs) {
      out.push(`  ${h.fd ?? ""}<<${h.chomp ? "-" : ""}${h.quoted ? `'${h.name}'` : h.name} ${goQuote(h.content)}`);
    }
  }
  return out.join("\n") + "\n";
}
