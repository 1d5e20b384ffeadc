/**
 * What the commands that work on the local store share: the `--root`
 * option, opening the store the way every command does, option accessors,
 * and binary standard streams for `save`/`load`.
 */
import { resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { BuildError } from "../diagnostics/build-error.js";
import { openStore, type LocalStore, type OpenStoreOptions } from "../store/store.js";
import type { CliIo, CommandOptions, ParsedArgs } from "./command.js";

/** The options every store command accepts; spread into a command's `options`. */
export const STORE_OPTIONS = {
  root: { type: "string" },
} as const satisfies CommandOptions;

/** Help for {@link STORE_OPTIONS}; spread into a command's `help`. */
export const STORE_OPTIONS_HELP: Readonly<Record<keyof typeof STORE_OPTIONS, string>> = {
  root: "Local image store directory (default: $TSBUILD_ROOT, else $XDG_DATA_HOME/tsbuild or ~/.local/share/tsbuild)",
};

/**
 * Opens the store `--root` (or `TSBUILD_ROOT`, or the XDG default) names.
 * Relative paths are resolved against the command's working directory.
 */
export function openCliStore(args: ParsedArgs, io: CliIo, options: Pick<OpenStoreOptions, "lease"> = {}): Promise<LocalStore> {
  const flag = stringOption(args, "root");
  const fromEnv = io.env["TSBUILD_ROOT"];
  const root = flag !== undefined && flag !== "" ? resolve(io.cwd, flag) : fromEnv !== undefined && fromEnv !== "" ? resolve(io.cwd, fromEnv) : undefined;
  return openStore({ root, env: io.env, signal: io.signal, ...options });
}

/** A string option's value (the last one when repeated). */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === "string" ? last : undefined;
}

/** A boolean option's value. */
export function flagOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Checks the number of positionals.
 *
 * @throws BuildError CLI_USAGE naming the usage line.
 */
export function expectPositionals(args: ParsedArgs, usage: string, min: number, max: number = min): readonly string[] {
  const n = args.positionals.length;
  if (n < min || n > max) {
    const wanted = min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new BuildError("CLI_USAGE", `expected ${wanted} argument${max === 1 && min === 1 ? "" : "s"}, got ${n}`, { hint: `usage: ${usage}` });
  }
  return args.positionals;
}

/**
 * Binary standard streams. `CliIo` carries text only, so `save` and `load`
 * take binary streams from these optional extra members when the caller's
 * io has them (tests pass their own), else from the process.
 */
export interface BinaryStdio {
  /** Where `save` writes an archive to standard output. */
  readonly stdoutStream?: Writable & { readonly isTTY?: boolean };
  /** Where `load` reads an archive from standard input. */
  readonly stdinStream?: Readable & { readonly isTTY?: boolean };
}

/** Standard output as a binary stream, and whether it is a terminal. */
export function binaryStdout(io: CliIo): { readonly stream: Writable; readonly isTTY: boolean } {
  const stream = (io as CliIo & BinaryStdio).stdoutStream ?? process.stdout;
  return { stream, isTTY: (stream as { isTTY?: boolean }).isTTY === true };
}

/** Standard input as a binary stream, and whether it is a terminal. */
export function binaryStdin(io: CliIo): { readonly stream: Readable; readonly isTTY: boolean } {
  const stream = (io as CliIo & BinaryStdio).stdinStream ?? process.stdin;
  return { stream, isTTY: (stream as { isTTY?: boolean }).isTTY === true };
}
