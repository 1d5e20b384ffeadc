export { parseDockerfile } from "./parse.js";
export { dumpSexp, dumpJson, dumpText } from "./dump.js";
export { INSTRUCTION_KEYWORDS, isInstructionKeyword, type InstructionKeyword } from "./keywords.js";
export type * from "./ast.js";
export { heredocMarker, type HeredocMarker } from "./heredoc.js";
