import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { join, posix, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { BuildError } from "../diagnostics/build-error.js";
import { recordMountStubs, type MountStubs } from "./mount-stubs.js";
import { buildOciSpec } from "./oci-spec.js";
import { currentOwner, ownerAlive, ownerAnnotations } from "./owner.js";
import { containerResolvConf, hostsFileContent, readHostResolvConf } from "./resolv.js";
import { mkdirInRoot } from "./root-path.js";
import { runtimeCommand, runtimeSpawnError } from "./runtime-cli.js";
import type { RuntimeConfig } from "./runtime-spec.js";
import type { OutputStream, ProcessSpec, RunOptions, RunResult, Sandbox } from "./sandbox.js";

/** Prefix of every container id tsbuild creates; {@link cleanupStale} only touches these. */
export const CONTAINER_ID_PREFIX = "tsbuild-";

/** Options of {@link RuncSandbox}. */
export interface RuncSandboxOptions {
  /**
   * Directory for the runtime's state (`<stateDir>/runc`, passed as
   * `--root`) and the per-run bundles (`<stateDir>/bundles/<id>`). Created
   * if missing, mode 0700: bundles hold the full process environment.
   */
  readonly stateDir: string;
  /** OCI runtime binary, looked up on PATH unless a path (default `runc`). */
  readonly runtime?: string;
  /** cgroup under which each run gets `<cgroupParent>/<id>` (default `/tsbuild`). */
  readonly cgroupParent?: string;
  /**
   * After an abort, how long to keep asking the runtime to kill the
   * container before killing the runtime process itself (default 5000 ms).
   */
  readonly killTimeoutMs?: number;
}

/** The runtime's state directory inside a tsbuild state directory. */
export function runtimeStateRoot(stateDir: string): string {
  return join(stateDir, "runc");
}

/** The bundles directory inside a tsbuild state directory. */
export function bundlesRoot(stateDir: string): string {
  return join(stateDir, "bundles");
}

/**
 * A {@link Sandbox} that runs each process as a fresh container of an OCI
 * runtime (runc by default): writes a bundle (`config.json` from
 * {@link buildOciSpec}, `hosts`, `resolv.conf`), runs
 * `runc --root <stateRoot> run --bundle <bundle> tsbuild-<random>` in the
 * foreground without a terminal, streams its stdout/stderr, and always
 * deletes the container, the bundle and the mount stubs afterwards.
 */
export class RuncSandbox implements Sandbox {
  /** The runtime binary. */
  readonly runtime: string;
  /** The runtime's `--root` state directory. */
  readonly stateRoot: string;
  /** Where per-run bundles are written. */
  readonly bundleRoot: string;
  private readonly cgroupParent: string;
  private readonly killTimeoutMs: number;

  constructor(options: RuncSandboxOptions) {
    this.runtime = options.runtime ?? "runc";
    this.stateRoot = runtimeStateRoot(options.stateDir);
    this.bundleRoot = bundlesRoot(options.stateDir);
    this.cgroupParent = options.cgroupParent ?? "/tsbuild";
    this.killTimeoutMs = options.killTimeoutMs ?? 5000;
  }

  /** {@inheritDoc Sandbox.run} */
  async run(processSpec: ProcessSpec, options: RunOptions = {}): Promise<RunResult> {
    const { signal } = options;
    throwIfAborted(signal);
    // The runtime resolves a relative root.path against the bundle directory.
    const spec: ProcessSpec = { ...processSpec, rootfs: resolve(processSpec.rootfs) };
    const id = `${CONTAINER_ID_PREFIX}${randomBytes(8).toString("hex")}`;
    const bundle = join(this.bundleRoot, id);
    await mkdir(this.stateRoot, { recursive: true, mode: 0o700 });
    await mkdir(this.bundleRoot, { recursive: true, mode: 0o700 });
    await mkdir(bundle, { mode: 0o700 });

    let stubs: MountStubs | undefined;
    let started = false;
    let returned = false;
    try {
      const config = await this.prepareBundle(id, bundle, spec);
      stubs = await recordMountStubs({
        rootfs: spec.rootfs,
        destinations: config.mounts.map((m) => m.destination),
      });
      throwIfAborted(signal);
      started = true;
      const result = await this.runContainer(id, bundle, options);
      returned = true;
      return result;
    } finally {
      // Whatever happened, leave nothing behind: runc normally deletes the
      // container itself when `run` returns, but not if it was killed, and a
      // container left in the "created" state would keep its cgroup and
      // namespaces alive.
      // After `run` returned by itself, runc has removed the container;
      // skip the delete process unless its state is still there. After a
      // failure or a kill, always delete.
      if (started && (!returned || (await this.containerExists(id)))) await this.deleteContainer(id);
      await rm(bundle, { recursive: true, force: true });
      await stubs?.cleanup();
    }
  }

  /** Writes hosts, resolv.conf and config.json into the bundle and returns the config. */
  private async prepareBundle(id: string, bundle: string, spec: ProcessSpec): Promise<RuntimeConfig> {
    // Checked first: creating the working directory below would otherwise
    // silently create a missing rootfs.
    const rootStat = await stat(spec.rootfs).catch(() => undefined);
    if (rootStat === undefined || !rootStat.isDirectory()) {
      throw new BuildError("INTERNAL", `root filesystem ${spec.rootfs} is not a directory`);
    }
    try {
      // runc refuses a missing working directory; BuildKit creates it, owned by root.
      await mkdirInRoot(spec.rootfs, spec.cwd);
    } catch (cause) {
      throw new BuildError("STEP_FAILED", `cannot create working directory ${spec.cwd}: ${errorText(cause)}`, {
        cause,
      });
    }
    const hostsPath = join(bundle, "hosts");
    const resolvConfPath = join(bundle, "resolv.conf");
    const resolvConf = spec.resolvConf ?? containerResolvConf(await readHostResolvConf(), spec.network);
    await writeFile(hostsPath, spec.hostsFile ?? hostsFileContent(spec.hostname), { mode: 0o644 });
    await writeFile(resolvConfPath, resolvConf, { mode: 0o644 });
    const config = buildOciSpec({
      spec,
      hostsPath,
      resolvConfPath,
      cgroupsPath: posix.join(this.cgroupParent, id),
      annotations: ownerAnnotations(currentOwner()),
      nofileHardLimit: await nofileHardLimit(),
    });
    await writeFile(join(bundle, "config.json"), JSON.stringify(config), { mode: 0o600 });
    return config;
  }

  /** Runs the container in the foreground until it exits or the signal aborts it. */
  private async runContainer(id: string, bundle: string, options: RunOptions): Promise<RunResult> {
    const { signal, onOutput } = options;
    const logPath = join(bundle, "runtime.log");
    const child = spawn(
      this.runtime,
      ["--root", this.stateRoot, "--log", logPath, "--log-format", "json", "run", "--bundle", bundle, id],
      {
        stdio: ["ignore", "pipe", "pipe"],
        // Own process group: a Ctrl-C on the terminal reaches tsbuild only,
        // which then kills the container in order; runc would otherwise
        // forward SIGINT to the process, which may ignore it.
        detached: true,
      },
    );

    let outputError: unknown;
    const forward = (stream: OutputStream) => (chunk: Buffer) => {
      if (onOutput === undefined || outputError !== undefined) return;
      try {
        onOutput(stream, chunk);
      } catch (err) {
        outputError = err;
      }
    };
    // Always consume both pipes, even without a listener: a full pipe would
    // block the process forever.
    child.stdout?.on("data", forward("stdout"));
    child.stderr?.on("data", forward("stderr"));

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, sig) => resolve({ code, signal: sig }));
    });

    let aborted = false;
    let killing: Promise<void> | undefined;
    const onAbort = () => {
      aborted = true;
      killing = this.killContainer(id, child, exited);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    let status: { code: number | null; signal: NodeJS.Signals | null };
    try {
      status = await exited;
    } catch (cause) {
      throw runtimeSpawnError(this.runtime, cause);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await killing;
    }

    if (aborted) {
      throw new BuildError("ABORTED", "RUN step cancelled", { cause: signal?.reason });
    }
    if (outputError !== undefined) throw outputError;
    if (status.code !== 0) {
      const runtimeError = await readRuntimeError(logPath);
      if (runtimeError !== undefined) {
        throw new BuildError("STEP_FAILED", runtimeError, {
          hint: "the OCI runtime could not start the process: check the command, its PATH and the working directory",
        });
      }
    }
    if (status.code === null) {
      return { exitCode: 128 + signalNumber(status.signal), signal: status.signal ?? "SIGKILL" };
    }
    return { exitCode: status.code };
  }

  /**
   * Kills the container with SIGKILL, retrying while `runc run` is still
   * creating it (`runc kill` fails until the container exists). If the
   * runtime itself does not exit in time, it is killed; the `delete --force`
   * that follows every run then removes whatever it left.
   */
  private async killContainer(id: string, child: ChildProcess, exited: Promise<unknown>): Promise<void> {
    let done = false;
    void exited.then(
      () => (done = true),
      () => (done = true),
    );
    const deadline = Date.now() + this.killTimeoutMs;
    while (!done) {
      try {
        await runtimeCommand({ runtime: this.runtime, root: this.stateRoot, args: ["kill", id, "KILL"] });
      } catch {
        // The runtime binary vanished; the deadline below still applies.
      }
      await Promise.race([exited.catch(() => undefined), delay(50)]);
      if (!done && Date.now() > deadline) {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        await exited.catch(() => undefined);
        return;
      }
    }
  }

  /**
   * Whether the runtime still has state for `id`. runc and crun keep a
   * container's state in `<root>/<id>/` and remove it when `run` returns
   * normally; checking it saves a `delete` process per RUN step (~30-50 ms
   * on two cores). When in doubt (any error but ENOENT), say it exists.
   */
  private async containerExists(id: string): Promise<boolean> {
    try {
      await stat(join(this.stateRoot, id));
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
  }

  /** `runc delete --force`: kills and removes the container if it still exists. Never throws. */
  private async deleteContainer(id: string): Promise<void> {
    try {
      await runtimeCommand({ runtime: this.runtime, root: this.stateRoot, args: ["delete", "--force", id] });
    } catch {
      // Nothing more can be done here; cleanupStale will retry later.
    }
  }
}

