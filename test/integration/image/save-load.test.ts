/**
 * `tsbuild save` and `tsbuild load` between temp stores: the archive
 * layouts, round trips in both formats (same manifest digest for OCI, same
 * config digest for Docker's format), tampered and incomplete archives
 * (refused, no record), standard input/output, and the error cases.
 */
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { tarArchive } from "../../../src/image/archive-tar.js";
import { runCli } from "../../helpers/cli-io.js";
import { storeBusyboxImage } from "../../helpers/store-image.js";
import { memberDataOffset, runBinaryCli, tarMembers, tempDir, tempStore } from "./fixtures.js";

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function setup() {
  const store = await tempStore();
  const cwd = await tempDir();
  const img = await storeBusyboxImage(store, { name: "busybox:latest" });
  return { store, cwd, img };
}

describe("tsbuild save", () => {
  it("writes an OCI image layout: oci-layout, annotated index.json, the blobs as stored", async () => {
    const { store, cwd, img } = await setup();
    const r = await runCli(["save", "busybox", "-o", "out.tar", "--root", store.root], { cwd });
    expect(r).toEqual({ code: 0, out: "", err: "" });
    const members = await tarMembers(join(cwd, "out.tar"));
    const hex = (d: string) => d.slice("sha256:".length);
    expect([...members.keys()]).toEqual([
      "oci-layout",
      "blobs/",
      "blobs/sha256/",
      `blobs/sha256/${hex(img.image.layers[0]!.descriptor.digest)}`,
      `blobs/sha256/${hex(img.configDigest)}`,
      `blobs/sha256/${hex(img.manifestDigest)}`,
      "index.json",
    ]);
    expect(JSON.parse(members.get("oci-layout")!.toString())).toEqual({ imageLayoutVersion: "1.0.0" });
    // Buffer.equals: vitest's deep equality walks a 1 MB buffer for seconds.
    expect(members.get(`blobs/sha256/${hex(img.image.layers[0]!.descriptor.digest)}`)!.equals(img.image.layers[0]!.bytes)).toBe(true);
    expect(members.get(`blobs/sha256/${hex(img.manifestDigest)}`)!.equals(img.image.manifestBlob.bytes)).toBe(true);
    expect(JSON.parse(members.get("index.json")!.toString())).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: img.manifestDigest,
          size: img.image.manifestBlob.bytes.length,
          platform: img.record.platform,
          annotations: {
            "io.containerd.image.name": "docker.io/library/busybox:latest",
            "org.opencontainers.image.ref.name": "latest",
          },
        },
      ],
    });
  });

  it("--format docker adds manifest.json pointing at the same blob files", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["tag", "busybox", "localhost:5000/app:v1", "--root", store.root], { cwd });
    const r = await runCli(["save", "--format", "docker", "-o", "out.tar", "busybox", "localhost:5000/app:v1", "--root", store.root], { cwd });
    expect(r.code).toBe(0);
    const members = await tarMembers(join(cwd, "out.tar"));
    const manifest = JSON.parse(members.get("manifest.json")!.toString()) as unknown[];
    expect(manifest).toEqual([
      {
        Config: `blobs/sha256/${img.configDigest.slice(7)}`,
        RepoTags: ["busybox:latest", "localhost:5000/app:v1"],
        Layers: [`blobs/sha256/${img.image.layers[0]!.descriptor.digest.slice(7)}`],
      },
    ]);
    // One blob file per digest, two index entries (one per name) for the one manifest.
    expect([...members.keys()].filter((k) => k.startsWith("blobs/sha256/") && k.length > 13)).toHaveLength(3);
    const index = JSON.parse(members.get("index.json")!.toString()) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations["io.containerd.image.name"])).toEqual([
      "docker.io/library/busybox:latest",
      "localhost:5000/app:v1",
    ]);
  });

  it("by ID, saves every name of the image", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["tag", "busybox", "other:1", "--root", store.root], { cwd });
    await runCli(["save", "-o", "out.tar", img.configDigest.slice(7, 19), "--root", store.root], { cwd });
    const index = JSON.parse((await tarMembers(join(cwd, "out.tar"))).get("index.json")!.toString()) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["latest", "1"]);
  });

  it("writes to standard output when it is not a terminal, and refuses a terminal", async () => {
    const { store, cwd } = await setup();
    await runCli(["save", "-o", "file.tar", "busybox", "--root", store.root], { cwd });
    const piped = await runBinaryCli(["save", "busybox", "--root", store.root], { cwd });
    expect(piped.code).toBe(0);
    // Deterministic: the same bytes as the file.
    expect(piped.stdout.equals(await readFile(join(cwd, "file.tar")))).toBe(true);
    const dash = await runBinaryCli(["save", "-o", "-", "busybox", "--root", store.root], { cwd });
    expect(dash.stdout.equals(piped.stdout)).toBe(true);

    const tty = await runBinaryCli(["save", "busybox", "--root", store.root], { cwd, stdoutIsTTY: true });
    expect(tty.code).toBe(2);
    expect(tty.err).toContain("cowardly refusing to save to a terminal");
    expect(tty.stdout.length).toBe(0);
  });

  it("reports unknown images and bad formats, and leaves no file behind on failure", async () => {
    const { store, cwd, img } = await setup();
    const missing = await runCli(["save", "-o", "out.tar", "busybox", "nope:1", "--root", store.root], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: No such image: nope:1\n/);
    const format = await runCli(["save", "--format", "tgz", "-o", "out.tar", "busybox", "--root", store.root], { cwd });
    expect(format.code).toBe(2);
    expect(format.err).toContain('unsupported --format "tgz"');

    // A damaged layer in the store: the save fails and no out.tar (or temp file) exists.
    const layerFile = store.content.blobPath(img.image.layers[0]!.descriptor.digest as `sha256:${string}`);
    await chmod(layerFile, 0o644);
    const bytes = await readFile(layerFile);
    bytes[1000] ^= 0xff;
    await writeFile(layerFile, bytes);
    const damaged = await runCli(["save", "-o", "out.tar", "busybox", "--root", store.root], { cwd });
    expect(damaged.code).toBe(1);
    expect(damaged.err).toContain("is damaged");
    expect(await readdir(cwd)).toEqual([]);

    const noDir = await runCli(["save", "-o", "no/such/dir/out.tar", "busybox", "--root", store.root], { cwd });
    expect(noDir.code).toBe(1);
    expect(noDir.err).toContain("cannot write");
  });
});

