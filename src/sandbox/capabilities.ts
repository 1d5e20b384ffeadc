import { BuildError } from "../diagnostics/build-error.js";

/**
 * Linux capability names, indexed by capability number (see
 * capabilities(7)). The index matters: it is the bit in `/proc/<pid>/status`
 * `CapEff` and friends.
 */
export const CAPABILITY_NAMES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/**
 * Docker's default capability set for containers (moby `oci/defaults.go`
 * `DefaultCapabilities`), in Docker's order. Everything else, notably
 * CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_SYS_PTRACE, is dropped: those are the
 * capabilities that let a root process escape or reconfigure the host.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
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

/**
 * Normalises capability names to the `CAP_*` upper-case form, dropping
 * duplicates while keeping order. Throws an `INTERNAL` BuildError for a name
 * that is no Linux capability: an unknown name is a caller bug, and runtimes
 * differ on whether they ignore or reject it.
 */
export function normalizeCapabilities(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    const upper = raw.trim().toUpperCase();
    const name = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
    if (!CAPABILITY_NAMES.includes(name)) {
      throw new BuildError("INTERNAL", `unknown capability ${JSON.stringify(raw)}`, {
        hint: "capability names are those of capabilities(7), e.g. CAP_NET_ADMIN or NET_ADMIN",
      });
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * The bit mask of a capability set, as the 16-hex-digit string the kernel
 * prints in `/proc/<pid>/status` (`CapEff: 00000000a80425fb` for Docker's
 * default set).
 */
export function capabilityMask(names: readonly string[]): string {
  let mask = 0n;
  for (const name of normalizeCapabilities(names)) {
    mask |= 1n << BigInt(CAPABILITY_NAMES.indexOf(name));
  }
  return mask.toString(16).padStart(16, "0");
}
