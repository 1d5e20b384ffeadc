import type { SourceRange } from "../diagnostics/source.js";
import type { HeredocNode, InstructionNode } from "../syntax/ast.js";

/**
 * Typed Dockerfile instructions: a discriminated union on `kind`, one
 * variant per instruction, as BuildKit's `instructions` package models them.
 *
 * The same types serve two states: as parsed (words as written, quotes and
 * `$VAR`s in place) and as resolved for a build (words expanded where
 * BuildKit expands them: ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
 * USER, VOLUME, WORKDIR, ARG defaults, and the flags of COPY/ADD/RUN).
 * RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK commands are never expanded by
 * the builder: the shell in the container does that.
 */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | CopyInstruction
  | EnvInstruction
  | ArgInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** The `kind` of an instruction. */
export type InstructionKind = Instruction["kind"];

/** What every instruction carries. */
export interface InstructionBase {
  /** Every line the instruction spans (heredoc bodies included). */
  readonly range: SourceRange;
  /** The line AST node it came from (flags, raw args, keyword casing). */
  readonly node: InstructionNode;
}

/** A command in exec form (`["a", "b"]`, run without a shell) or shell form (run through SHELL). */
export type CommandLine =
  | {
      /** Exec (JSON) form. */
      readonly form: "exec";
      /** argv. */
      readonly args: readonly string[];
    }
  | {
      /** Shell form: passed to the stage's SHELL as one argument. */
      readonly form: "shell";
      /** The command text, continuations folded. */
      readonly script: string;
    };

/** `FROM [--platform=P] image [AS name]`. */
export interface FromInstruction extends InstructionBase {
  readonly kind: "from";
  /** Base image reference or earlier stage name, as written or expanded. */
  readonly image: string;
  /** `--platform` value. */
  readonly platform?: string;
  /** Stage name after AS, lower-cased (BuildKit matches stage names case-insensitively). */
  readonly stageName?: string;
  /** Range of the stage name. */
  readonly stageNameRange?: SourceRange;
}

/** One `--mount` of RUN. */
export interface RunMount {
  /** Mount type. */
  readonly type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  /** Path in the container. */
  readonly target: string;
  /** Path in `from` (bind, cache) or secret/ssh source. */
  readonly source?: string;
  /** Stage name or index, or image, the bind/cache mount reads from; absent = build context (bind) or empty (cache). */
  readonly from?: string;
  /** Read-only: default true for bind, false for cache. */
  readonly readonly: boolean;
  /** Cache id (cache), secret id (secret), ssh id (ssh). */
  readonly id?: string;
  /** Cache sharing mode. */
  readonly sharing?: "shared" | "private" | "locked";
  /** File mode (octal) for cache dirs, secrets, ssh sockets. */
  readonly mode?: number;
  /** Owner uid. */
  readonly uid?: number;
  /** Owner gid. */
  readonly gid?: number;
  /** tmpfs size in bytes. */
  readonly size?: number;
  /** Secret/ssh: fail when not provided. */
  readonly required?: boolean;
  /** Secret exposed as this environment variable instead of a file. */
  readonly env?: string;
}

/** `RUN [--mount=...] [--network=...] [--security=...] command`. */
export interface RunInstruction extends InstructionBase {
  readonly kind: "run";
  /** The command. */
  readonly command: CommandLine;
  /** Heredoc bodies attached to the command. */
  readonly heredocs: readonly HeredocNode[];
  /** `--mount` flags, parsed (values expanded once resolved). */
  readonly mounts: readonly RunMount[];
  /** `--network`. */
  readonly network?: "default" | "none" | "host";
  /** `--security`. */
  readonly security?: "sandbox" | "insecure";
}

/** `CMD`. */
export interface CmdInstruction extends InstructionBase {
  readonly kind: "cmd";
  /** The default command. */
  readonly command: CommandLine;
}

/** `ENTRYPOINT`. */
export interface EntrypointInstruction extends InstructionBase {
  readonly kind: "entrypoint";
  /** The entrypoint. */
  readonly command: CommandLine;
}

/** A heredoc used as a COPY/ADD source: a file with inline content. */
export interface InlineSource {
  /** File name (the heredoc delimiter). */
  readonly name: string;
  /** File content (expanded unless the delimiter was quoted). */
  readonly content: string;
  /** True when the delimiter was quoted. */
  readonly quoted: boolean;
}

