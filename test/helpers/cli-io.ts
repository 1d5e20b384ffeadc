import type { CliIo } from "../../src/cli/command.js";
import { main } from "../../src/cli/main.js";

/** What a CLI run printed and returned. */
export interface CliRun {
  /** Exit status. */
  readonly code: number;
  /** Standard output. */
  readonly out: string;
  /** Standard error. */
  readonly err: string;
}

/** Runs `tsbuild ARGV` in-process with captured output, in `cwd`. */
export async function runCli(argv: string[], options: { cwd: string; stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    env: options.env ?? {},
    cwd: options.cwd,
    readStdin: async () => Buffer.from(options.stdin ?? ""),
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, out, err };
}
