/**
 * Archives from `tsbuild save` read by independent implementations, and
 * theirs read by `tsbuild load`:
 * - umoci (Debian's) unpacks the extracted OCI layout into a bundle whose
 *   rootfs has the busybox binary;
 * - skopeo inspects `oci-archive:` (OCI format) and `docker-archive:`
 *   (Docker format) tarballs;
 * - skopeo's own `docker-archive:` and `oci-archive:` output (converted from
 *   ours) loads back with the same config digest.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli-io.js";
import { storeBusyboxImage } from "../../helpers/store-image.js";
import { exec, tarMembers, tempDir, tempStore } from "./fixtures.js";

async function skopeo(...args: string[]): Promise<string> {
  try {
    return (await exec("skopeo", ["--insecure-policy", ...args], { maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(" ")} failed: ${e.stderr ?? e.message}`);
  }
}

async function setup() {
  const store = await tempStore();
  const cwd = await tempDir();
  const img = await storeBusyboxImage(store, { name: "busybox:latest" });
  const save = async (file: string, format: "oci" | "docker") => {
    const r = await runCli(["save", "--format", format, "-o", file, "busybox", "--root", store.root], { cwd });
    expect(r).toEqual({ code: 0, out: "", err: "" });
    return join(cwd, file);
  };
  return { store, cwd, img, save };
}

describe("interoperability", () => {
  it("umoci unpacks the OCI layout from tsbuild save, with bin/busybox in the rootfs", async () => {
    const { cwd, save } = await setup();
    const file = await save("busybox.tar", "oci");
    const layout = join(cwd, "layout");
    await mkdir(layout);
    await exec("tar", ["-xf", file, "-C", layout]);
    const bundle = join(cwd, "bundle");
    await exec("umoci", ["unpack", "--image", `${layout}:latest`, bundle]);
    const busybox = join(bundle, "rootfs", "bin", "busybox");
    expect((await stat(busybox)).mode & 0o111).not.toBe(0);
    expect((await readFile(busybox)).equals(await readFile("/bin/busybox"))).toBe(true);
    expect(JSON.parse(await readFile(join(bundle, "config.json"), "utf8"))).toMatchObject({ process: { args: ["sh"] } });
  });

  it("skopeo inspects oci-archive: and docker-archive: output", async () => {
    const { img, save } = await setup();
    const oci = JSON.parse(await skopeo("inspect", `oci-archive:${await save("oci.tar", "oci")}`)) as Record<string, unknown>;
    expect(oci).toMatchObject({ Digest: img.manifestDigest, Os: "linux", Architecture: img.record.platform.architecture });
    expect(oci["Layers"]).toEqual([img.image.layers[0]!.descriptor.digest]);

    const dockerFile = await save("docker.tar", "docker");
    const docker = JSON.parse(await skopeo("inspect", `docker-archive:${dockerFile}`)) as Record<string, unknown>;
    expect(docker).toMatchObject({ Os: "linux", Architecture: img.record.platform.architecture, RepoTags: [] });
    expect(docker["Layers"]).toHaveLength(1);
    const rawConfig = Buffer.from(await skopeo("inspect", "--config", "--raw", `docker-archive:${dockerFile}`));
    expect(`sha256:${createHash("sha256").update(rawConfig).digest("hex")}`).toBe(img.configDigest);
  });

  it("skopeo's docker-archive: conversion of our oci-archive: loads back with the same config digest", async () => {
    const { cwd, img, save } = await setup();
    const oci = await save("oci.tar", "oci");
    const converted = join(cwd, "skopeo-docker.tar");
    await skopeo("copy", `oci-archive:${oci}`, `docker-archive:${converted}:example.com/converted:v1`);
    // skopeo writes the legacy layout: manifest.json and plain-tar layers, no index.json.
    const members = await tarMembers(converted);
    expect(members.has("manifest.json")).toBe(true);
    expect(members.has("index.json")).toBe(false);

    const fresh = await tempStore();
    const r = await runCli(["load", "-i", converted, "--root", fresh.root], { cwd });
    expect(r).toEqual({ code: 0, out: "Loaded image: example.com/converted:v1\n", err: "" });
    const record = (await fresh.images.getImage("example.com/converted:v1"))!;
    expect(record.configDigest).toBe(img.configDigest);
    // The layer was stored as skopeo wrote it (an uncompressed tar), with the OCI type for that.
    const manifest = JSON.parse(Buffer.from(await fresh.content.readBlob(record.manifestDigest)).toString()) as { layers: { mediaType: string; digest: string }[] };
    expect(manifest.layers).toEqual([{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: img.image.layers[0]!.diffId, size: expect.any(Number) }]);

    // And what we recorded saves and unpacks again.
    const again = join(cwd, "again.tar");
    expect((await runCli(["save", "-o", again, "example.com/converted:v1", "--root", fresh.root], { cwd })).code).toBe(0);
    const inspected = JSON.parse(await skopeo("inspect", `oci-archive:${again}`)) as { Digest: string };
    expect(inspected.Digest).toBe(record.manifestDigest);
  });

  it("skopeo's oci-archive: with a ref.name loads under that name, same manifest", async () => {
    const { cwd, img, save } = await setup();
    const oci = await save("oci.tar", "oci");
    const copied = join(cwd, "skopeo-oci.tar");
    await skopeo("copy", `oci-archive:${oci}`, `oci-archive:${copied}:localhost:5000/copied:v2`);
    const fresh = await tempStore();
    const r = await runCli(["load", "-i", copied, "--root", fresh.root], { cwd });
    expect(r).toEqual({ code: 0, out: "Loaded image: localhost:5000/copied:v2\n", err: "" });
    const record = (await fresh.images.getImage("localhost:5000/copied:v2"))!;
    expect(record.configDigest).toBe(img.configDigest);
  });
});
