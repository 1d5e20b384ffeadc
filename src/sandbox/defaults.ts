import type { RuntimeDeviceRule, RuntimeMount, RuntimeRlimit } from "./runtime-spec.js";

/**
 * Default host name of a build container. BuildKit's, so that a build that
 * records `hostname` in its output produces the same bytes as with docker.
 */
export const DEFAULT_HOSTNAME = "buildkitsandbox";

/**
 * Paths under /proc and /sys that leak host information or offer a way to
 * poke the host kernel, hidden from the container (moby `oci/defaults.go`).
 * The runtime mounts /dev/null over files and an empty read-only tmpfs over
 * directories.
 */
export const MASKED_PATHS: readonly string[] = [
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
];

/**
 * /proc entries remounted read-only (moby `oci/defaults.go`): writing to them
 * would change host-wide kernel state, since /proc/sys and friends are not
 * namespaced.
 */
export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * The pseudo-filesystems every container gets, in mount order (BuildKit
 * `executor/oci/mounts.go`, with moby's options). /dev is a small tmpfs: the
 * runtime creates the OCI default device nodes in it (null, zero, full,
 * random, urandom, tty, ptmx), so no host /dev entry is exposed. /sys is
 * read-only so the container cannot reconfigure host devices.
 */
export function defaultMounts(): RuntimeMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  ];
}

/**
 * Device-cgroup rules: deny every device, then allow only the default nodes
 * the runtime creates, plus `mknod` of any node (Docker allows creating
 * device files in an image; using them still needs an allow rule). Without the
 * leading deny, a root process with CAP_MKNOD could create and open the host's
 * disks.
 */
export function defaultDeviceRules(): RuntimeDeviceRule[] {
  const allowChar = (major: number, minor?: number): RuntimeDeviceRule =>
    minor === undefined
      ? { allow: true, type: "c", major, access: "rwm" }
      : { allow: true, type: "c", major, minor, access: "rwm" };
  return [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", access: "m" },
    { allow: true, type: "b", access: "m" },
    allowChar(1, 3), // /dev/null
    allowChar(1, 5), // /dev/zero
    allowChar(1, 7), // /dev/full
    allowChar(1, 8), // /dev/random
    allowChar(1, 9), // /dev/urandom
    allowChar(5, 0), // /dev/tty
    allowChar(5, 1), // /dev/console
    allowChar(5, 2), // /dev/ptmx
    allowChar(136), // /dev/pts/*
  ];
}

/**
 * The open-files limit of the process: soft 1024 (what `select(2)` based
 * programs expect), hard `hardLimit`. Given the hard limit of tsbuild itself,
 * tools that raise their own soft limit (npm, cargo) still can; raising a hard
 * limit needs CAP_SYS_RESOURCE, which tsbuild may not have, so it is never
 * raised. Without a hard limit, 1024/1024 as containerd's default spec.
 */
export function nofileRlimit(hardLimit = 1024): RuntimeRlimit {
  const hard = Math.max(0, Math.floor(hardLimit));
  return { type: "RLIMIT_NOFILE", hard, soft: Math.min(1024, hard) };
}

/** The umask of the process: 022, so files a RUN step creates are 0644/0755 as in Docker. */
export const DEFAULT_UMASK = 0o022;