/** `COPY` and `ADD` (kind tells which). */
export interface CopyInstruction extends InstructionBase {
  readonly kind: "copy" | "add";
  /** Source paths, patterns or URLs (not including heredoc sources). */
  readonly sources: readonly string[];
  /** Heredoc sources. */
  readonly inline: readonly InlineSource[];
  /** Destination path. */
  readonly dest: string;
  /** `--from`: stage name, stage index or image (COPY only). */
  readonly from?: string;
  /** `--chown`. */
  readonly chown?: string;
  /** `--chmod`, octal or symbolic. */
  readonly chmod?: string;
  /** `--link`. */
  readonly link: boolean;
  /** `--parents` (COPY only). */
  readonly parents: boolean;
  /** `--exclude` patterns. */
  readonly excludes: readonly string[];
  /** `--keep-git-dir` (ADD only). */
  readonly keepGitDir: boolean;
  /** `--checksum` (ADD only). */
  readonly checksum?: string;
  /** `--unpack` (ADD only): undefined = default behaviour (local archives unpacked, URLs not). */
  readonly unpack?: boolean;
}

/** A `key=value` pair of ENV or LABEL. */
export interface KeyValue {
  /** Key (expanded once resolved). */
  readonly key: string;
  /** Value (quotes removed and expanded once resolved). */
  readonly value: string;
  /** True when written in the legacy `KEY value` form. */
  readonly legacy: boolean;
}

/** `ENV`. */
export interface EnvInstruction extends InstructionBase {
  readonly kind: "env";
  /** Variables set, in order. */
  readonly pairs: readonly KeyValue[];
}

/** One ARG declaration. */
export interface ArgDeclaration {
  /** Name. */
  readonly key: string;
  /** Default value as written (undefined = no default). */
  readonly value?: string;
}

/** `ARG name[=default] ...`. */
export interface ArgInstruction extends InstructionBase {
  readonly kind: "arg";
  /** Declarations, in order. */
  readonly args: readonly ArgDeclaration[];
}

/** `LABEL`. */
export interface LabelInstruction extends InstructionBase {
  readonly kind: "label";
  /** Labels, in order. */
  readonly pairs: readonly KeyValue[];
}

/** `MAINTAINER` (deprecated). */
export interface MaintainerInstruction extends InstructionBase {
  readonly kind: "maintainer";
  /** Author text. */
  readonly maintainer: string;
}

/** `EXPOSE port[/proto] ...`. */
export interface ExposeInstruction extends InstructionBase {
  readonly kind: "expose";
  /** Ports as written, e.g. `80`, `53/udp`, `8000-8010`. */
  readonly ports: readonly string[];
}

/** `VOLUME`. */
export interface VolumeInstruction extends InstructionBase {
  readonly kind: "volume";
  /** Mount points. */
  readonly paths: readonly string[];
}

/** `USER user[:group]`. */
export interface UserInstruction extends InstructionBase {
  readonly kind: "user";
  /** User spec. */
  readonly user: string;
}

/** `WORKDIR`. */
export interface WorkdirInstruction extends InstructionBase {
  readonly kind: "workdir";
  /** Path (relative paths resolve against the previous WORKDIR). */
  readonly path: string;
}

/** `ONBUILD instruction`. */
export interface OnbuildInstruction extends InstructionBase {
  readonly kind: "onbuild";
  /** The trigger as stored in the image config (the wrapped instruction's text). */
  readonly expression: string;
  /** The wrapped instruction, typed. */
  readonly trigger: Instruction;
}

/** `STOPSIGNAL`. */
export interface StopsignalInstruction extends InstructionBase {
  readonly kind: "stopsignal";
  /** Signal name or number. */
  readonly signal: string;
}

/** `HEALTHCHECK`. */
export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: "healthcheck";
  /** `["NONE"]`, `["CMD", ...argv]` or `["CMD-SHELL", script]`, as Docker stores it. */
  readonly test: readonly string[];
  /** Nanoseconds between checks (0 = default). */
  readonly interval: number;
  /** Nanoseconds before a check times out. */
  readonly timeout: number;
  /** Nanoseconds of start period. */
  readonly startPeriod: number;
  /** Nanoseconds between checks during the start period. */
  readonly startInterval: number;
  /** Failures before unhealthy (0 = default). */
  readonly retries: number;
}

/** `SHELL ["exe", "args"]`. */
export interface ShellInstruction extends InstructionBase {
  readonly kind: "shell";
  /** The new shell argv. */
  readonly shell: readonly string[];
}

/** A build stage: a FROM and the instructions up to the next FROM. */
export interface Stage {
  /** 0-based position in the file. */
  readonly index: number;
  /** Name after AS (lower-cased), if any. */
  readonly name?: string;
  /** The FROM instruction. */
  readonly from: FromInstruction;
  /** Instructions after FROM. */
  readonly instructions: readonly Instruction[];
  /** From the FROM line to the stage's last instruction. */
  readonly range: SourceRange;
}
