import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile, SourceRange } from "../diagnostics/source.js";

/**
 * The line AST of a Dockerfile, as BuildKit's parser produces it: one node
 * per instruction with its flags and arguments split the way that
 * instruction splits them, but nothing interpreted yet (no variable
 * expansion, no flag validation). `src/instructions/` turns it into typed
 * instructions.
 */
export interface DockerfileAst {
  /** The file this AST came from (its text is kept for error rendering). */
  readonly source: SourceFile;
  /** Parser directives found at the top of the file, in order. */
  readonly directives: readonly DirectiveNode[];
  /** The escape character in force: `\` by default, or `` ` `` via `# escape=`. */
  readonly escapeChar: "\\" | "`";
  /** Instructions in source order. */
  readonly instructions: readonly InstructionNode[];
}

/** A parser directive such as `# syntax=docker/dockerfile:1` or `# check=skip=all`. */
export interface DirectiveNode {
  /** Directive name, lower-cased (`syntax`, `escape`, `check`). */
  readonly name: string;
  /** Value, trimmed. */
  readonly value: string;
  /** The directive's line. */
  readonly range: SourceRange;
}

/** A `--name=value` (or bare `--name`) flag written before an instruction's arguments. */
export interface FlagNode {
  /** Flag name without dashes, as written (`mount`, `from`, `chown`). */
  readonly name: string;
  /** Value after `=`, with quotes and escapes removed; `undefined` for a bare `--name`. */
  readonly value: string | undefined;
  /** The flag word as BuildKit's dump prints it (quotes removed): `--mount=type=cache,target=/x`. */
  readonly text: string;
  /** Where the flag word is. */
  readonly range: SourceRange;
}

/** A heredoc body attached to an instruction (`RUN <<EOF ... EOF`). */
export interface HeredocNode {
  /** Delimiter word without quotes or dash (`EOF`). */
  readonly name: string;
  /** Body text, lines joined with `\n`, ending with `\n` when non-empty; leading tabs removed for `<<-`. */
  readonly content: string;
  /** True when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): the body is not expanded. */
  readonly quoted: boolean;
  /** True for `<<-`: leading tabs of each body line were stripped. */
  readonly chomp: boolean;
  /** File descriptor written before `<<` (`3<<EOF`); absent for the default (stdin). */
  readonly fd?: number;
  /** Range of the body and terminator lines. */
  readonly range: SourceRange;
}

/** A `key=value` (or legacy `key value`) pair of ENV and LABEL, as written (quotes kept). */
export interface KeyValueNode {
  /** Key as written. */
  readonly key: string;
  /** Value as written: quotes and escapes are kept, removed at expansion time. */
  readonly value: string;
  /** `=` for the `k=v` form, `""` for the legacy whitespace form. */
  readonly separator: "=" | "";
}

/**
 * One instruction. `args` holds the arguments split as BuildKit's parser
 * splits them for this keyword (see the README in
 * `shared/corpus/buildkit`): a JSON array gives one arg per element and
 * sets `json`; shell form gives one verbatim arg for RUN/CMD/ENTRYPOINT/SHELL,
 * whitespace-separated words for FROM/EXPOSE/COPY/ADD/VOLUME, shell words
 * with quotes kept for ARG, one arg for USER/WORKDIR/MAINTAINER/STOPSIGNAL.
 */
export interface InstructionNode {
  /** The keyword upper-cased (`RUN`), whatever its case in the source. */
  readonly keyword: string;
  /** The keyword as written (for casing checks). */
  readonly keywordText: string;
  /** Range of the keyword token. */
  readonly keywordRange: SourceRange;
  /** Leading `--flags`. */
  readonly flags: readonly FlagNode[];
  /** Arguments after the flags (see the type comment). */
  readonly args: readonly string[];
  /** True when the arguments came from a valid JSON string array (exec form). */
  readonly json: boolean;
  /** ENV and LABEL pairs; empty for other instructions. */
  readonly keyValues: readonly KeyValueNode[];
  /** Heredoc bodies, in the order their markers appear (RUN, COPY, ADD only). */
  readonly heredocs: readonly HeredocNode[];
  /** For ONBUILD: the wrapped instruction. */
  readonly onbuild?: InstructionNode;
  /** The logical line after folding continuations, keyword included, trimmed. */
  readonly original: string;
  /** The text after the keyword (flags included), continuations folded, trimmed. */
  readonly rest: string;
  /** Where the arguments (after the flags) are; an empty range at the line end when there are none. */
  readonly argsRange: SourceRange;
  /** Comment lines directly above the instruction, without `#`. */
  readonly comments: readonly string[];
  /** Every physical line the instruction spans, heredoc bodies included. */
  readonly range: SourceRange;
  /** True when a continuation line inside it was empty (BuildKit warns: NoEmptyContinuation). */
  readonly hasEmptyContinuation: boolean;
}

/** What {@link parseDockerfile} returns: never throws, problems are diagnostics. */
export interface ParseResult {
  /** The AST; present even when there are errors (with the lines that parsed). */
  readonly ast: DockerfileAst;
  /** Syntax errors and parse-time warnings, in source order. */
  readonly diagnostics: readonly Diagnostic[];
}
