/**
 * The subset of the OCI runtime-spec `config.json` that tsbuild writes. Field
 * names follow the spec exactly, since these objects are serialised as they
 * are. https://github.com/opencontainers/runtime-spec/blob/main/config.md
 */

/** A mount. https://github.com/opencontainers/runtime-spec/blob/main/config.md#mounts */
export interface RuntimeMount {
  /** Absolute path inside the container. */
  destination: string;
  /** Filesystem type (`proc`, `tmpfs`, `bind`...). */
  type: string;
  /** Device, host path or pseudo-filesystem name. */
  source: string;
  /** mount(8) options. */
  options?: string[];
}

/** Process identity. */
export interface RuntimeUser {
  /** User id. */
  uid: number;
  /** Primary group id. */
  gid: number;
  /** Supplementary group ids. */
  additionalGids?: number[];
  /** umask, as a number (0o022 is 18). */
  umask?: number;
}

/** Capability sets, each a list of `CAP_*` names. */
export interface RuntimeCapabilities {
  /** Bounding set: the ceiling for every other set, including after execve. */
  bounding?: string[];
  /** Effective set. */
  effective?: string[];
  /** Permitted set. */
  permitted?: string[];
  /** Inheritable set. */
  inheritable?: string[];
  /** Ambient set. */
  ambient?: string[];
}

/** A resource limit. */
export interface RuntimeRlimit {
  /** `RLIMIT_*` name. */
  type: string;
  /** Hard limit. */
  hard: number;
  /** Soft limit. */
  soft: number;
}

/** The container process. */
export interface RuntimeProcess {
  /** Allocate a pseudo-terminal. */
  terminal: boolean;
  /** Identity. */
  user: RuntimeUser;
  /** argv. */
  args: string[];
  /** `KEY=value` entries. */
  env: string[];
  /** Absolute working directory. */
  cwd: string;
  /** Capability sets. */
  capabilities?: RuntimeCapabilities;
  /** Resource limits. */
  rlimits?: RuntimeRlimit[];
  /** Set `PR_SET_NO_NEW_PRIVS`. */
  noNewPrivileges?: boolean;
}

/** A namespace to create (no `path`) or join (`path`). */
export interface RuntimeNamespace {
  /** Namespace type. */
  type: "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";
  /** Existing namespace to join. */
  path?: string;
}

/** One device-cgroup rule. */
export interface RuntimeDeviceRule {
  /** Allow or deny. */
  allow: boolean;
  /** `a` (all), `c` (char) or `b` (block); absent means all. */
  type?: "a" | "c" | "b";
  /** Major number; absent means any. */
  major?: number;
  /** Minor number; absent means any. */
  minor?: number;
  /** Some of `r`, `w`, `m` (mknod). */
  access?: string;
}

/** Linux-specific configuration. */
export interface RuntimeLinux {
  /** Namespaces to create or join. */
  namespaces: RuntimeNamespace[];
  /** Path of the container's cgroup (absolute: from the hierarchy root). */
  cgroupsPath?: string;
  /** Resource controls. */
  resources?: { devices?: RuntimeDeviceRule[] };
  /** Paths made unreadable (a file gets /dev/null mounted over it, a directory an empty read-only tmpfs). */
  maskedPaths?: string[];
  /** Paths remounted read-only. */
  readonlyPaths?: string[];
}

/** A complete runtime configuration (`config.json`). */
export interface RuntimeConfig {
  /** Runtime-spec version this document follows. */
  ociVersion: string;
  /** The process to run. */
  process: RuntimeProcess;
  /** Root filesystem. */
  root: { path: string; readonly?: boolean };
  /** Host name in the UTS namespace. */
  hostname?: string;
  /** Mounts, in mount order. */
  mounts: RuntimeMount[];
  /** Free-form metadata, visible to `runc list`/`runc state`. */
  annotations?: Record<string, string>;
  /** Linux-specific configuration. */
  linux: RuntimeLinux;
}
