/**
 * Images and stores for the pull/push tests: deterministic multi-layer
 * images of pseudo-random bytes (big enough to abort mid-layer), a Docker
 * schema 2 push through skopeo, a two-platform index, and a local store
 * filled without our pull (so push tests do not depend on it).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Digest } from "../../../src/oci/digest.js";
import type { ImageConfig, ImageManifest } from "../../../src/oci/types.js";
import { parseReference } from "../../../src/registry/reference.js";
import { openStore, type LocalStore } from "../../../src/store/store.js";
import { hostGoArch, sha256, writeOciLayout, type TestBlob, type TestImage, type TestLayer } from "../../helpers/busybox-image.js";

const run = promisify(execFile);

/** `size` pseudo-random bytes from `seed` (xorshift32: fast, deterministic, incompressible enough). */
export function pseudoRandom(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}

function blob(mediaType: string, bytes: Buffer): TestBlob {
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

/** An OCI image whose layers are pseudo-random (not real tars: registries and our transfer code never look inside). */
export function randomImage(options: { layerSizes: readonly number[]; seed: number; architecture?: string; variant?: string }): TestImage {
  const layers: TestLayer[] = options.layerSizes.map((size, i) => {
    const b = blob("application/vnd.oci.image.layer.v1.tar", pseudoRandom(size, options.seed * 1000 + i + 1));
    return { ...b, diffId: b.descriptor.digest };
  });
  const config: ImageConfig = {
    created: "2024-01-01T00:00:00Z",
    architecture: options.architecture ?? hostGoArch(),
    os: "linux",
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  };
  const configBlob = blob("application/vnd.oci.image.config.v1+json", Buffer.from(JSON.stringify(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: configBlob.descriptor,
    layers: layers.map((l) => l.descriptor),
  };
  const manifestBlob = blob(manifest.mediaType ?? "", Buffer.from(JSON.stringify(manifest)));
  const blobs = new Map<string, Buffer>([[configBlob.descriptor.digest, configBlob.bytes], ...layers.map((l) => [l.descriptor.digest, l.bytes] as [string, Buffer])]);
  return { manifest, manifestBlob, config, configBlob, layers, blobs };
}

/** An index over several images, with a platform per entry. */
export interface TestIndex {
  /** The index bytes and descriptor. */
  readonly index: TestBlob;
  /** The images it lists, in order. */
  readonly images: readonly TestImage[];
}

/** Builds an OCI index listing `images` with their configs' platforms. */
export function buildIndex(images: readonly TestImage[]): TestIndex {
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: images.map((img) => ({
      ...img.manifestBlob.descriptor,
      platform: { os: img.config.os, architecture: img.config.architecture, ...(img.config.variant !== undefined ? { variant: img.config.variant } : {}) },
    })),
  };
  return { index: blob(index.mediaType, Buffer.from(JSON.stringify(index))), images };
}

async function skopeo(args: string[]): Promise<string> {
  try {
    const { stdout } = await run("skopeo", args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args[0] ?? ""} failed: ${e.stderr ?? e.message}`);
  }
}

/** Pushes an index and all its images with `skopeo copy --all`, digests preserved. */
export async function skopeoPushIndex(idx: TestIndex, target: { host: string; repository: string; tag: string }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-oci-index-"));
  try {
    for (const img of idx.images) await writeOciLayout(img, dir, "unused");
    await writeFile(join(dir, "blobs", "sha256", idx.index.descriptor.digest.slice(7)), idx.index.bytes);
    await writeFile(
      join(dir, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{ ...idx.index.descriptor, annotations: { "org.opencontainers.image.ref.name": target.tag } }],
      }),
    );
    await skopeo([
      "copy",
      "--all",
      "--insecure-policy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      `oci:${dir}:${target.tag}`,
      `docker://${target.host}/${target.repository}:${target.tag}`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pushes `image` converted by skopeo to Docker schema 2 media types (`--format v2s2`). */
export async function skopeoPushDocker(image: TestImage, target: { host: string; repository: string; tag: string }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-oci-"));
  try {
    await writeOciLayout(image, dir, target.tag);
    await skopeo([
      "copy",
      "--insecure-policy",
      "--format",
      "v2s2",
      "--dest-tls-verify=false",
      `oci:${dir}:${target.tag}`,
      `docker://${target.host}/${target.repository}:${target.tag}`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `skopeo copy` between registry repositories (plain HTTP both sides). */
export async function skopeoCopy(from: string, to: string): Promise<void> {
  await skopeo(["copy", "--insecure-policy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${from}`, `docker://${to}`]);
}

/** A fresh store in a temp dir. */
export async function tempStore(): Promise<LocalStore & { cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "tsbuild-pullpush-store-"));
  const store = await openStore({ root, env: {} });
  return { ...store, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Puts `image` into `store` under `name` directly (config, layers, manifest, record), without our pull. */
export async function storeImage(store: LocalStore, image: TestImage, name: string): Promise<void> {
  for (const [digest, bytes] of image.blobs) await store.content.writeBlob(bytes, { digest: digest as Digest, size: bytes.length });
  const m = image.manifestBlob;
  await store.content.writeBlob(m.bytes, { digest: m.descriptor.digest as Digest, size: m.bytes.length });
  await store.images.putImage({
    name: parseReference(name),
    manifestDigest: m.descriptor.digest as Digest,
    mediaType: m.descriptor.mediaType,
    size: m.bytes.length,
    configDigest: image.configBlob.descriptor.digest as Digest,
    platform: { os: image.config.os, architecture: image.config.architecture },
  });
}

/** Every blob file of a store: digest → sha256 of the file's bytes (to compare two stores bit for bit). */
export async function storeBlobFiles(store: LocalStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(store.layout.blobsDir)) {
    out.set(name, createHash("sha256").update(await readFile(join(store.layout.blobsDir, name))).digest("hex"));
  }
  return out;
}
