/**
 * tsbuild's library surface. The CLI is built on exactly these functions.
 *
 * - Parse: {@link parseDockerfile} (text in, line AST and diagnostics out; never throws).
 * - Check: {@link checkDockerfile} (parse, typed instructions, stages, expansion, ARG scoping, build checks).
 * - Expand: {@link expandWord} and {@link expandWords} (BuildKit's shell-word expansion).
 */
export { parseDockerfile } from "./syntax/parse.js";
export { dumpJson, dumpSexp, dumpText } from "./syntax/dump.js";
export type * from "./syntax/ast.js";
export { expandWord, expandWords } from "./instructions/expand/index.js";
export type { ExpandOptions, ExpansionResult, WordsExpansionResult } from "./instructions/expand/index.js";
export { parseInstructions, type ParsedDockerfile } from "./instructions/parse.js";
export { resolveDockerfile } from "./instructions/resolve.js";
export type { ResolveOptions, ResolvedDockerfile, ResolvedStage, ResolvedStep, StageBase, UndefinedVariable } from "./instructions/resolve.js";
export type * from "./instructions/types.js";
export { hostPlatform, parsePlatform, formatPlatform, type PlatformSpec } from "./instructions/platform.js";
export { checkDockerfile, RULES, type CheckOptions, type CheckResult } from "./check/check.js";
export type { Rule, Finding } from "./check/rule.js";
export { parseDockerignore, IgnoreMatcher, loadDockerignore } from "./context/dockerignore.js";
export { BuildError, withLocation, ERROR_CODES, formatDiagnostic, formatCodeFrame } from "./diagnostics/index.js";
export type { Diagnostic, ErrorCode, SourceFile, SourceRange, SourcePosition } from "./diagnostics/index.js";
