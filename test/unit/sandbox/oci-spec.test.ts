import { describe, expect, it } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import {
  DEFAULT_CAPABILITIES,
  MASKED_PATHS,
  READONLY_PATHS,
  buildOciSpec,
  type OciSpecInput,
  type ProcessSpec,
} from "../../../src/sandbox/index.js";

const FIXTURES = "../../../fixtures/oci/runtime-spec";

function processSpec(overrides: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    rootfs: "/var/lib/tsbuild/snapshots/42/fs",
    args: ["/bin/sh", "-c", "apk add --no-cache curl"],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    cwd: "/",
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: "buildkitsandbox",
    network: "none",
    ...overrides,
  };
}

function input(spec: ProcessSpec, overrides: Partial<OciSpecInput> = {}): OciSpecInput {
  const id = "tsbuild-0123456789abcdef";
  return {
    spec,
    hostsPath: `/var/lib/tsbuild/state/bundles/${id}/hosts`,
    resolvConfPath: `/var/lib/tsbuild/state/bundles/${id}/resolv.conf`,
    cgroupsPath: `/tsbuild/${id}`,
    annotations: { "dev.tsbuild.owner.pid": "4242", "dev.tsbuild.owner.start-time": "1234567" },
    ...overrides,
  };
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

describe("buildOciSpec goldens", () => {
  it("network none, root", async () => {
    await expect(json(buildOciSpec(input(processSpec())))).toMatchFileSnapshot(`${FIXTURES}/network-none.json`);
  });

  it("network host", async () => {
    const spec = processSpec({ network: "host", hostname: "builder-1", args: ["/bin/sh", "-c", "wget -qO- example.com"] });
    await expect(json(buildOciSpec(input(spec, { nofileHardLimit: 1048576 })))).toMatchFileSnapshot(
      `${FIXTURES}/network-host.json`,
    );
  });

  it("USER 1000 with supplementary groups, mounts and a read-only rootfs", async () => {
    const spec = processSpec({
      args: ["/bin/sh", "-c", "make -C /src"],
      env: ["PATH=/usr/bin:/bin", "HOME=/home/builder"],
      cwd: "/src/build/",
      user: { uid: 1000, gid: 1000, additionalGids: [10, 29] },
      readonlyRootfs: true,
      mounts: [
        { type: "bind", source: "/var/lib/tsbuild/cache/go", destination: "/root/.cache/go-build" },
        { type: "tmpfs", destination: "/tmp", options: ["size=64m"] },
        { type: "bind", source: "/var/lib/tsbuild/context", destination: "/src", readonly: true },
      ],
    });
    await expect(json(buildOciSpec(input(spec, { nofileHardLimit: 20000 })))).toMatchFileSnapshot(
      `${FIXTURES}/user-1000.json`,
    );
  });
});

describe("buildOciSpec", () => {
  it("gives Docker's default capabilities in bounding, effective and permitted only", () => {
    const { capabilities } = buildOciSpec(input(processSpec())).process;
    const docker = [
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_FSETID",
      "CAP_FOWNER",
      "CAP_MKNOD",
      "CAP_NET_RAW",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETFCAP",
      "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",
      "CAP_SYS_CHROOT",
      "CAP_KILL",
      "CAP_AUDIT_WRITE",
    ];
    expect(DEFAULT_CAPABILITIES).toEqual(docker);
    expect(capabilities).toEqual({ bounding: docker, effective: docker, permitted: docker });
  });

  it("replaces the capability set when overridden, normalising names", () => {
    const spec = processSpec({ capabilities: ["chown", "CAP_SYS_ADMIN", "SYS_ADMIN"] });
    expect(buildOciSpec(input(spec)).process.capabilities?.effective).toEqual(["CAP_CHOWN", "CAP_SYS_ADMIN"]);
    expect(buildOciSpec(input(processSpec({ capabilities: [] }))).process.capabilities?.bounding).toEqual([]);
    const err = (() => {
      try {
        return buildOciSpec(input(processSpec({ capabilities: ["CAP_FLY"] })));
      } catch (e) {
        return e;
      }
    })();
    expect(isBuildError(err, "INTERNAL")).toBe(true);
  });

  it("creates a network namespace unless the network is host", () => {
    const types = (spec: ProcessSpec) => buildOciSpec(input(spec)).linux.namespaces.map((n) => n.type);
    expect(types(processSpec())).toEqual(["pid", "ipc", "uts", "mount", "network"]);
    expect(types(processSpec({ network: "host" }))).toEqual(["pid", "ipc", "uts", "mount"]);
  });

  it("masks Docker's paths and makes Docker's /proc paths read-only", () => {
    const { linux } = buildOciSpec(input(processSpec()));
    expect(linux.maskedPaths).toEqual([
      "/proc/asound",
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
    ]);
    expect(linux.maskedPaths).toEqual(MASKED_PATHS);
    expect(linux.readonlyPaths).toEqual(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
    expect(linux.readonlyPaths).toEqual(READONLY_PATHS);
    expect(linux.resources?.devices?.[0]).toEqual({ allow: false, access: "rwm" });
  });

  it("sets no_new_privs, the user, the rlimit and the hostname", () => {
    const config = buildOciSpec(input(processSpec({ hostname: "h" }), { nofileHardLimit: 20000 }));
    expect(config.process.noNewPrivileges).toBe(true);
    expect(config.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 20000, soft: 1024 }]);
    expect(config.hostname).toBe("h");
    expect(config.process.terminal).toBe(false);
    expect(buildOciSpec(input(processSpec({ noNewPrivileges: false }))).process.noNewPrivileges).toBe(false);
    expect(buildOciSpec(input(processSpec())).process.rlimits).toEqual([
      { type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 },
    ]);
  });

  it("bind-mounts the generated hosts and resolv.conf read-only", () => {
    const mounts = buildOciSpec(input(processSpec())).mounts;
    const hosts = mounts.find((m) => m.destination === "/etc/hosts");
    expect(hosts).toEqual({
      destination: "/etc/hosts",
      type: "bind",
      source: "/var/lib/tsbuild/state/bundles/tsbuild-0123456789abcdef/hosts",
      options: ["rbind", "ro", "nosuid", "noexec", "nodev"],
    });
    expect(mounts.find((m) => m.destination === "/etc/resolv.conf")?.options).toContain("ro");
  });

  it("lets a caller's mount replace a default one and orders parents before children", () => {
    const spec = processSpec({
      mounts: [
        { type: "bind", source: "/host/a/b", destination: "/a/b/" },
        { type: "bind", source: "/host/a", destination: "/a" },
        { type: "bind", source: "/host/hosts", destination: "/etc/hosts", readonly: true },
      ],
    });
    const mounts = buildOciSpec(input(spec)).mounts;
    const destinations = mounts.map((m) => m.destination);
    expect(destinations.filter((d) => d === "/etc/hosts")).toHaveLength(1);
    expect(mounts.find((m) => m.destination === "/etc/hosts")?.source).toBe("/host/hosts");
    expect(destinations.indexOf("/a")).toBeLessThan(destinations.indexOf("/a/b"));
    expect(destinations.indexOf("/dev")).toBeLessThan(destinations.indexOf("/dev/pts"));
  });

  it("is pure: the same input gives equal, independent objects", () => {
    const i = input(processSpec());
    const a = buildOciSpec(i);
    const b = buildOciSpec(i);
    expect(a).toEqual(b);
    a.process.args.push("mutated");
    a.linux.maskedPaths?.push("/mutated");
    expect(buildOciSpec(i)).toEqual(b);
  });

  it("rejects specs no runtime could run", () => {
    const fails = (spec: ProcessSpec) => {
      try {
        buildOciSpec(input(spec));
        return undefined;
      } catch (err) {
        return err;
      }
    };
    expect(isBuildError(fails(processSpec({ args: [] })), "INTERNAL")).toBe(true);
    expect(isBuildError(fails(processSpec({ cwd: "relative" })), "INTERNAL")).toBe(true);
    expect(isBuildError(fails(processSpec({ mounts: [{ type: "bind", destination: "/x" }] })), "INTERNAL")).toBe(true);
    expect(isBuildError(fails(processSpec({ mounts: [{ type: "tmpfs", destination: "/" }] })), "INTERNAL")).toBe(true);
    expect(isBuildError(fails(processSpec({ mounts: [{ type: "tmpfs", destination: "x" }] })), "INTERNAL")).toBe(true);
    expect(
      isBuildError(fails(processSpec({ user: { uid: -1, gid: 0, additionalGids: [] } })), "INTERNAL"),
    ).toBe(true);
  });
});