/** Options of {@link cleanupStale}. */
export interface CleanupStaleOptions {
  /** The state directory given to {@link RuncSandbox}. */
  readonly stateDir: string;
  /** OCI runtime binary (default `runc`). */
  readonly runtime?: string;
  /**
   * Also delete containers whose owning tsbuild process is still running
   * (default false: another build may be using the same state directory).
   */
  readonly includeLive?: boolean;
  /** Stops between deletions. */
  readonly signal?: AbortSignal;
}

/**
 * Deletes containers and bundles left behind by a tsbuild that died without
 * cleaning up (SIGKILL, power loss): `runc list`, then `runc delete --force`
 * for every `tsbuild-*` container whose owner is gone, which also kills any
 * process still running in it. Returns the ids of the deleted containers.
 */
export async function cleanupStale(options: CleanupStaleOptions): Promise<string[]> {
  const runtime = options.runtime ?? "runc";
  const root = runtimeStateRoot(options.stateDir);
  const listed = await runtimeCommand({ runtime, root, args: ["list", "--format", "json"] });
  if (listed.code !== 0) {
    throw new BuildError("INTERNAL", `${runtime} list failed: ${listed.stderr.trim()}`);
  }
  let containers: Array<{ id: string; annotations?: Record<string, string> }>;
  try {
    containers = JSON.parse(listed.stdout.trim() || "null") ?? [];
  } catch (cause) {
    throw new BuildError("INTERNAL", `${runtime} list printed something that is not JSON`, { cause });
  }
  const deleted: string[] = [];
  const kept = new Set<string>();
  for (const container of containers) {
    if (!container.id.startsWith(CONTAINER_ID_PREFIX)) continue;
    if (!options.includeLive && ownerAlive(container.annotations)) {
      kept.add(container.id);
      continue;
    }
    throwIfAborted(options.signal);
    const result = await runtimeCommand({ runtime, root, args: ["delete", "--force", container.id] });
    if (result.code !== 0) {
      throw new BuildError("INTERNAL", `cannot delete stale container ${container.id}: ${result.stderr.trim()}`);
    }
    deleted.push(container.id);
  }
  await removeStaleBundles(bundlesRoot(options.stateDir), kept, options.includeLive ?? false);
  return deleted;
}

