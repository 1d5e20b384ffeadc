import { createHash } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { describe, expect, test } from "vitest";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { hostGoArch, type TestImage } from "../../helpers/busybox-image.js";
import { skopeoPush } from "../../helpers/skopeo.js";
import { makeContext, runTsbuild, stepsBy } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A one-layer image whose layer holds the given tar entries (names as written, escapes included). */
async function imageWithEntries(entries: { name: string; type?: "file" | "symlink"; linkname?: string; content?: string }[]): Promise<TestImage> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const e of entries) {
    if (e.type === "symlink") pack.entry({ name: e.name, type: "symlink", linkname: e.linkname! });
    else pack.entry({ name: e.name, mode: 0o644 }, e.content ?? "x");
  }
  pack.finalize();
  await done;
  const tarBytes = Buffer.concat(chunks);
  const layerBytes = gzipSync(tarBytes);
  const layer = { descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(layerBytes), size: layerBytes.length }, bytes: layerBytes, diffId: sha(tarBytes) };
  const config = { architecture: hostGoArch(), os: "linux", config: {}, rootfs: { type: "layers" as const, diff_ids: [layer.diffId] } };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configBlob = { descriptor: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(configBytes), size: configBytes.length }, bytes: configBytes };
  const manifest = { schemaVersion: 2 as const, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configBlob.descriptor, layers: [layer.descriptor] };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest,
    manifestBlob: { descriptor: { mediaType: manifest.mediaType, digest: sha(manifestBytes), size: manifestBytes.length }, bytes: manifestBytes },
    config,
    configBlob,
    layers: [layer],
    blobs: new Map([
      [configBlob.descriptor.digest, configBytes],
      [layer.descriptor.digest, layerBytes],
    ]),
  };
}

describe("base images", () => {
  test("ONBUILD triggers of a base image run first in the child, and the child does not pass them on", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const env = { TSBUILD_ROOT: root };
    const parent = makeContext({ Dockerfile: `FROM ${fixture.base}\nONBUILD COPY marker.txt /from-child-context\nONBUILD RUN echo trigger ran > /trigger\n` });
    expect((await runTsbuild(["build", "-t", "parent:1", "."], { cwd: parent, env })).code).toBe(0);
    const child = makeContext({ Dockerfile: "FROM parent:1\nRUN cat /trigger /from-child-context > /both\n", "marker.txt": "child context\n" });
    const r = await runTsbuild(["build", "--progress=rawjson", "-t", "child:1", "-o", "type=image", "-o", "type=local,dest=out", "."], { cwd: child, env });
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    expect(stepsBy(r.events).ran).toHaveLength(3);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(child, "out/both"), "utf8")).toBe("trigger ran\nchild context\n");
    const inspect = JSON.parse((await runTsbuild(["inspect", "child:1"], { cwd: child, env })).stdout);
    expect(inspect.config.config.OnBuild ?? null).toBe(null);
  });

  test("a base image that cannot be pulled fails at the instruction that names it, with the registry's answer", async () => {
    const missing = `${fixture.registry.host}/no/such-base:1`;
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base} AS ok\nRUN true\nFROM ok\nCOPY --from=${missing} /x /x\n` });
    const r = await runTsbuild(["build", "."], { cwd: ctx, env: { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Dockerfile:4:1: ${missing}: pull access denied for ${fixture.registry.host}/no/such-base: 404 Not Found: NAME_UNKNOWN`);
    expect(r.stderr).toContain(`4 | >>> COPY --from=${missing} /x /x`);
  });

  test("ONBUILD in a stage runs first in a later stage built FROM it (BuildKit's dispatchOnBuildTriggers), and is not passed on", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const env = { TSBUILD_ROOT: root };
    const ctx = makeContext({
      Dockerfile: `FROM ${fixture.base} AS parent\nONBUILD RUN echo trigger ran > /trigger\nRUN test ! -e /trigger\nFROM parent\nRUN cat /trigger > /seen\n`,
    });
    const r = await runTsbuild(["build", "--progress=rawjson", "-t", "stagechild:1", "-o", "type=image", "-o", "type=local,dest=out", "."], { cwd: ctx, env });
    expect(r.code, r.stderr).toBe(0);
    expect(stepsBy(r.events).ran).toEqual([expect.stringContaining("test ! -e /trigger"), expect.stringContaining("echo trigger ran"), expect.stringContaining("cat /trigger")]);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(ctx, "out/seen"), "utf8")).toBe("trigger ran\n");
    const inspect = JSON.parse((await runTsbuild(["inspect", "stagechild:1"], { cwd: ctx, env })).stdout);
    expect(inspect.config.config.OnBuild ?? null).toBe(null);
  });

  test.each([
    ["a path climbing out of the layer", [{ name: `../../../../../../tmp/tsb-escape-${process.pid}` }], `/tmp/tsb-escape-${process.pid}`],
    [
      "a file written through a symlink pointing out",
      [{ name: "out", type: "symlink" as const, linkname: "/tmp" }, { name: `out/tsb-escape2-${process.pid}` }],
      `/tmp/tsb-escape2-${process.pid}`,
    ],
  ])("a malicious base layer (%s) is refused, and nothing is written outside the store", async (_what, entries, outside) => {
    const image = await imageWithEntries(entries);
    const repo = `evil${Math.random().toString(36).slice(2, 8)}`;
    await skopeoPush(image, { host: fixture.registry.host, repository: repo, tag: "1" });
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.registry.host}/${repo}:1\nRUN true\n` });
    const r = await runTsbuild(["build", "."], { cwd: ctx, env: { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/layer entry .*(escape|outside|symlink|\.\.)/i);
    expect(existsSync(outside)).toBe(false);
  });
});
