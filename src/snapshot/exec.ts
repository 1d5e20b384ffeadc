import { spawn } from "node:child_process";
import { BuildError } from "../diagnostics/build-error.js";

/** Options for {@link runTool}. */
export interface RunToolOptions {
  /** Working directory of the child (relative paths in arguments resolve against it). */
  readonly cwd?: string;
  /** Kills the child and rejects with BuildError ABORTED. */
  readonly signal?: AbortSignal;
  /** Environment of the child (default: this process's); `LC_ALL=C` is always added. */
  readonly env?: NodeJS.ProcessEnv;
  /** Collect standard output (default: discarded). */
  readonly captureStdout?: boolean;
}

/** What {@link runTool} returns. */
export interface RunToolResult {
  /** Standard output, when `captureStdout` was set (else `""`). */
  readonly stdout: string;
}

/**
 * Runs a system tool (`mknod`, `mount`, `umount`...) that Node has no
 * syscall binding for, and waits for it. Rejects with BuildError INTERNAL
 * carrying the tool's stderr when it exits non-zero, ABORTED when `signal`
 * fires. No shell is involved: arguments are passed as they are.
 */
export async function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const { signal } = options;
  if (signal?.aborted === true) {
    throw new BuildError("ABORTED", `${command} cancelled`, { cause: signal.reason });
  }
  return new Promise<RunToolResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ["ignore", options.captureStdout === true ? "pipe" : "ignore", "pipe"],
      // Tool messages are parsed by nobody, but keep them in English for error reports.
      env: { ...(options.env ?? process.env), LC_ALL: "C" },
    });
    let stdout = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (d: string) => {
      stdout += d;
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    const onAbort = (): void => {
      child.kill("SIGKILL");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(new BuildError("INTERNAL", `cannot run ${command}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted === true) {
        reject(new BuildError("ABORTED", `${command} cancelled`, { cause: signal.reason }));
      } else if (code === 0) {
        resolve({ stdout });
      } else {
        const why = stderr.trim() || (sig !== null ? `killed by ${sig}` : `exit status ${code}`);
        reject(new BuildError("INTERNAL", `${command} ${args.join(" ")} failed: ${why}`));
      }
    });
  });
}
