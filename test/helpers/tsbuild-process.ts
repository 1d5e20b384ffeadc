import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ProgressEvent } from "../../src/progress/events.js";

/** The compiled CLI, as users run it (`npm test` compiles first). */
export const TSBUILD_BIN = join(import.meta.dirname, "../../bin/tsbuild");

/** The outcome of one tsbuild process. */
export interface TsbuildRun {
  /** Exit status (null when killed by a signal). */
  readonly code: number | null;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error, minus the JSON progress lines. */
  readonly stderr: string;
  /** Progress events (`--progress=rawjson` lines on standard error). */
  readonly events: ProgressEvent[];
}

/** Starts `tsbuild ARGS` as a real process (in its own mount namespace, as users get it). */
export function spawnTsbuild(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(TSBUILD_BIN, [...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Collects a spawned tsbuild's output and events until it exits. */
export function collect(child: ChildProcess, onEvent?: (e: ProgressEvent) => void): Promise<TsbuildRun> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let partial = "";
    const events: ProgressEvent[] = [];
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => {
      const lines = (partial + d.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("{")) {
          try {
            const e = JSON.parse(line) as ProgressEvent;
            events.push(e);
            onEvent?.(e);
            continue;
          } catch {
            // Not an event: keep it as text.
          }
        }
        stderr += `${line}\n`;
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr: stderr + partial, events }));
  });
}

/** Runs tsbuild to completion. */
export function runTsbuild(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<TsbuildRun> {
  return collect(spawnTsbuild(args, options));
}

/** A file of a build context: text, or text with a mode. */
export type ContextFile = string | { readonly content: string; readonly mode: number };

/** Writes a build context into a fresh temp dir. */
export function makeContext(files: Readonly<Record<string, ContextFile>>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsb-ctx-"));
  writeContext(dir, files);
  return dir;
}

/** Writes (or overwrites) files in a context. */
export function writeContext(dir: string, files: Readonly<Record<string, ContextFile>>): void {
  for (const [name, file] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof file === "string" ? file : file.content);
    if (typeof file !== "string") chmodSync(path, file.mode);
  }
}

/** Names of steps by what happened to them in a run. */
export function stepsBy(events: readonly ProgressEvent[]): { ran: string[]; cached: string[] } {
  return {
    ran: events.filter((e) => e.type === "step-done").map((e) => (e as { name: string }).name),
    cached: events.filter((e) => e.type === "step-cached").map((e) => (e as { name: string }).name),
  };
}

/** Step names without their `[stage n/m] ` prefix: the instructions as written (`COPY a /b`). */
export function instructionsOf(names: readonly string[]): string[] {
  return names.map((n) => n.replace(/^\[[^\]]+\] /, ""));
}
