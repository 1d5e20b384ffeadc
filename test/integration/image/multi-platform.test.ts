/**
 * Multi-platform images: an archive whose index.json names an index (as
 * Docker 25+ with the containerd store, or skopeo --all, write them) loads
 * the platform it holds completely, preferring this machine's, and records
 * its platform manifest as `pull` does; a store record naming an index is
 * shown, inspected and saved through its own platform's manifest.
 */
import { describe, expect, it } from "vitest";
import { tarArchive, type ArchiveMember } from "../../../src/image/archive-tar.js";
import { hostPlatform } from "../../../src/image/platform-select.js";
import { digestOf, type Digest } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { parseReference } from "../../../src/registry/reference.js";
import { runCli } from "../../helpers/cli-io.js";
import { storeBusyboxImage, type StoredImage } from "../../helpers/store-image.js";
import { runBinaryCli, tarMembers, tempDir, tempStore } from "./fixtures.js";

const otherArch = hostPlatform().architecture === "arm64" ? "amd64" : "arm64";

function indexOf(images: readonly StoredImage[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: images.map((i) => ({ ...i.image.manifestBlob.descriptor, platform: { os: "linux", architecture: i.image.config.architecture } })),
    }),
  );
}

function blobMember(digest: string, data: Buffer): ArchiveMember {
  return { kind: "bytes", name: `blobs/sha256/${digest.slice(7)}`, data };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe("multi-platform", () => {
  it("loads the complete platform of an index entry, preferring the host's, and records its manifest", async () => {
    const src = await tempStore();
    const host = await storeBusyboxImage(src, { name: "busybox:host" });
    const other = await storeBusyboxImage(src, { name: "busybox:other", architecture: otherArch, extraFiles: { "etc/arch": otherArch } });
    const index = indexOf([other, host]);
    const indexDigest = digestOf(index);
    const members: ArchiveMember[] = [
      { kind: "bytes", name: "oci-layout", data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      ...[...host.image.blobs].map(([d, b]) => blobMember(d, b)),
      blobMember(host.manifestDigest, host.image.manifestBlob.bytes),
      // The other platform: its manifest only (a partial multi-platform export).
      blobMember(other.manifestDigest, other.image.manifestBlob.bytes),
      blobMember(indexDigest, index),
      {
        kind: "bytes",
        name: "index.json",
        data: Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            manifests: [
              { mediaType: MediaType.OciIndex, digest: indexDigest, size: index.length, annotations: { "io.containerd.image.name": "docker.io/library/multi:1" } },
              { mediaType: MediaType.OciIndex, digest: indexDigest, size: index.length, annotations: { "io.containerd.image.name": `docker.io/library/multi@${indexDigest}` } },
            ],
          }),
        ),
      },
    ];
    const fresh = await tempStore();
    const cwd = await tempDir();
    const r = await runBinaryCli(["load", "--root", fresh.root], { cwd, stdin: await collect(tarArchive(members)) });
    expect(r.err).toBe("");
    expect(r.out).toBe(`Loaded image: multi:1\nLoaded image: multi@${host.manifestDigest}\n`);
    const records = await fresh.images.listImages();
    expect(records.map((x) => [x.name.familiar(), x.manifestDigest, x.mediaType, x.platform.architecture])).toEqual([
      ["multi:1", host.manifestDigest, MediaType.OciManifest, hostPlatform().architecture],
      [`multi@${host.manifestDigest}`, host.manifestDigest, MediaType.OciManifest, hostPlatform().architecture],
    ]);
  });

  it("shows, inspects and saves a record that names an index through its platform's manifest", async () => {
    const store = await tempStore();
    const host = await storeBusyboxImage(store, { name: "busybox:host" });
    const other = await storeBusyboxImage(store, { name: "busybox:other", architecture: otherArch, extraFiles: { "etc/arch": otherArch } });
    const index = indexOf([other, host]);
    const written = await store.content.writeBlob(index);
    await store.images.putImage({
      name: parseReference("multi:1"),
      manifestDigest: written.digest,
      mediaType: MediaType.OciIndex,
      size: index.length,
      configDigest: host.configDigest,
      platform: host.record.platform,
      created: host.record.created,
    });
    const cwd = await tempDir();
    const cli = (...argv: string[]) => runCli([...argv, "--root", store.root], { cwd });

    const images = (await cli("images", "--format", "json", "multi")).out.trim();
    const row = JSON.parse(images) as Record<string, string>;
    expect(row).toMatchObject({ Digest: written.digest, ID: host.configDigest, Size: (await cli("images", "--format", "json", "busybox:host")).out.match(/"Size":"([^"]+)"/)![1] });

    const inspected = JSON.parse((await cli("inspect", "multi:1")).out) as { manifest: { manifests: unknown[] }; digest: Digest; config: { architecture: string } };
    expect(inspected.digest).toBe(written.digest);
    expect(inspected.manifest.manifests).toHaveLength(2);
    expect(inspected.config.architecture).toBe(hostPlatform().architecture);

    expect((await cli("save", "-o", "multi.tar", "multi:1")).code).toBe(0);
    const members = await tarMembers(`${cwd}/multi.tar`);
    const saved = JSON.parse(members.get("index.json")!.toString()) as { manifests: { digest: string }[] };
    expect(saved.manifests.map((m) => m.digest)).toEqual([host.manifestDigest]);
    expect(members.has(`blobs/sha256/${other.manifestDigest.slice(7)}`)).toBe(false);
  });
});