describe("tsbuild load", () => {
  it("OCI round trip: same manifest digest, name and platform in a fresh store", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["save", "-o", "out.tar", "busybox", "--root", store.root], { cwd });
    const fresh = await tempStore();
    const r = await runCli(["load", "-i", "out.tar", "--root", fresh.root], { cwd });
    expect(r).toEqual({ code: 0, out: "Loaded image: busybox:latest\n", err: "" });
    const [record, ...rest] = await fresh.images.listImages();
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      manifestDigest: img.manifestDigest,
      configDigest: img.configDigest,
      mediaType: img.record.mediaType,
      size: img.record.size,
      platform: img.record.platform,
      created: img.record.created,
    });
    expect(record!.name.toString()).toBe("docker.io/library/busybox:latest");
    // And it saves again to the very same bytes.
    await runCli(["save", "-o", "again.tar", "busybox", "--root", fresh.root], { cwd });
    expect((await readFile(join(cwd, "again.tar"))).equals(await readFile(join(cwd, "out.tar")))).toBe(true);
  });

  it("Docker-format round trip: same config digest, through index.json and through manifest.json alone", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["save", "--format", "docker", "-o", "docker.tar", "busybox", "--root", store.root], { cwd });
    const fresh = await tempStore();
    const r = await runCli(["load", "-i", "docker.tar", "--root", fresh.root], { cwd });
    expect(r.out).toBe("Loaded image: busybox:latest\n");
    expect((await fresh.images.getImage("busybox"))?.configDigest).toBe(img.configDigest);

    // Without index.json (an older reader's view): the manifest.json path,
    // which checks the gzip layer against the config's diff_id and writes its own manifest.
    const members = await tarMembers(join(cwd, "docker.tar"));
    members.delete("index.json");
    members.delete("oci-layout");
    const onlyDocker = await collect(
      tarArchive([...members].filter(([n]) => !n.endsWith("/")).map(([name, data]) => ({ kind: "bytes" as const, name, data }))),
    );
    const fresh2 = await tempStore();
    const r2 = await runBinaryCli(["load", "--root", fresh2.root], { cwd, stdin: onlyDocker });
    expect(r2.err).toBe("");
    expect(r2.out).toBe("Loaded image: busybox:latest\n");
    const rec = (await fresh2.images.getImage("busybox"))!;
    expect(rec.configDigest).toBe(img.configDigest);
    const manifest = JSON.parse(Buffer.from(await fresh2.content.readBlob(rec.manifestDigest)).toString()) as {
      mediaType: string;
      layers: { mediaType: string; digest: string }[];
    };
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(manifest.layers).toEqual([{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: img.image.layers[0]!.descriptor.digest, size: img.image.layers[0]!.bytes.length }]);
  });

  it("refuses a tampered archive with DIGEST_MISMATCH and records nothing", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["save", "-o", "out.tar", "busybox", "--root", store.root], { cwd });
    const bytes = await readFile(join(cwd, "out.tar"));
    const layer = `blobs/sha256/${img.image.layers[0]!.descriptor.digest.slice(7)}`;
    bytes[memberDataOffset(bytes, layer) + 5000] ^= 0x01;
    await writeFile(join(cwd, "bad.tar"), bytes);
    const fresh = await tempStore();
    const r = await runCli(["load", "-i", "bad.tar", "--root", fresh.root], { cwd });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`error: archive member ${layer} does not match its digest`);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(await fresh.images.listImages()).toEqual([]);
    expect(await fresh.content.hasBlob(img.image.layers[0]!.descriptor.digest as `sha256:${string}`)).toBe(false);
    expect(await readdir(fresh.layout.tmpDir)).toEqual([]);
  });

  it("refuses a Docker-format archive whose layer does not match the config's diff_id", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["save", "--format", "docker", "-o", "docker.tar", "busybox", "--root", store.root], { cwd });
    const members = await tarMembers(join(cwd, "docker.tar"));
    // A legacy layout: the layer under a name that carries no digest, altered.
    const layerPath = `blobs/sha256/${img.image.layers[0]!.descriptor.digest.slice(7)}`;
    const tar = (await import("node:zlib")).gunzipSync(members.get(layerPath)!);
    tar[600] ^= 0x01; // inside the first member's data
    const manifest = JSON.parse(members.get("manifest.json")!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    manifest[0]!.Layers = ["abc/layer.tar"];
    const archive = await collect(
      tarArchive([
        { kind: "bytes", name: "manifest.json", data: Buffer.from(JSON.stringify(manifest)) },
        { kind: "bytes", name: manifest[0]!.Config, data: members.get(manifest[0]!.Config)! },
        { kind: "bytes", name: "abc/layer.tar", data: tar },
      ]),
    );
    const fresh = await tempStore();
    const r = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: archive });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: layer 1 of image 1 of the archive's manifest.json \(abc\/layer.tar\) has diff ID sha256:[a-f0-9]{64}, but its config says/);
    expect(await fresh.images.listImages()).toEqual([]);
  });

  it("loads gzip-compressed archives and standard input; refuses a terminal and non-archives", async () => {
    const { store, cwd, img } = await setup();
    const saved = await runBinaryCli(["save", "busybox", "--root", store.root], { cwd });
    const fresh = await tempStore();
    const r = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: gzipSync(saved.stdout) });
    expect(r).toMatchObject({ code: 0, out: "Loaded image: busybox:latest\n" });
    expect((await fresh.images.getImage("busybox"))?.manifestDigest).toBe(img.manifestDigest);

    const tty = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdinIsTTY: true });
    expect(tty.code).toBe(2);
    expect(tty.err).toContain("requested load from stdin, but stdin is a terminal");

    const junk = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: Buffer.from("hello, this is not a tar archive\n".repeat(40)) });
    expect(junk.code).toBe(1);
    expect(junk.err).toContain("the input is not a valid image archive");
    expect(junk.err).not.toMatch(/\n\s+at /);

    const empty = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: Buffer.alloc(0) });
    expect(empty.code).toBe(1);
    expect(empty.err).toContain("neither an index.json nor a manifest.json");

    const missing = await runCli(["load", "-i", "nope.tar", "--root", fresh.root], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("cannot read");
    expect(missing.err).toContain("nope.tar: no such file");
  });

  it("refuses images without a name, and archives missing a blob, recording nothing", async () => {
    const { store, cwd, img } = await setup();
    await runCli(["save", "-o", "out.tar", "busybox", "--root", store.root], { cwd });
    const members = await tarMembers(join(cwd, "out.tar"));
    const index = JSON.parse(members.get("index.json")!.toString()) as { manifests: { annotations?: Record<string, string> }[] };
    delete index.manifests[0]!.annotations;
    members.set("index.json", Buffer.from(JSON.stringify(index)));
    const files = [...members].filter(([n]) => !n.endsWith("/")).map(([name, data]) => ({ kind: "bytes" as const, name, data }));
    const fresh = await tempStore();
    const unnamed = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: await collect(tarArchive(files)) });
    expect(unnamed.code).toBe(1);
    expect(unnamed.err).toContain(`image ${img.manifestDigest} in the archive has no name`);

    // A bare tag in ref.name names no repository either.
    index.manifests[0]!.annotations = { "org.opencontainers.image.ref.name": "latest" };
    members.set("index.json", Buffer.from(JSON.stringify(index)));
    const bareTag = await runBinaryCli(["load", "--root", fresh.root], {
      cwd,
      stdin: await collect(tarArchive([...members].filter(([n]) => !n.endsWith("/")).map(([name, data]) => ({ kind: "bytes" as const, name, data })))),
    });
    expect(bareTag.err).toContain("has no name");

    // ref.name holding a full reference (as skopeo writes for oci-archive:FILE:NAME) is a name.
    index.manifests[0]!.annotations = { "org.opencontainers.image.ref.name": "example.com/team/app:v1" };
    members.set("index.json", Buffer.from(JSON.stringify(index)));
    const full = await runBinaryCli(["load", "--root", fresh.root], {
      cwd,
      stdin: await collect(tarArchive([...members].filter(([n]) => !n.endsWith("/")).map(([name, data]) => ({ kind: "bytes" as const, name, data })))),
    });
    expect(full.out).toBe("Loaded image: example.com/team/app:v1\n");

    const fresh2 = await tempStore();
    const layer = `blobs/sha256/${img.image.layers[0]!.descriptor.digest.slice(7)}`;
    const withoutLayer = [...members].filter(([n]) => !n.endsWith("/") && n !== layer).map(([name, data]) => ({ kind: "bytes" as const, name, data }));
    const incomplete = await runBinaryCli(["load", "--root", fresh2.root], { cwd, stdin: await collect(tarArchive(withoutLayer)) });
    expect(incomplete.code).toBe(1);
    expect(incomplete.err).toContain(`the archive is incomplete: it has no blob ${img.image.layers[0]!.descriptor.digest}`);
    expect(await fresh2.images.listImages()).toEqual([]);
    expect(existsSync(join(fresh2.root, "images"))).toBe(true);
  });
});

describe("tsbuild save to a closed pipe", () => {
  it("reports the write error without a stack trace", async () => {
    const { Writable } = await import("node:stream");
    const { store, cwd } = await setup();
    const { main } = await import("../../../src/cli/main.js");
    let err = "";
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const code = await main(["save", "busybox", "--root", store.root], {
      out: () => undefined,
      err: (t) => void (err += t),
      isTTY: false,
      env: {},
      cwd,
      readStdin: async () => Buffer.alloc(0),
      signal: new AbortController().signal,
      stdoutStream: broken,
    } as Parameters<typeof main>[1]);
    expect(code).toBe(1);
    expect(err).toMatch(/^error: cannot write the archive: the reading end of the pipe was closed\n/);
  });
});
