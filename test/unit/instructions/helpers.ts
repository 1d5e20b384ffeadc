import { parseInstructions, type ParsedDockerfile } from "../../../src/instructions/parse.js";
import { resolveDockerfile, type ResolveOptions, type ResolvedDockerfile } from "../../../src/instructions/resolve.js";
import { parseDockerfile } from "../../../src/syntax/parse.js";

/** Parses and types a Dockerfile given as lines; fails the test on syntax errors. */
export function typed(...lines: string[]): ParsedDockerfile {
  const { ast, diagnostics } = parseDockerfile(lines.join("\n") + "\n");
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`syntax errors: ${errors.map((e) => e.message).join("; ")}`);
  return parseInstructions(ast);
}

/** Parses, types and resolves a Dockerfile given as lines. */
export function resolved(options: ResolveOptions, ...lines: string[]): ResolvedDockerfile {
  return resolveDockerfile(typed(...lines), options);
}

/** The error messages of a typed or resolved result. */
export function errors(r: { diagnostics: readonly { severity: string; message: string }[] }): string[] {
  return r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
}
