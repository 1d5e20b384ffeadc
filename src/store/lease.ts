/**
 * Which processes use a store, so that `tsbuild prune` never deletes what
 * a running build, pull or load is about to use or record.
 *
 * Every process that opens a store holds a shared lease for its lifetime:
 * a file `<root>/leases/shared-<pid>-<start>` (`<start>` is the process's
 * start time from /proc, so a reused pid is not mistaken for the process
 * that wrote the file). Prune takes an exclusive lease
 * (`exclusive-<pid>-<start>`) and refuses to go on while any other live
 * process holds one; a process opening the store while an exclusive lease
 * is live waits for it to go. Each side writes its own file before looking
 * for the other's, so of two processes starting at once at least one sees
 * the other: the prune refuses, the build waits.
 *
 * Files of dead processes (`kill -9`, a crash) are ignored and removed by
 * whoever finds them; the files of a process that exits normally are
 * removed on exit.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { processAlive } from "../util/process-alive.js";
import { throwIfAborted } from "./abort.js";

/** A lease file's owner, parsed from its name. */
interface LeaseFile {
  readonly name: string;
  readonly kind: "shared" | "exclusive";
  readonly pid: number;
  readonly start: string;
}

/** An exclusive lease: release it when done. */
export interface ExclusiveLease {
  /** Removes the lease file. Never throws. */
  release(): Promise<void>;
}

/** How often a process waiting for a prune looks again. */
const WAIT_POLL_MS = 100;

/** Shared leases this process holds, by leases directory (one per store). */
const held = new Map<string, Promise<void>>();
let exitHookInstalled = false;

/** This process's start time in clock ticks after boot (field 22 of /proc/PID/stat), or "" where /proc is missing. */
function startTime(pid: number | "self"): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

const SELF_START = startTime("self");

function parseLease(name: string): LeaseFile | undefined {
  const m = /^(shared|exclusive)-(\d+)-(\d*)$/.exec(name);
  return m ? { name, kind: m[1] as LeaseFile["kind"], pid: Number(m[2]), start: m[3]! } : undefined;
}

/** Whether the process that wrote `lease` still runs (the same process, not a later one with its pid). */
function isLive(lease: LeaseFile): boolean {
  if (!processAlive(lease.pid)) return false;
  const now = startTime(lease.pid);
  return now === "" || lease.start === "" || now === lease.start;
}

/**
 * The live leases of other processes under `dir`; files of dead processes
 * are removed on the way. Synchronous, as is all lease file work: every
 * command opens a store, and a handful of calls through libuv's thread
 * pool cost ~5 ms of a no-op build on a 2-core machine.
 */
function othersLive(dir: string): LeaseFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: LeaseFile[] = [];
  for (const name of names) {
    const lease = parseLease(name);
    if (lease === undefined || lease.pid === process.pid) continue;
    if (isLive(lease)) live.push(lease);
    else rmSync(join(dir, name), { force: true });
  }
  return live;
}

function fileName(kind: LeaseFile["kind"]): string {
  return `${kind}-${process.pid}-${SELF_START}`;
}

/** Removes this process's lease files on exit (synchronously: nothing asynchronous runs in an exit handler). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const dir of held.keys()) {
      try {
        unlinkSync(join(dir, fileName("shared")));
      } catch {
        // Already gone (a prune of a dead process's files, or a removed store): nothing to do.
      }
    }
  });
}

/**
 * Holds a shared lease on the store whose leases directory is `dir` until
 * this process exits (once per store and process). Waits while another
 * process prunes the store.
 *
 * @throws BuildError ABORTED when `signal` fires while waiting.
 */
export function holdSharedLease(dir: string, signal?: AbortSignal): Promise<void> {
  let pending = held.get(dir);
  if (pending === undefined) {
    pending = takeShared(dir, signal);
    held.set(dir, pending);
    installExitHook();
    // A failed attempt (aborted wait) must not stick: the next open tries again.
    pending.catch(() => held.delete(dir));
  }
  return pending;
}

async function takeShared(dir: string, signal: AbortSignal | undefined): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, fileName("shared"));
  for (;;) {
    writeFileSync(file, "");
    if (!othersLive(dir).some((l) => l.kind === "exclusive")) return;
    // A prune is running: step aside (it refuses while this file exists) and look again.
    rmSync(file, { force: true });
    throwIfAborted(signal, "waiting for a running prune");
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    throwIfAborted(signal, "waiting for a running prune");
  }
}

/**
 * Takes the exclusive lease `tsbuild prune` needs: no other live process
 * may hold a lease on the store meanwhile. This process's own shared lease
 * does not count.
 *
 * @throws BuildError STORE_BUSY naming the processes that use the store.
 */
export async function takeExclusiveLease(dir: string): Promise<ExclusiveLease> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, fileName("exclusive"));
  writeFileSync(file, "");
  const others = othersLive(dir);
  if (others.length > 0) {
    rmSync(file, { force: true });
    const pids = [...new Set(others.map((l) => l.pid))].sort((a, b) => a - b);
    throw new BuildError("STORE_BUSY", `the store is in use by ${pids.length === 1 ? "process" : "processes"} ${pids.join(", ")}`, {
      hint: "run prune again when the builds, pulls and loads using this store have finished",
    });
  }
  return {
    release: async () => {
      try {
        rmSync(file, { force: true });
      } catch {
        // The store went away meanwhile: nothing to release.
      }
    },
  };
}
