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
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, type PlatformSpec } from "../oci/platform.js";
import type { Descriptor, Platform } from "../oci/types.js";

export { hostPlatform, normalizePlatform, parsePlatform, formatPlatform, type PlatformSpec };

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
  const names = entries.filter((d) => d.platform !== undefined).map((d) => formatPlatform(d.platform as Platform));
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
    throw new BuildError("MANIFEST_INVALID", `no matching manifest for ${formatPlatform(wanted)} in the manifest list entries of ${what}`, {
      hint: `the image is available for: ${describeEntries(entries)}; choose one with --platform`,
    });
  }
  return best;
}
