/**
 * Runs one builder invocation as a child process and measures it: wall
 * time from spawn to exit, and the peak resident set size.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f %M`), which reads the
 * child's `ru_maxrss` from wait4(2): `bin/tsbuild` execs `unshare`, which
 * execs node in the same PID, so that figure is node's own high-water mark
 * (runc children are included as a maximum, never summed, and are far
 * smaller). Without GNU time it polls `/proc/PID/status` VmHWM every 10 ms,
 * which can miss growth in the last few milliseconds.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const GNU_TIME = "/usr/bin/time";

/** One measured run. */
export interface Measured {
  /** Wall time in seconds. */
  readonly seconds: number;
  /** Peak RSS in bytes (undefined when it could not be read). */
  readonly peakRss?: number;
  /** Exit status. */
  readonly code: number;
  /** stdout + stderr. */
  readonly output: string;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Measure peak RSS. */
  readonly rss?: boolean;
  /** Scratch dir for GNU time's output file. */
  readonly tmp: string;
}

let seq = 0;

async function vmHwm(pid: number): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `cmd args` and measures it; see the module comment. */
export async function measure(cmd: string, args: readonly string[], options: MeasureOptions): Promise<Measured> {
  const useTime = options.rss === true && existsSync(GNU_TIME);
  const rssFile = join(options.tmp, `rss-${process.pid}-${seq++}`);
  const argv = useTime ? [GNU_TIME, "-f", "%M", "-o", rssFile, cmd, ...args] : [cmd, ...args];
  const chunks: Buffer[] = [];
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  child.stderr.on("data", (c: Buffer) => chunks.push(c));
  let polled: number | undefined;
  let poller: NodeJS.Timeout | undefined;
  if (options.rss === true && !useTime && child.pid !== undefined) {
    const pid = child.pid;
    poller = setInterval(() => {
      void vmHwm(pid).then((v) => {
        if (v !== undefined && (polled === undefined || v > polled)) polled = v;
      });
    }, 10);
  }
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  const seconds = (performance.now() - started) / 1000;
  if (poller) clearInterval(poller);
  let peakRss = polled;
  if (useTime) {
    const text = await readFile(rssFile, "utf8").catch(() => "");
    // GNU time prints "Command exited with non-zero status N" before the figure when the command fails.
    const kb = /(\d+)\s*$/.exec(text.trim());
    peakRss = kb ? Number(kb[1]) * 1024 : undefined;
    await rm(rssFile, { force: true });
  }
  return { seconds, ...(peakRss !== undefined ? { peakRss } : {}), code, output: Buffer.concat(chunks).toString("utf8") };
}

/** Runs a command to completion (not measured); throws with its output when it fails. */
export async function runQuiet(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const chunks: Buffer[] = [];
  const child = spawn(cmd, [...args], { env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  child.stderr.on("data", (c: Buffer) => chunks.push(c));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c ?? 1));
  });
  const out = Buffer.concat(chunks).toString("utf8");
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${out.slice(-3000)}`);
  return out;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
