import type { ParseArgsConfig } from "node:util";

/** Where a command writes and what environment it sees; tests pass their own. */
export interface CliIo {
  /** Writes to standard output. */
  readonly out: (text: string) => void;
  /** Writes to standard error. */
  readonly err: (text: string) => void;
  /** True when standard error is a terminal (live progress allowed). */
  readonly isTTY: boolean;
  /** Environment variables. */
  readonly env: NodeJS.ProcessEnv;
  /** Working directory against which relative paths resolve. */
  readonly cwd: string;
  /** Reads all of standard input (for `-f -`, `--password-stdin`). */
  readonly readStdin: () => Promise<Buffer>;
  /** Aborted on Ctrl-C / SIGTERM. */
  readonly signal: AbortSignal;
}

/** The option table of a command, in `node:util` `parseArgs` terms. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/** Parsed argv of a command: option values by long name, then positionals. */
export interface ParsedArgs {
  /** Option values by long name (string, boolean, or string[] for repeatable options). */
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments. */
  readonly positionals: readonly string[];
}

/** One `tsbuild <name>` subcommand. Each lives in its own file under `commands/`. */
export interface Command {
  /** The subcommand word. */
  readonly name: string;
  /** One line for `tsbuild --help`. */
  readonly summary: string;
  /** Usage line, e.g. `tsbuild parse [OPTIONS] [PATH]`. */
  readonly usage: string;
  /** Options, with a description per option for `--help`. */
  readonly options: CommandOptions;
  /** Help text per option name. */
  readonly help: Readonly<Record<string, string>>;
  /** Runs the command and returns its exit status; throws BuildError for failures. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}
