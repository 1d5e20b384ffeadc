import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../diagnostics/source.js";
import { parseInstructions, type ParsedDockerfile } from "../instructions/parse.js";
import { resolveDockerfile, type ResolvedDockerfile, type ResolveOptions } from "../instructions/resolve.js";
import { expandWord } from "../instructions/expand/index.js";
import type { DockerfileAst } from "../syntax/ast.js";
import { parseDockerfile } from "../syntax/parse.js";
import { parseCheckConfig } from "./config.js";
import type { CheckInput, Rule } from "./rule.js";
import { COMMAND_RULES } from "./rules-commands.js";
import { CONTEXT_RULES } from "./rules-context.js";
import { STRUCTURE_RULES } from "./rules-structure.js";
import { VARIABLE_RULES } from "./rules-variables.js";

/** Every build check tsbuild implements, in BuildKit's names. */
export const RULES: readonly Rule[] = [...STRUCTURE_RULES, ...COMMAND_RULES, ...VARIABLE_RULES, ...CONTEXT_RULES];

/** Options of {@link checkDockerfile}: the build's options that change what the checks see. */
export interface CheckOptions extends ResolveOptions {
  /** Matcher of the context's `.dockerignore`, for CopyIgnoredFile. */
  readonly ignored?: (path: string) => boolean;
}

/** A Dockerfile parsed and typed: what does not depend on build args, target or base images. */
export interface TypedDockerfile {
  /** The line AST. */
  readonly ast: DockerfileAst;
  /** Syntax errors and warnings of the parse. */
  readonly syntaxDiagnostics: readonly Diagnostic[];
  /** Typed instructions in stages. */
  readonly parsed: ParsedDockerfile;
}

/** Everything the frontend learned about a Dockerfile. */
export interface CheckResult extends TypedDockerfile {
  /** Stages resolved for the given build args and target. */
  readonly resolved: ResolvedDockerfile;
  /** Every error and warning, in line order. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Runs the whole frontend on a Dockerfile: parse, type the instructions,
 * resolve ARGs, stages and the target, then the build checks (honouring
 * `# check=skip=...;error=true` and the BUILDKIT_DOCKERFILE_CHECK build
 * arg, which takes precedence as in BuildKit). Reads no files.
 */
export function checkDockerfile(source: SourceFile, options: CheckOptions = {}): CheckResult {
  const { ast, diagnostics: syntaxDiagnostics } = parseDockerfile(source);
  return checkTyped({ ast, syntaxDiagnostics, parsed: parseInstructions(ast) }, options);
}

/**
 * The resolution and checks of {@link checkDockerfile} on an already typed
 * Dockerfile: a build runs them again once its base images (and their ENV
 * and ONBUILD triggers) are known, without parsing the file again.
 */
export function checkTyped(typed: TypedDockerfile, options: CheckOptions = {}): CheckResult {
  const { ast, parsed } = typed;
  const resolved = resolveDockerfile(parsed, options);
  const diagnostics: Diagnostic[] = [...typed.syntaxDiagnostics, ...parsed.diagnostics, ...resolved.diagnostics];

  const directive = ast.directives.find((d) => d.name === "check");
  const config = parseCheckConfig(options.buildArgs?.["BUILDKIT_DOCKERFILE_CHECK"] ?? directive?.value);
  for (const problem of config.problems) {
    diagnostics.push({ severity: "warning", code: "DF_LINT", message: problem, ...(directive ? { range: directive.range } : {}) });
  }
  if (!config.skipAll) {
    const input: CheckInput = { ast, parsed, resolved, defaultMetaArgs: defaultMetaArgs(parsed), ...(options.ignored ? { ignored: options.ignored } : {}) };
    for (const rule of RULES) {
      if (config.skip.has(rule.name)) continue;
      for (const f of rule.check(input)) {
        diagnostics.push({ severity: config.error ? "error" : "warning", code: rule.name, message: f.message, range: f.range, url: rule.url });
      }
    }
  }
  if (resolved.unusedBuildArgs.length > 0) {
    diagnostics.push({
      severity: "warning",
      code: "UnusedBuildArg",
      message: `One or more build-args [${resolved.unusedBuildArgs.join(" ")}] were not consumed`,
    });
  }
  const syntaxDirective = ast.directives.find((d) => d.name === "syntax");
  if (syntaxDirective && !/^(docker\.io\/)?docker\/dockerfile(-upstream)?(:1(\.\d+)*(-labs)?)?(@sha256:[a-f0-9]{64})?$/.test(syntaxDirective.value.split(/\s/)[0]!)) {
    diagnostics.push({
      severity: "warning",
      code: "DF_SYNTAX",
      message: `# syntax=${syntaxDirective.value} names an external frontend; tsbuild uses its built-in Dockerfile frontend`,
      range: syntaxDirective.range,
    });
  }
  diagnostics.sort((a, b) => (a.range?.start.line ?? Infinity) - (b.range?.start.line ?? Infinity) || (a.range?.start.column ?? 0) - (b.range?.start.column ?? 0));
  return { ast, syntaxDiagnostics: typed.syntaxDiagnostics, parsed, resolved, diagnostics };
}

/** Global ARG defaults without --build-arg overrides (what InvalidDefaultArgInFrom judges). */
function defaultMetaArgs(parsed: ParsedDockerfile): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>();
  for (const inst of parsed.metaArgs) {
    for (const d of inst.args) {
      let v: string | undefined;
      try {
        v = d.value === undefined ? undefined : expandWord(d.value, { escapeChar: parsed.escapeChar, lookup: (n) => values.get(n) }).value;
      } catch {
        v = d.value;
      }
      values.set(d.key, v);
    }
  }
  return values;
}
