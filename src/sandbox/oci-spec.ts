import { posix } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { DEFAULT_CAPABILITIES, normalizeCapabilities } from "./capabilities.js";
import {
  DEFAULT_UMASK,
  MASKED_PATHS,
  READONLY_PATHS,
  defaultDeviceRules,
  defaultMounts,
  nofileRlimit,
} from "./defaults.js";
import type { RuntimeConfig, RuntimeMount, RuntimeNamespace } from "./runtime-spec.js";
import type { ProcessSpec, SandboxMount } from "./sandbox.js";

/** The runtime-spec version tsbuild's `config.json` follows (runc >= 1.1 reads it). */
export const OCI_RUNTIME_VERSION = "1.0.2";

/** Input of {@link buildOciSpec}: the process plus what the sandbox prepared for it. */
export interface OciSpecInput {
  /** The process to run. */
  readonly spec: ProcessSpec;
  /** Host path of the file bind-mounted read-only on `/etc/hosts`. */
  readonly hostsPath: string;
  /** Host path of the file bind-mounted read-only on `/etc/resolv.conf`. */
  readonly resolvConfPath: string;
  /** cgroup of the container; unique per run so that runs never share accounting or a freezer. */
  readonly cgroupsPath: string;
  /** Annotations to record (visible in `runc list`), e.g. who owns the container. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Hard open-files limit to give the process (see {@link nofileRlimit}); 1024 when absent. */
  readonly nofileHardLimit?: number;
}

/**
 * Builds the OCI runtime `config.json` for one RUN step. Pure: same input,
 * same object, no I/O, so it can be checked against golden files.
 *
 * The result is Docker's default confinement: new pid, ipc, uts and mount
 * namespaces (and network, unless `host`), Docker's capability set, masked
 * and read-only /proc paths, a device-cgroup allow list, `no_new_privs`.
 */
export function buildOciSpec(input: OciSpecInput): RuntimeConfig {
  const { spec } = input;
  if (spec.args.length === 0) {
    throw new BuildError("INTERNAL", "cannot run a process without arguments");
  }
  if (!posix.isAbsolute(spec.cwd)) {
    throw new BuildError("INTERNAL", `working directory ${JSON.stringify(spec.cwd)} is not absolute`);
  }
  const capabilities =
    spec.capabilities === undefined ? [...DEFAULT_CAPABILITIES] : normalizeCapabilities(spec.capabilities);

  const namespaces: RuntimeNamespace[] = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  // Without its own network namespace the process shares the host's
  // interfaces; with one it only has a loopback device that the runtime
  // brings up, so there is no route out.
  if (spec.network !== "host") namespaces.push({ type: "network" });

  const config: RuntimeConfig = {
    ociVersion: OCI_RUNTIME_VERSION,
    process: {
      terminal: false,
      user: {
        uid: checkId(spec.user.uid, "uid"),
        gid: checkId(spec.user.gid, "gid"),
        additionalGids: spec.user.additionalGids.map((g) => checkId(g, "gid")),
        umask: DEFAULT_UMASK,
      },
      args: [...spec.args],
      env: [...spec.env],
      cwd: cleanPath(spec.cwd),
      // Inheritable and ambient stay empty: since CVE-2022-24769 runtimes must
      // not let capabilities survive an execve of a non-root program.
      capabilities: {
        bounding: [...capabilities],
        effective: [...capabilities],
        permitted: [...capabilities],
      },
      rlimits: [nofileRlimit(input.nofileHardLimit)],
      noNewPrivileges: spec.noNewPrivileges ?? true,
    },
    root: { path: spec.rootfs, readonly: spec.readonlyRootfs ?? false },
    hostname: spec.hostname,
    mounts: buildMounts(input),
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: { devices: defaultDeviceRules() },
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
  if (input.annotations !== undefined && Object.keys(input.annotations).length > 0) {
    config.annotations = { ...input.annotations };
  }
  return config;
}

/** Default mounts, /etc/hosts and /etc/resolv.conf, then the caller's, ordered parents first. */
function buildMounts(input: OciSpecInput): RuntimeMount[] {
  // Read-only, like BuildKit: a RUN step cannot edit the files the sandbox
  // generated, and nothing it writes there can end up in the layer.
  const etcOptions = ["rbind", "ro", "nosuid", "noexec", "nodev"];
  let mounts: RuntimeMount[] = [
    ...defaultMounts(),
    { destination: "/etc/resolv.conf", type: "bind", source: input.resolvConfPath, options: [...etcOptions] },
    { destination: "/etc/hosts", type: "bind", source: input.hostsPath, options: [...etcOptions] },
  ];
  for (const m of input.spec.mounts ?? []) {
    const converted = convertMount(m);
    // A caller's mount replaces a default one on the same path instead of
    // being mounted over it (BuildKit's dedupMounts).
    mounts = mounts.filter((existing) => existing.destination !== converted.destination);
    mounts.push(converted);
  }
  // Parents before children (Docker's sortMounts): otherwise a mount on /a
  // made after one on /a/b would hide it. Array.prototype.sort is stable.
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

function convertMount(m: SandboxMount): RuntimeMount {
  if (!posix.isAbsolute(m.destination)) {
    throw new BuildError("INTERNAL", `mount destination ${JSON.stringify(m.destination)} is not absolute`);
  }
  const destination = cleanPath(m.destination);
  if (destination === "/") {
    throw new BuildError("INTERNAL", "cannot mount over the root filesystem");
  }
  const extra = [...(m.options ?? [])];
  if (m.type === "bind") {
    if (m.source === undefined || !posix.isAbsolute(m.source)) {
      throw new BuildError("INTERNAL", `bind mount on ${destination} needs an absolute source path`);
    }
    return { destination, type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw", ...extra] };
  }
  // nosuid/nodev: a scratch tmpfs must not become a way to run setuid or
  // device files that the process created itself.
  return {
    destination,
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "nodev", ...(m.readonly ? ["ro"] : []), ...extra],
  };
}

/** Normalised absolute path without a trailing slash (`/a/./b/` is `/a/b`). */
function cleanPath(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized;
}

function depth(destination: string): number {
  return posix.normalize(destination).split("/").length;
}

function checkId(id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new BuildError("INTERNAL", `invalid ${what} ${id}`);
  }
  return id;
}
