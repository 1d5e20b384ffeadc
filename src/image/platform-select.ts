/**
 * Choosing the manifest for a platform from an image index, the way
 * containerd does for `docker pull` (`platforms.Only` in
 * github.com/containerd/platforms): platforms are normalised first
 * (`aarch64` → `arm64`, `armhf` → `arm/v7`, `x86_64` → `amd64`...), then an
 * index entry matches when OS, architecture and variant are equal, and a
 * CPU that can run older variants also accepts those, best first:
 * `arm/v8` then `v7`, `v6`, `v5`; `arm64` then `arm/v8` ... `arm/v5`;
 * `amd64/v3` then `v2`, `v1`; and `amd64` then `386`. The best-ranked
 * match wins; among equals, the first in the index.
 */
import { BuildError } from "../diagnostics/build-error.js";
import type { Descriptor, Platform } from "../oci/types.js";

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
export function parsePlatformSpec(text: string): PlatformSpec {
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
export function formatPlatformSpec(p: PlatformSpec): string {
  return p.variant === undefined || p.variant === "" ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/**
 * containerd's `platformVector`: `p` followed by the platforms a machine of
 * platform `p` can also run, best first.
 */
export function compatiblePlatforms(p: PlatformSpec): PlatformSpec[] {
  const n = normalizePlatform(p);
  const vector: PlatformSpec[] = [n];
  const version = (v: string | undefined): number => Number.parseInt((v ?? "").replace(/^v/, ""), 10);
  switch (n.architecture) {
    case "amd64": {
      const v = version(n.variant);
      for (let i = Number.isFinite(v) ? v - 1 : 0; i >= 1; i--) {
        vector.push(i === 1 ? { os: n.os, architecture: "amd64" } : { os: n.os, architecture: "amd64", variant: `v${i}` });
      }
      vector.push({ os: n.os, architecture: "386" });
      break;
    }
    case "arm": {
      const v = version(n.variant);
      for (let i = Number.isFinite(v) ? v - 1 : 0; i >= 5; i--) vector.push({ os: n.os, architecture: "arm", variant: `v${i}` });
      break;
    }
    case "arm64":
      vector.push(...compatiblePlatforms({ os: n.os, architecture: "arm", variant: n.variant ?? "v8" }));
      break;
  }
  return vector;
}

/** True when the two platforms are the same after normalisation. */
export function samePlatform(a: PlatformSpec, b: PlatformSpec): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? "") === (y.variant ?? "");
}

/**
 * How well an image for platform `candidate` suits a machine of platform
 * `wanted`: 0 for an exact match, higher for older compatible variants,
 * undefined when it cannot run there.
 */
export function platformRank(wanted: PlatformSpec, candidate: PlatformSpec): number | undefined {
  const i = compatiblePlatforms(wanted).findIndex((p) => samePlatform(p, candidate));
  return i < 0 ? undefined : i;
}

/** The platforms of an index's entries, for error messages. */
function describeEntries(entries: readonly Descriptor[]): string {
  const names = entries.filter((d) => d.platform !== undefined).map((d) => formatPlatformSpec(d.platform as Platform));
  return names.length === 0 ? "none" : [...new Set(names)].join(", ");
}

/**
 * The index entry to pull for `wanted`: the best-ranked match (first in
 * index order among equals). Entries without a platform are not chosen:
 * their platform is unknown until their config is read, and registries put
 * attestations and signatures there.
 *
 * @throws BuildError MANIFEST_INVALID naming the wanted and the available platforms when nothing matches.
 */
export function selectManifest(entries: readonly Descriptor[], wanted: PlatformSpec, what: string): Descriptor {
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const entry of entries) {
    if (entry.platform === undefined || typeof entry.platform.os !== "string" || typeof entry.platform.architecture !== "string") continue;
    const rank = platformRank(wanted, entry.platform);
    if (rank !== undefined && rank < bestRank) {
      best = entry;
      bestRank = rank;
    }
  }
  if (best === undefined) {
    throw new BuildError("MANIFEST_INVALID", `no matching manifest for ${formatPlatformSpec(wanted)} in the manifest list entries of ${what}`, {
      hint: `the image is available for: ${describeEntries(entries)}; choose one with --platform`,
    });
  }
  return best;
}
