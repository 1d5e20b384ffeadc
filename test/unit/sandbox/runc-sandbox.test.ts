import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError, isBuildError } from "../../../src/diagnostics/build-error.js";
import { RuncSandbox, type ProcessSpec } from "../../../src/sandbox/index.js";

/**
 * RuncSandbox driven by a fake runtime (a shell script), to check the
 * command lines it issues and the failure paths a real runc rarely takes:
 * a runtime that ignores `kill`, a runtime error, a missing binary.
 */
describe("RuncSandbox with a fake runtime", () => {
  let dir: string;
  let rootfs: string;
  let stateDir: string;
  let callLog: string;

  const spec = (overrides: Partial<ProcessSpec> = {}): ProcessSpec => ({
    rootfs,
    args: ["/bin/true"],
    env: ["PATH=/bin"],
    cwd: "/work",
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: "h",
    network: "none",
    resolvConf: "nameserver 192.0.2.53\n",
    ...overrides,
  });

  /** Writes a fake runtime whose `run` subcommand executes `runBody` (sh). */
  async function fakeRuntime(runBody: string): Promise<string> {
    const path = join(dir, "fake-runc");
    await writeFile(
      path,
      `#!/bin/sh
echo "$*" >> ${callLog}
root=$(echo "$*" | sed 's/.*--root \\([^ ]*\\) .*/\\1/')
for last in "$@"; do :; done
case " $* " in
  *" run "*)
    bundle=$(echo "$*" | sed 's/.*--bundle \\([^ ]*\\) .*/\\1/')
    log=$(echo "$*" | sed 's/.*--log \\([^ ]*\\) .*/\\1/')
    # State like runc's: <root>/<id> while the container exists.
    mkdir -p "$root/$last"
    ${runBody}
    ;;
  *" kill "*) exit 1 ;;
  *" delete "*) rm -rf "$root/$last"; exit 0 ;;
  *) exit 0 ;;
esac
`,
    );
    await chmod(path, 0o755);
    return path;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-fake-"));
    rootfs = join(dir, "rootfs");
    stateDir = join(dir, "state");
    callLog = join(dir, "calls.log");
    await writeFile(callLog, "");
    await mkdir(rootfs);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs `--root <state> run --bundle <dir> tsbuild-<id>`, then deletes the container", async () => {
    const runtime = await fakeRuntime(
      `cp "$bundle/config.json" ${dir}/seen-config.json; cat "$bundle/hosts" "$bundle/resolv.conf"; echo err >&2; exit 7`,
    );
    const sandbox = new RuncSandbox({ stateDir, runtime });
    let stdout = "";
    let stderr = "";
    const result = await sandbox.run(spec(), {
      onOutput: (stream, chunk) => (stream === "stdout" ? (stdout += chunk) : (stderr += chunk)),
    });
    expect(result).toEqual({ exitCode: 7 });
    expect(stdout).toBe("127.0.0.1\tlocalhost h\n::1\tlocalhost ip6-localhost ip6-loopback\nnameserver 192.0.2.53\n");
    expect(stderr).toBe("err\n");

    const calls = (await readFile(callLog, "utf8")).trim().split("\n");
    expect(calls).toHaveLength(2);
    const [run, del] = calls as [string, string];
    const id = /run --bundle \S+ (tsbuild-[0-9a-f]{16})$/.exec(run)?.[1];
    expect(id).toBeDefined();
    expect(run).toBe(
      `--root ${stateDir}/runc --log ${stateDir}/bundles/${id}/runtime.log --log-format json ` +
        `run --bundle ${stateDir}/bundles/${id} ${id}`,
    );
    expect(del).toBe(`--root ${stateDir}/runc delete --force ${id}`);

    const config = JSON.parse(await readFile(join(dir, "seen-config.json"), "utf8"));
    expect(config.root.path).toBe(rootfs);
    expect(config.process.cwd).toBe("/work");
    expect(config.linux.cgroupsPath).toBe(`/tsbuild/${id}`);
    expect(config.annotations["dev.tsbuild.owner.pid"]).toBe(String(process.pid));
    // Bundle gone, working directory created, no stubs of the runtime's mounts left (it made none).
    expect(await readdir(join(stateDir, "bundles"))).toEqual([]);
    expect(await readdir(rootfs)).toEqual(["work"]);
  });

  it("reports a runtime failure from its log as STEP_FAILED", async () => {
    const runtime = await fakeRuntime(
      `echo '{"level":"error","msg":"runc run failed: exec: \\"nope\\": executable file not found in $PATH"}' > "$log"; exit 1`,
    );
    const err = await new RuncSandbox({ stateDir, runtime }).run(spec()).catch((e: unknown) => e);
    expect(isBuildError(err, "STEP_FAILED")).toBe(true);
    expect((err as BuildError).message).toBe('runc run failed: exec: "nope": executable file not found in $PATH');
  });

  it("skips `delete` when the runtime removed the container itself (runc does when `run` returns)", async () => {
    const runtime = await fakeRuntime(`rm -rf "$root/$last"; exit 0`);
    const result = await new RuncSandbox({ stateDir, runtime }).run(spec());
    expect(result).toEqual({ exitCode: 0 });
    const calls = (await readFile(callLog, "utf8")).trim().split("\n");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/ run --bundle /);
  });

  it("kills the runtime itself when it ignores `kill`, within the kill timeout", async () => {
    const runtime = await fakeRuntime(`trap '' TERM INT; echo started; sleep 30 & wait`);
    const sandbox = new RuncSandbox({ stateDir, runtime, killTimeoutMs: 300 });
    const controller = new AbortController();
    let abortedAt = 0;
    const err = await sandbox
      .run(spec(), {
        signal: controller.signal,
        onOutput: () => {
          abortedAt = Date.now();
          controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(isBuildError(err, "ABORTED")).toBe(true);
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    const calls = (await readFile(callLog, "utf8")).trim().split("\n");
    expect(calls.filter((c) => c.includes(" kill ")).length).toBeGreaterThan(1);
    expect(calls.at(-1)).toMatch(/ delete --force tsbuild-/);
    expect(await readdir(join(stateDir, "bundles"))).toEqual([]);
  });

  it("refuses a missing rootfs instead of creating it", async () => {
    const runtime = await fakeRuntime("exit 0");
    const missing = join(dir, "missing-rootfs");
    const err = await new RuncSandbox({ stateDir, runtime }).run(spec({ rootfs: missing })).catch((e: unknown) => e);
    expect(isBuildError(err, "INTERNAL")).toBe(true);
    expect(await readdir(dir)).not.toContain("missing-rootfs");
    expect(await readFile(callLog, "utf8")).toBe("");
  });

  it("names a runtime binary that cannot be run", async () => {
    const sandbox = new RuncSandbox({ stateDir, runtime: join(dir, "no-such-runc") });
    const err = await sandbox.run(spec()).catch((e: unknown) => e);
    expect(isBuildError(err, "STEP_FAILED")).toBe(true);
    expect((err as BuildError).message).toMatch(/cannot run the OCI runtime .*no-such-runc.*: not found/);
    expect((err as BuildError).hint).toMatch(/install runc/);
  });
});
