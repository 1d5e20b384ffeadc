export { BuildError, withLocation, isBuildError, type BuildErrorOptions } from "./build-error.js";
export { ERROR_CODES, type ErrorCode } from "./error-codes.js";
export type { Diagnostic, Severity } from "./diagnostic.js";
export { formatCodeFrame, formatDiagnostic, type CodeFrameOptions } from "./code-frame.js";
export { suggest, editDistance } from "./suggest.js";
export type { SourceFile, SourcePosition, SourceRange } from "./source.js";
