
export { formatPlatform, hostPlatform, parsePlatform, type PlatformSpec } from "../oci/platform.js";
import { formatPlatform, type PlatformSpec } from "../oci/platform.js";

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
