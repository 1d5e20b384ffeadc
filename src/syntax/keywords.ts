/**
 * The Dockerfile instructions, upper-case, as BuildKit's `command` package
 * lists them. The single place that names them.
 */
export const INSTRUCTION_KEYWORDS = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
] as const;

/** One Dockerfile instruction keyword. */
export type InstructionKeyword = (typeof INSTRUCTION_KEYWORDS)[number];

const KEYWORD_SET: ReadonlySet<string> = new Set(INSTRUCTION_KEYWORDS);

/** True when `upper` (already upper-cased) is an instruction keyword. */
export function isInstructionKeyword(upper: string): upper is InstructionKeyword {
  return KEYWORD_SET.has(upper);
}

/** Instructions whose arguments may start heredocs (BuildKit `heredocDirectives`). */
export const HEREDOC_KEYWORDS: ReadonlySet<string> = new Set(["ADD", "COPY", "RUN"]);

const BY_LOWER: ReadonlyMap<string, InstructionKeyword> = new Map(INSTRUCTION_KEYWORDS.map((k) => [k.toLowerCase(), k]));

/**
 * The instruction a keyword names, as BuildKit's dispatch finds it: the
 * keyword lower-cased the Go way (`goToLower`) must be an instruction's
 * name. (Upper-casing instead would accept `ſHELL`, whose JavaScript upper
 * case is `SHELL`; Go lower-cases `WORKDIR` written with a Kelvin sign to
 * `workdir`.)
 */
export function instructionForLower(lower: string): InstructionKeyword | undefined {
  return BY_LOWER.get(lower);
}
