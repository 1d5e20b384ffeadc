/**
 * Platform matching for pulls from an index, against containerd's rules
 * (github.com/containerd/platforms: `Normalize`, `Only`, `platformVector`).
 * Pure functions; kept with the pull tests they serve.
 */
import { describe, expect, test } from "vitest";
import {
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformRank,
  selectManifest,
} from "../../../src/image/platform-select.js";
import type { Descriptor } from "../../../src/oci/types.js";

const entry = (n: number, os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${String(n).padStart(64, "0")}`,
  size: 100,
  platform: variant === undefined ? { os, architecture } : { os, architecture, variant },
});

describe("normalisation", () => {
  test.each([
    ["linux/x86_64", "linux/amd64"],
    ["linux/x86-64", "linux/amd64"],
    ["linux/amd64/v1", "linux/amd64"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/arm64/8", "linux/arm64"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/7", "linux/arm/v7"],
    ["linux/arm/6", "linux/arm/v6"],
    ["linux/i386", "linux/386"],
    ["LINUX/AMD64", "linux/amd64"],
    ["arm64", "linux/arm64"],
    ["macos/arm64", "darwin/arm64"],
  ])("%s → %s", (input, expected) => {
    expect(formatPlatform(parsePlatform(input))).toBe(expected);
  });

  test("rejects malformed platforms as usage errors", () => {
    for (const bad of ["", "linux/", "/amd64", "a/b/c/d", "linux/am d64"]) {
      expect(() => parsePlatform(bad)).toThrow(expect.objectContaining({ code: "CLI_USAGE" }));
    }
  });

  test("the host platform is linux with a GOARCH name", () => {
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(hostPlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(hostPlatform("ia32")).toEqual({ os: "linux", architecture: "386" });
    expect(hostPlatform("arm").variant).toMatch(/^v[5-8]$/);
    expect(normalizePlatform({ os: "linux", architecture: "arm64", variant: "" })).toEqual({ os: "linux", architecture: "arm64" });
  });
});

describe("compatibility vectors (containerd's platformVector)", () => {
  const names = (p: string): string[] => compatiblePlatforms(parsePlatform(p)).map(formatPlatform);
  test("arm variants run older variants, best first", () => {
    expect(names("linux/arm/v8")).toEqual(["linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    expect(names("linux/arm/v7")).toEqual(["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    expect(names("linux/arm/v5")).toEqual(["linux/arm/v5"]);
  });
  test("arm64 falls back to 32-bit arm", () => {
    expect(names("linux/arm64")).toEqual(["linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
  });
  test("amd64 microarchitecture levels, then 386", () => {
    expect(names("linux/amd64/v3")).toEqual(["linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"]);
    expect(names("linux/amd64")).toEqual(["linux/amd64", "linux/386"]);
  });
  test("ranks", () => {
    const arm7 = parsePlatform("linux/arm/v7");
    expect(platformRank(arm7, { os: "linux", architecture: "arm", variant: "v7" })).toBe(0);
    expect(platformRank(arm7, { os: "linux", architecture: "arm", variant: "v6" })).toBe(1);
    expect(platformRank(arm7, { os: "linux", architecture: "arm", variant: "v8" })).toBeUndefined();
    expect(platformRank(arm7, { os: "windows", architecture: "arm", variant: "v7" })).toBeUndefined();
  });
});

describe("selectManifest", () => {
  const index = [
    entry(1, "linux", "amd64"),
    entry(2, "linux", "arm", "v6"),
    entry(3, "linux", "arm", "v7"),
    entry(4, "linux", "arm64", "v8"),
    entry(5, "windows", "amd64"),
    entry(6, "unknown", "unknown"),
  ];
  test("exact matches win, variants normalised", () => {
    expect(selectManifest(index, parsePlatform("linux/amd64"), "x").digest).toBe(index[0]?.digest);
    expect(selectManifest(index, parsePlatform("linux/arm64"), "x").digest).toBe(index[3]?.digest);
    expect(selectManifest(index, parsePlatform("linux/arm/v7"), "x").digest).toBe(index[2]?.digest);
    expect(selectManifest(index, parsePlatform("windows/amd64"), "x").digest).toBe(index[4]?.digest);
  });
  test("a newer CPU takes the best older variant", () => {
    expect(selectManifest(index, parsePlatform("linux/arm/v8"), "x").digest).toBe(index[2]?.digest);
    const only6 = [entry(1, "linux", "amd64"), entry(2, "linux", "arm", "v6")];
    expect(selectManifest(only6, parsePlatform("linux/arm64"), "x").digest).toBe(only6[1]?.digest);
    expect(selectManifest([entry(7, "linux", "386")], parsePlatform("linux/amd64"), "x").digest).toBe(entry(7, "linux", "386").digest);
  });
  test("entries without a platform (attestations) are never chosen; no match names what exists", () => {
    const noPlatform: Descriptor = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"9".repeat(64)}`, size: 1 };
    const err = (() => {
      try {
        selectManifest([noPlatform, entry(2, "linux", "s390x")], parsePlatform("linux/amd64"), "reg/x:1");
      } catch (e) {
        return e as Error & { code: string; hint?: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe("MANIFEST_INVALID");
    expect(err?.message).toBe("no matching manifest for linux/amd64 in the manifest list entries of reg/x:1");
    expect(err?.hint).toContain("linux/s390x");
  });
});
