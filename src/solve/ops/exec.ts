import { createHash, randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { BuildError } from "../../diagnostics/build-error.js";
import type { PlannedMount, StepOp } from "../../plan/graph.js";
import type { SandboxMount } from "../../sandbox/sandbox.js";
import { resolveUser } from "../../sandbox/user.js";
import { mountOverlay, unmount } from "../../snapshot/overlay.js";
import { withSourceRoot, type OpContext } from "./context.js";
import { processAlive } from "../../util/process-alive.js";
import { storeLayout } from "../../store/layout.js";
import { resolveInRoot } from "../../sandbox/root-path.js";

type ExecOp = Extract<StepOp, { kind: "exec" }>;

/** The hostname RUN steps see (BuildKit's default `buildkitsandbox`). */
export const SANDBOX_HOSTNAME = "buildkitsandbox";

/**
 * Runs a RUN step's process in `rootfs` (a mounted overlay) through the
 * sandbox, with its mounts. Resolves on exit code 0; throws STEP_FAILED
 * with BuildKit's wording otherwise.
 */
export async function runExec(op: ExecOp, rootfs: string, ctx: OpContext): Promise<void> {
  const user = await resolveUser({ rootfs, user: op.user });
  const scratch = join(ctx.storeRoot, "tmp", `exec-${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(scratch, { recursive: true });
  try {
    const extra: SandboxMount[] = [];
    if (op.command.script) {
      // A heredoc with a shebang runs as a file, mounted read-only at /dev/pipes (BuildKit's layout).
      const dir = join(scratch, "pipes");
      await mkdir(dir);
      // The name is cleaned when planned (no `..`, no leading `/`: run-command.ts), so the file stays in dir; checked again here.
      const name = op.command.script.name;
      if (name === "" || posix.join("/", name).slice(1) !== name) throw new BuildError("INTERNAL", `heredoc script name ${JSON.stringify(name)} is not clean`);
      const file = join(dir, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, op.command.script.content, { flag: "wx" });
      await chmod(file, 0o755);
      extra.push({ type: "bind", source: dir, destination: "/dev/pipes", readonly: true });
    }
    await withMounts(op.mounts, 0, { mounts: extra, env: [] }, scratch, ctx, async ({ mounts, env }) => {
      const result = await ctx.sandbox.run(
        {
          rootfs,
          args: op.command.args,
          // Secrets given as env= come last: they are not in the step's definition, only in its process.
          env: [...op.command.env, ...env],
          cwd: op.workdir,
          user,
          hostname: SANDBOX_HOSTNAME,
          // BuildKit's "default" network for RUN is the host's (its host mode), so package installs work.
          network: op.network === "none" ? "none" : "host",
          mounts,
          // BuildKit does not set no_new_privs, so sudo/su work in RUN.
          noNewPrivileges: false,
        },
        { signal: ctx.signal, onOutput: (stream, chunk) => ctx.onOutput(stream, chunk) },
      );
      if (result.exitCode !== 0) {
        throw new BuildError("STEP_FAILED", `process "${op.command.args.join(" ")}" did not complete successfully: exit code: ${result.exitCode}`);
      }
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What the mounts of a RUN add to its process: mounts, and environment entries (secrets as env=). */
interface MountedExtras {
  readonly mounts: SandboxMount[];
  readonly env: string[];
}

/** Prepares the mounts one by one (some need a read-only view kept mounted), then runs `fn`. */
async function withMounts(
  mounts: readonly PlannedMount[],
  i: number,
  acc: MountedExtras,
  scratch: string,
  ctx: OpContext,
  fn: (extras: MountedExtras) => Promise<void>,
): Promise<void> {
  if (i === mounts.length) return fn(acc);
  const m = mounts[i]!;
  const next = (mount?: SandboxMount, env: readonly string[] = []): Promise<void> =>
    withMounts(mounts, i + 1, { mounts: mount ? [...acc.mounts, mount] : acc.mounts, env: [...acc.env, ...env] }, scratch, ctx, fn);
  switch (m.type) {
    case "tmpfs":
      return next({ type: "tmpfs", destination: m.target, options: m.size ? [`size=${m.size}`] : [] });
    case "cache": {
      // Cache mounts persist across builds in the store; their content never enters a cache key.
      const dir = join(storeLayout(ctx.storeRoot).cacheMountsDir, createHash("sha256").update(m.id ?? m.target).digest("hex"));
      await mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
      if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
      return next({ type: "bind", source: dir, destination: m.target, readonly: m.readonly });
    }
    case "bind": {
      const source = m.sourceRef ?? { kind: "context" as const };
      return withSourceRoot(source, ctx, async (root) => {
        // Resolved inside the source's root, symlinks included: mount(2) follows symlinks on the host, so a
        // source that is (or passes through) a symlink to /etc must not bind the host's /etc into the sandbox.
        const host = await resolveInRoot(root, posix.normalize(`/${m.source ?? ""}`));
        if (m.readonly) return next({ type: "bind", source: host, destination: m.target, readonly: true });
        // A writable bind mount must not change its source (BuildKit discards the writes): overlay it.
        const work = join(scratch, `rw-${i}`);
        const [upper, ow, merged] = [join(work, "u"), join(work, "w"), join(work, "m")];
        await Promise.all([upper, ow, merged].map((d) => mkdir(d, { recursive: true })));
        await mountOverlay({ lowerdirs: [host], upperdir: upper, workdir: ow, target: merged, signal: ctx.signal });
        try {
          return await next({ type: "bind", source: merged, destination: m.target, readonly: false });
        } finally {
          await unmount(merged).catch(() => unmount(merged, { lazy: true }));
        }
      });
    }
    case "secret": {
      const value = m.id !== undefined ? ctx.secrets?.get(m.id) : undefined;
      if (value === undefined) {
        if (m.required) {
          throw new BuildError("STEP_FAILED", `secret ${m.id ?? ""} not found`, { hint: `pass it with --secret id=${m.id ?? "ID"},src=FILE (or env=VAR)` });
        }
        // Like BuildKit without the secret: an optional mount is skipped.
        return next();
      }
      const env = m.env !== undefined ? [`${m.env}=${value.toString("utf8")}`] : [];
      if (m.target === "") return next(undefined, env);
      return withSecretFile(value, m, scratch, (file) => next({ type: "bind", source: file, destination: m.target, readonly: true }, env));
    }
    case "ssh": {
      const id = m.id ?? "default";
      const agent = ctx.sshAgents?.get(id);
      if (agent === undefined) {
        if (m.required) throw new BuildError("STEP_FAILED", `no SSH key ${JSON.stringify(id)} forwarded from the client`, { hint: `pass it with --ssh ${id === "default" ? "default" : `${id}=SOCKET`}` });
        // Like BuildKit without an agent: an optional mount is skipped.
        return next();
      }
      // BuildKit points SSH_AUTH_SOCK at the (first) agent mount.
      const env = acc.env.some((e) => e.startsWith("SSH_AUTH_SOCK=")) ? [] : [`SSH_AUTH_SOCK=${m.target}`];
      const access = { ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}), ...(m.mode !== undefined ? { mode: m.mode } : {}) };
      const { withSshProxy } = await import("./ssh-proxy.js");
      return withSshProxy(agent, access, scratch, (socket) => next({ type: "bind", source: socket, destination: m.target, readonly: false }, env));
    }
    default: {
      const never: never = m.type;
      throw new BuildError("INTERNAL", `unknown mount type ${String(never)}`);
    }
  }
}

/**
 * Writes a secret into a file of its own for the run, with the mount's
 * mode and owner (BuildKit's defaults: 0400, root), and removes it after.
 * The file lives on `/dev/shm` (memory) when the host has it, like
 * BuildKit's tmpfs-backed secrets, so the value never reaches a disk;
 * otherwise in the step's scratch directory in the store (which the
 * store's cleanup removes after a kill). On `/dev/shm` the directory is
 * named after this process, and directories of processes that died
 * (`kill -9` mid-RUN) are removed before this process makes its first.
 */
async function withSecretFile<T>(value: Buffer, m: PlannedMount, scratch: string, fn: (file: string) => Promise<T>): Promise<T> {
  deadSecretDirsRemoved ??= removeDeadSecretDirs();
  await deadSecretDirsRemoved;
  // No /dev/shm (or not writable): the scratch directory.
  const dir = await mkdtemp(join(SHM, `tsbuild-secret-${process.pid}-`)).catch(() => mkdtemp(join(scratch, "secret-")));
  try {
    const file = join(dir, "secret");
    await writeFile(file, value, { mode: 0o600 });
    await chown(file, m.uid ?? 0, m.gid ?? 0);
    await chmod(file, m.mode ?? 0o400);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SHM = "/dev/shm";

/** The cleanup below runs once per process: what a build killed later leaves is for the next build to remove. */
let deadSecretDirsRemoved: Promise<void> | undefined;

/** Removes `/dev/shm/tsbuild-secret-<pid>-*` directories whose process is gone. */
async function removeDeadSecretDirs(): Promise<void> {
  let names: string[];
  try {
    names = await readdir(SHM);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^tsbuild-secret-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await rm(join(SHM, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
