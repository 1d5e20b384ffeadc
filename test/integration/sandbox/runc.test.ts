import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError, isBuildError } from "../../../src/diagnostics/build-error.js";
import {
  DEFAULT_CAPABILITIES,
  MASKED_PATHS,
  RuncSandbox,
  buildOciSpec,
  capabilityMask,
  cleanupStale,
  resolveUser,
  runtimeStateRoot,
  type ProcessSpec,
} from "../../../src/sandbox/index.js";
import { currentOwner, ownerAnnotations } from "../../../src/sandbox/owner.js";
import { makeBusyboxRootfs } from "./busybox-rootfs.js";

const runcAvailable = spawnSync("runc", ["--version"]).status === 0;
const isRoot = process.getuid?.() === 0;

interface Collected {
  exitCode: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!runcAvailable || !isRoot)("RuncSandbox with the real runc", () => {
  let rootfs: string;
  let stateDir: string;
  let sandbox: RuncSandbox;
  let initialRootEntries: string[];

  const spec = (overrides: Partial<ProcessSpec> = {}): ProcessSpec => ({
    rootfs,
    args: ["/bin/sh", "-c", "true"],
    env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    cwd: "/",
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: "buildkitsandbox",
    network: "none",
    ...overrides,
  });

  const sh = (script: string, overrides: Partial<ProcessSpec> = {}): ProcessSpec =>
    spec({ args: ["/bin/sh", "-c", script], ...overrides });

  async function collect(processSpec: ProcessSpec, signal?: AbortSignal): Promise<Collected> {
    let stdout = "";
    let stderr = "";
    const result = await sandbox.run(processSpec, {
      ...(signal === undefined ? {} : { signal }),
      onOutput: (stream, chunk) => {
        if (stream === "stdout") stdout += chunk.toString();
        else stderr += chunk.toString();
      },
    });
    return { exitCode: result.exitCode, stdout, stderr };
  }

  function listContainers(): unknown[] {
    const out = execFileSync("runc", ["--root", sandbox.stateRoot, "list", "--format", "json"], {
      encoding: "utf8",
    });
    return (JSON.parse(out.trim() || "null") as unknown[] | null) ?? [];
  }

  beforeAll(async () => {
    rootfs = await makeBusyboxRootfs();
    initialRootEntries = (await readdir(rootfs)).sort();
    stateDir = await mkdtemp(join(tmpdir(), "tsbuild-state-"));
    sandbox = new RuncSandbox({ stateDir });
  });

  afterAll(async () => {
    if (stateDir !== undefined) {
      await cleanupStale({ stateDir, includeLive: true });
      await rm(stateDir, { recursive: true, force: true });
    }
    if (rootfs !== undefined) await rm(rootfs, { recursive: true, force: true });
  });

  it("streams output while the process runs", async () => {
    const chunks: Array<{ stream: string; text: string; settled: boolean }> = [];
    let settled = false;
    const run = sandbox.run(sh("echo hello; echo oops >&2; sleep 0.5; echo bye"), {
      onOutput: (stream, chunk) => chunks.push({ stream, text: chunk.toString(), settled }),
    });
    const result = await run.finally(() => (settled = true));
    expect(result).toEqual({ exitCode: 0 });
    const stdout = chunks.filter((c) => c.stream === "stdout").map((c) => c.text).join("");
    const stderr = chunks.filter((c) => c.stream === "stderr").map((c) => c.text).join("");
    expect(stdout).toBe("hello\nbye\n");
    expect(stderr).toBe("oops\n");
    // "hello" arrived as its own chunk, long before the process ended.
    expect(chunks.find((c) => c.stream === "stdout")).toEqual({ stream: "stdout", text: "hello\n", settled: false });
  });

  it("returns the exit code", async () => {
    expect((await collect(sh("exit 3"))).exitCode).toBe(3);
    expect((await collect(spec({ args: ["/bin/false"] }))).exitCode).toBe(1);
  });

  it("honours env and cwd, creating a missing working directory", async () => {
    const out = await collect(
      sh('echo "$FOO|$BAR"; pwd', { env: ["PATH=/bin", "FOO=hello world", "BAR="], cwd: "/work/dir" }),
    );
    expect(out).toEqual({ exitCode: 0, stdout: "hello world|\n/work/dir\n", stderr: "" });
    expect(existsSync(join(rootfs, "work/dir"))).toBe(true);
    await rm(join(rootfs, "work"), { recursive: true });
  });

  it("runs as the USER resolved from the rootfs's passwd and group", async () => {
    const user = await resolveUser({ rootfs, user: "builder" });
    expect(user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 29], home: "/home/builder" });
    const out = await collect(sh("id -u; id -g; id -G; grep CapEff /proc/self/status", { user }));
    expect(out.stdout).toBe("1000\n1000\n1000 10 29\nCapEff:\t0000000000000000\n");

    const numeric = await resolveUser({ rootfs, user: "1000" });
    expect((await collect(sh("id -u", { user: numeric }))).stdout).toBe("1000\n");
  });

  it("isolates processes: PID 1 is the step, host processes are invisible", async () => {
    const hostPids = (await readdir("/proc")).filter((e) => /^\d+$/.test(e)).length;
    const out = await collect(sh("echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]*$'"));
    const [pid1, cmdline, count] = out.stdout.split("\n");
    expect(pid1).toBe("1");
    expect(cmdline).toContain("/bin/sh -c");
    expect(Number(count)).toBeLessThanOrEqual(5);
    expect(hostPids).toBeGreaterThan(Number(count));
  });

  it("does not expose host files outside the rootfs", async () => {
    const markerDir = await mkdtemp(join(tmpdir(), "tsbuild-marker-"));
    await writeFile(join(markerDir, "secret"), "host secret\n");
    try {
      const out = await collect(sh(`cat ${markerDir}/secret || echo hidden; ls /`));
      expect(out.stdout).not.toContain("host secret");
      expect(out.stdout).toContain("hidden");
      const listing = out.stdout.split("\n").slice(1).filter(Boolean).sort();
      expect(listing).toEqual(["bin", "dev", "etc", "proc", "root", "sys", "tmp"]);
    } finally {
      await rm(markerDir, { recursive: true, force: true });
    }
  });

  describe("network", () => {
    let server: Server;
    let port: number;

    beforeAll(async () => {
      server = createServer((_req, res) => res.end("from-host\n"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("none: only loopback, no route, host services unreachable", async () => {
      const out = await collect(
        sh(
          `ip -o link | cut -d' ' -f2,3; cat /proc/net/route | wc -l; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ` +
            `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 ${port} | grep -q from-host && echo reached || echo unreachable`,
        ),
      );
      const lines = out.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^lo: <LOOPBACK,UP,/); // the runtime brings loopback up
      expect(lines[1]).toBe("1"); // the route table's header line only: no route at all
      expect(lines.slice(2, -1)).toEqual(["lo"]);
      expect(lines.at(-1)).toBe("unreachable");
    });

    it("host: sees the host's interfaces and reaches host services", async () => {
      const hostIfaces = (await readFile("/proc/net/dev", "utf8"))
        .split("\n")
        .slice(2)
        .map((l) => l.split(":")[0]?.trim())
        .filter(Boolean)
        .sort();
      const out = await collect(
        sh(`tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 ${port} | tail -n 1`, {
          network: "host",
        }),
      );
      const lines = out.stdout.trim().split("\n");
      expect(lines.slice(0, -1)).toEqual(hostIfaces);
      expect(lines.at(-1)).toBe("from-host");
    });
  });

  it("aborts a running step promptly and leaves no container behind", async () => {
    const controller = new AbortController();
    const start = Date.now();
    let abortedAt = 0;
    const run = sandbox.run(sh("echo started; sleep 30"), {
      signal: controller.signal,
      onOutput: () => {
        abortedAt = Date.now();
        controller.abort();
      },
    });
    const err = await run.catch((e: unknown) => e);
    const elapsed = Date.now() - abortedAt;
    expect(isBuildError(err, "ABORTED")).toBe(true);
    expect(abortedAt).toBeGreaterThan(start);
    expect(elapsed).toBeLessThan(2000);
    expect(listContainers()).toEqual([]);
    expect(await readdir(join(stateDir, "bundles"))).toEqual([]);
  });

  it("aborts a step that has not started yet", async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await sandbox.run(sh("echo never"), { signal: controller.signal }).catch((e: unknown) => e);
    expect(isBuildError(err, "ABORTED")).toBe(true);
    // Aborting while the runtime is still creating the container.
    const racing = new AbortController();
    const run = sandbox.run(sh("sleep 30"), { signal: racing.signal });
    setTimeout(() => racing.abort(), 5);
    expect(isBuildError(await run.catch((e: unknown) => e), "ABORTED")).toBe(true);
    expect(listContainers()).toEqual([]);
  });

  it("grants Docker's default capabilities and no_new_privs", async () => {
    const out = await collect(sh("grep -E '^(Cap|NoNewPrivs)' /proc/self/status"));
    const docker = capabilityMask(DEFAULT_CAPABILITIES);
    expect(docker).toBe("00000000a80425fb");
    expect(out.stdout).toBe(
      [
        "CapInh:\t0000000000000000",
        `CapPrm:\t${docker}`,
        `CapEff:\t${docker}`,
        `CapBnd:\t${docker}`,
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
        "",
      ].join("\n"),
    );
  });

  it("honours a capability override", async () => {
    const out = await collect(sh("grep CapEff /proc/self/status", { capabilities: ["CHOWN", "CAP_NET_ADMIN"] }));
    expect(out.stdout).toBe(`CapEff:\t${capabilityMask(["CAP_CHOWN", "CAP_NET_ADMIN"])}\n`);
  });

  it("masks /proc/kcore and the other masked paths, makes /proc/sys read-only", async () => {
    // Which masked paths exist depends on the kernel (this one may have no
    // /proc/kcore); every one that does must read as empty inside.
    const present = MASKED_PATHS.filter((p) => existsSync(p));
    expect(present.length).toBeGreaterThan(0);
    expect((await readdir("/sys/firmware")).length).toBeGreaterThan(0); // control: not empty on the host
    const out = await collect(
      sh(
        `for p in ${present.join(" ")}; do if [ -d $p ]; then echo "$p $(ls -A $p | wc -l)"; ` +
          `else echo "$p $(cat $p | wc -c)"; fi; done; ` +
          "test -e /proc/kcore && echo \"/proc/kcore $(head -c 16 /proc/kcore | wc -c)\"; " +
          "awk '$5 == \"/proc/sys\" { split($6, o, \",\"); print o[1] }' /proc/self/mountinfo; " +
          "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo writable || echo refused",
      ),
    );
    const expected = present.map((p) => `${p} 0`);
    if (existsSync("/proc/kcore")) expected.push("/proc/kcore 0");
    expect(out.stdout).toBe(`${[...expected, "ro", "refused"].join("\n")}\n`);
  });

  it("provides /etc/hosts, /etc/resolv.conf and the hostname", async () => {
    const out = await collect(sh("hostname; cat /etc/hosts; grep -c nameserver /etc/resolv.conf", { hostname: "box1" }));
    const [hostname, ...rest] = out.stdout.split("\n");
    expect(hostname).toBe("box1");
    expect(rest.join("\n")).toContain("127.0.0.1\tlocalhost box1\n");
    expect(Number(rest.at(-2))).toBeGreaterThan(0);

    const custom = await collect(sh("cat /etc/hosts /etc/resolv.conf", { hostsFile: "10.0.0.1 h\n", resolvConf: "nameserver 10.0.0.2\n" }));
    expect(custom.stdout).toBe("10.0.0.1 h\nnameserver 10.0.0.2\n");
    const readonly = await collect(sh("echo x >> /etc/hosts 2>/dev/null && echo writable || echo refused"));
    expect(readonly.stdout).toBe("refused\n");
  });

  it("supports a read-only rootfs with bind and tmpfs mounts", async () => {
    const hostDir = await mkdtemp(join(tmpdir(), "tsbuild-bind-"));
    await writeFile(join(hostDir, "data.txt"), "bound\n");
    try {
      const out = await collect(
        sh(
          "touch /x 2>/dev/null && echo rw || echo ro; cat /mnt/data/data.txt; " +
            "touch /mnt/data/y 2>/dev/null && echo rw || echo ro; touch /scratch/z && echo rw; " +
            "touch /mnt/rw/z && echo rw",
          {
            readonlyRootfs: true,
            mounts: [
              { type: "bind", source: hostDir, destination: "/mnt/data", readonly: true },
              { type: "tmpfs", destination: "/scratch" },
              { type: "bind", source: hostDir, destination: "/mnt/rw" },
            ],
          },
        ),
      );
      expect(out.stdout).toBe("ro\nbound\nro\nrw\nrw\n");
      expect(existsSync(join(hostDir, "z"))).toBe(true);
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it("rejects with the runtime's message when the process cannot start", async () => {
    const err = await sandbox.run(spec({ args: ["/does-not-exist"] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("STEP_FAILED");
    expect((err as BuildError).message).toMatch(/does-not-exist/);
    const notFound = await sandbox.run(spec({ args: ["no-such-command"] })).catch((e: unknown) => e);
    expect((notFound as BuildError).message).toMatch(/executable file not found/);
  });

  it("leaves the rootfs as it found it: no mount stubs, no containers, no bundles", async () => {
    expect((await readdir(rootfs)).sort()).toEqual(initialRootEntries);
    expect((await readdir(join(rootfs, "etc"))).sort()).toEqual(["group", "passwd"]);
    expect(listContainers()).toEqual([]);
    expect(await readdir(join(stateDir, "bundles"))).toEqual([]);
  });

  it("cleanupStale deletes orphaned containers but not live ones", async () => {
    const root = runtimeStateRoot(stateDir);
    const startDetached = async (id: string, annotations: Record<string, string>): Promise<void> => {
      const bundle = join(stateDir, "bundles", id);
      await mkdir(bundle, { recursive: true });
      const config = buildOciSpec({
        spec: sh("sleep 60"),
        hostsPath: "/etc/hosts",
        resolvConfPath: "/etc/resolv.conf",
        cgroupsPath: `/tsbuild/${id}`,
        annotations,
      });
      await writeFile(join(bundle, "config.json"), JSON.stringify(config));
      execFileSync("runc", ["--root", root, "run", "--detach", "--bundle", bundle, id], { stdio: "ignore" });
    };
    // As left by a tsbuild killed with SIGKILL: its pid no longer matches.
    await startDetached("tsbuild-orphan", { "dev.tsbuild.owner.pid": "999999999", "dev.tsbuild.owner.start-time": "1" });
    await startDetached("tsbuild-live", ownerAnnotations(currentOwner()));
    await startDetached("not-ours", {});
    try {
      expect(await cleanupStale({ stateDir })).toEqual(["tsbuild-orphan"]);
      const ids = (listContainers() as Array<{ id: string }>).map((c) => c.id).sort();
      expect(ids).toEqual(["not-ours", "tsbuild-live"]);
      expect((await readdir(join(stateDir, "bundles"))).sort()).toEqual(["not-ours", "tsbuild-live"]);
      expect(await cleanupStale({ stateDir, includeLive: true })).toEqual(["tsbuild-live"]);
    } finally {
      execFileSync("runc", ["--root", root, "delete", "--force", "not-ours"]);
      execFileSync("runc", ["--root", root, "delete", "--force", "tsbuild-live"]);
      await rm(join(stateDir, "bundles", "not-ours"), { recursive: true, force: true });
    }
    expect(listContainers()).toEqual([]);
  });

  it("runs `true` quickly (median of 10 under 1 s)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await sandbox.run(spec({ args: ["/bin/true"] }));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = ((times[4] ?? 0) + (times[5] ?? 0)) / 2;
    expect(median).toBeLessThan(1000);
  });
});
