import { spawn } from "node:child_process";
import { BuildError } from "../diagnostics/build-error.js";

/** Options for {@link runtimeCommand}. */
export interface RuntimeCommandOptions {
  /** The OCI runtime binary (`runc`, `crun`, or a path). */
  readonly runtime: string;
  /** The runtime's state directory (`--root`). */
  readonly root: string;
  /** Subcommand and its arguments, e.g. `["delete", "--force", id]`. */
  readonly args: readonly string[];
  /** Kill the command (not any container) when aborted. */
  readonly signal?: AbortSignal;
}

/** Outcome of a short runtime command. */
export interface RuntimeCommandResult {
  /** Exit status; `null` when the command died from a signal. */
  readonly code: number | null;
  /** Everything it printed on stdout. */
  readonly stdout: string;
  /** Everything it printed on stderr. */
  readonly stderr: string;
}

/**
 * Runs a short-lived runtime management command (`list`, `kill`, `delete`)
 * and collects its output. Resolves whatever the exit status; rejects only
 * when the binary cannot be started.
 */
export function runtimeCommand(options: RuntimeCommandOptions): Promise<RuntimeCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.runtime, ["--root", options.root, ...options.args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (cause) => reject(runtimeSpawnError(options.runtime, cause)));
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** The error for a runtime binary that could not be executed. */
export function runtimeSpawnError(runtime: string, cause: unknown): BuildError {
  if ((cause as { name?: string }).name === "AbortError") {
    return new BuildError("ABORTED", `${runtime} command cancelled`, { cause });
  }
  const code = (cause as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "not found" : code === "EACCES" ? "not executable" : String(cause);
  return new BuildError("STEP_FAILED", `cannot run the OCI runtime ${JSON.stringify(runtime)}: ${reason}`, {
    hint: "install runc (or crun) or point --runtime at the binary",
    cause,
  });
}
