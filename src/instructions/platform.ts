import { BuildError } from "../diagnostics/build-error.js";

/** A platform in OCI terms: `linux/amd64`, `linux/arm/v7`. */
export interface PlatformSpec {
  /** Operating system. */
  readonly os: string;
  /** Architecture in GOARCH terms. */
  readonly architecture: string;
  /** CPU variant (arm). */
  readonly variant?: string;
}

const NODE_TO_GOARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

/** The platform of the machine tsbuild runs on (always linux for builds). */
export function hostPlatform(arch: string = process.arch): PlatformSpec {
  const architecture = NODE_TO_GOARCH[arch] ?? arch;
  return architecture === "arm" ? { os: "linux", architecture, variant: "v7" } : { os: "linux", architecture };
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: PlatformSpec): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * Parses `os/arch[/variant]` (containerd's `platforms.Parse` for the common
 * forms; `arch` alone means linux/arch; `amd64/v1`-style aliases normalised).
 */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.toLowerCase().split("/");
  if (parts.some((p) => p === "") || parts.length > 3) {
    throw new BuildError("DF_ARGS", `invalid platform "${text}": expected os/arch[/variant]`, { hint: "for example linux/amd64 or linux/arm64" });
  }
  let [os, architecture, variant] = parts.length === 1 ? ["linux", parts[0]!, undefined] : [parts[0]!, parts[1]!, parts[2]];
  if (architecture === "x86_64" || architecture === "x86-64") architecture = "amd64";
  if (architecture === "aarch64") architecture = "arm64";
  if (architecture === "arm64" && variant === "v8") variant = undefined;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  if (architecture === "arm" && variant === undefined) variant = "v7";
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * BuildKit's automatic platform ARGs: defined in the global scope without
 * declaration, visible inside a stage only after `ARG NAME`.
 */
export function platformArgs(target: PlatformSpec, build: PlatformSpec): Map<string, string> {
  return new Map([
    ["TARGETPLATFORM", formatPlatform(target)],
    ["TARGETOS", target.os],
    ["TARGETARCH", target.architecture],
    ["TARGETVARIANT", target.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(build)],
    ["BUILDOS", build.os],
    ["BUILDARCH", build.architecture],
    ["BUILDVARIANT", build.variant ?? ""],
  ]);
}

/**
 * Predefined proxy ARGs: usable in RUN without an ARG declaration when passed
 * with --build-arg, and kept out of image history and cache keys unless a
 * Dockerfile declares them (BuildKit excludes them from the exec cache key).
 */
export const PROXY_ARGS: ReadonlySet<string> = new Set(
  ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((k) => [k, k.toLowerCase()]),
);

/** True for build args BuildKit itself understands (`BUILDKIT_*`, `SOURCE_DATE_EPOCH`): never "unused". */
export function isBuilderArg(name: string): boolean {
  return name.startsWith("BUILDKIT_") || name === "SOURCE_DATE_EPOCH";
}
