/**
 * Platforms as tsbuild names and compares them: OS, GOARCH architecture and
 * optional variant, normalised the way containerd does
 * (github.com/containerd/platforms), and this machine's platform. Shared by
 * the frontend (TARGETPLATFORM and friends), builds and pulls.
 */
import { BuildError } from "../diagnostics/build-error.js";

/** A platform as tsbuild compares them: OS, GOARCH architecture, optional variant. */
export interface PlatformSpec {
  /** Operating system, e.g. `linux`. */
  readonly os: string;
  /** CPU architecture in GOARCH terms, e.g. `amd64`, `arm64`, `arm`. */
  readonly architecture: string;
  /** CPU variant, e.g. `v7` for arm; absent when the architecture has none. */
  readonly variant?: string | undefined;
}

/** Node's `process.arch` names → GOARCH names (what image configs and indexes use). */
const NODE_TO_GOARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

/**
 * The platform of this machine: linux (images are Linux images whatever
 * the host) and the GOARCH of `arch` (default `process.arch`). On 32-bit arm
 * the variant comes from the CPU Node was built for (`arm_version`),
 * defaulting to v7 as containerd does.
 */
export function hostPlatform(arch: string = process.arch): PlatformSpec {
  const architecture = NODE_TO_GOARCH[arch] ?? arch;
  if (architecture === "arm") {
    const v = (process.config.variables as Record<string, unknown>)["arm_version"];
    const variant = typeof v === "string" && /^[5-8]$/.test(v) ? `v${v}` : "v7";
    return { os: "linux", architecture, variant };
  }
  return { os: "linux", architecture };
}

/**
 * containerd's `normalizeArch`: canonical architecture and variant names,
 * so that `aarch64`, `arm64/v8` and `arm64` compare equal.
 */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  const os = p.os.toLowerCase() === "macos" ? "darwin" : p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant: string | undefined = p.variant?.toLowerCase();
  if (variant === "") variant = undefined;
  switch (architecture) {
    case "i386":
      architecture = "386";
      variant = undefined;
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = undefined;
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = undefined;
      else if (variant === "9" || variant === "9.0" || variant === "v9.0") variant = "v9";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === undefined || variant === "7") variant = "v7";
      else if (variant === "5" || variant === "6" || variant === "8") variant = `v${variant}`;
      break;
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * Parses `os/arch[/variant]` (or `arch` alone, meaning linux) as given to
 * `--platform`, normalised.
 *
 * @throws BuildError CLI_USAGE for anything else.
 */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.trim().split("/");
  if (parts.length > 3 || parts.some((p) => p === "" || !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new BuildError("CLI_USAGE", `invalid platform "${text}": expected os/arch[/variant]`, {
      hint: "for example linux/amd64, linux/arm64 or linux/arm/v7",
    });
  }
  const [a = "", b, c] = parts;
  return normalizePlatform(b === undefined ? { os: "linux", architecture: a } : { os: a, architecture: b, variant: c });
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: PlatformSpec): string {
  return p.variant === undefined || p.variant === "" ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