/** Removes bundle directories that belong to no live run. */
async function removeStaleBundles(dir: string, kept: ReadonlySet<string>, includeLive: boolean): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(CONTAINER_ID_PREFIX) || kept.has(name)) continue;
    const bundle = join(dir, name);
    if (!includeLive) {
      // A live run writes its bundle before its container exists: keep
      // bundles whose owner still runs, and recent ones not yet readable.
      try {
        const config = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as RuntimeConfig;
        if (ownerAlive(config.annotations)) continue;
      } catch {
        const st = await stat(bundle).catch(() => undefined);
        if (st !== undefined && Date.now() - st.mtimeMs < 60_000) continue;
      }
    }
    await rm(bundle, { recursive: true, force: true });
  }
}

/** The first error-level message of a runtime's JSON log (`--log-format json`). */
async function readRuntimeError(logPath: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logPath, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === "error" || entry.level === "fatal") && entry.msg) return entry.msg;
    } catch {
      // Not JSON: not a log line we understand.
    }
  }
  return undefined;
}

let cachedNofileHardLimit: Promise<number | undefined> | undefined;

/** This process's hard open-files limit (from /proc/self/limits), or undefined if unknown. */
function nofileHardLimit(): Promise<number | undefined> {
  cachedNofileHardLimit ??= readFile("/proc/self/limits", "utf8").then(
    (text) => {
      const match = /^Max open files\s+\S+\s+(\S+)/m.exec(text);
      if (match === null) return undefined;
      // "unlimited" cannot be requested back (the kernel caps at fs.nr_open); 2^20 is its default.
      return match[1] === "unlimited" ? 1048576 : Number(match[1]);
    },
    () => undefined,
  );
  return cachedNofileHardLimit;
}

function signalNumber(name: NodeJS.Signals | null): number {
  return name === null ? 9 : (constants.signals[name] ?? 9);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BuildError("ABORTED", "RUN step cancelled", { cause: signal.reason });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
