/**
 * Puts a real, runnable image into a local store without a registry: the
 * busybox image of `busybox-image.ts` (one gzip layer with the static
 * `/bin/busybox`, its applet symlinks, `/etc/passwd` and `/etc/group`; an
 * OCI config and manifest), its blobs written with `writeBlob` and recorded
 * with `putImage` under a name.
 *
 * `created` rewrites the config's creation time (and so the config and
 * manifest digests), for tests of `tsbuild images`' CREATED column;
 * `extraFiles` gives an image with different digests.
 *
 * @example
 * const store = await openStore({ root });
 * const img = await storeBusyboxImage(store, { name: "busybox:latest" });
 * img.record.manifestDigest; img.image.layers[0].bytes;
 */
import { parseReference } from "../../src/registry/reference.js";
import type { Digest } from "../../src/oci/digest.js";
import type { ImageConfig, ImageManifest } from "../../src/oci/types.js";
import type { ImageRecord } from "../../src/store/image-record.js";
import type { LocalStore } from "../../src/store/store.js";
import { buildBusyboxImage, sha256, type BusyboxImageOptions, type TestBlob, type TestImage } from "./busybox-image.js";

/** Options of {@link storeBusyboxImage}. */
export interface StoreImageOptions extends BusyboxImageOptions {
  /** The name to record (normalised as Docker does). Default `busybox:latest`. */
  readonly name?: string;
  /** The config's `created` time. Default: the busybox helper's fixed 2024-01-01. */
  readonly created?: Date | string;
}

/** An image now in a store. */
export interface StoredImage {
  /** The record `putImage` wrote. */
  readonly record: ImageRecord;
  /** The image's blobs and documents (manifest, config, layers), as in `busybox-image.ts`. */
  readonly image: TestImage;
  /** Digest of the manifest. */
  readonly manifestDigest: Digest;
  /** Digest of the config (the image ID). */
  readonly configDigest: Digest;
}

const cache = new Map<string, Promise<TestImage>>();

/** `buildBusyboxImage`, memoised per options (it reads busybox and gzips ~2 MB). */
function busybox(options: BusyboxImageOptions): Promise<TestImage> {
  const key = JSON.stringify([options.architecture ?? null, Object.entries(options.extraFiles ?? {}).map(([k, v]) => [k, v.toString("base64")])]);
  let image = cache.get(key);
  if (image === undefined) {
    image = buildBusyboxImage(options);
    cache.set(key, image);
  }
  return image;
}

function blob(mediaType: string, bytes: Buffer): TestBlob {
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

/** `image` with its config's `created` set to `created`, and config and manifest rebuilt. */
function withCreated(image: TestImage, created: string): TestImage {
  const config: ImageConfig = { ...image.config, created };
  const configBlob = blob(image.configBlob.descriptor.mediaType, Buffer.from(JSON.stringify(config)));
  const manifest: ImageManifest = { ...image.manifest, config: configBlob.descriptor };
  const manifestBlob = blob(image.manifestBlob.descriptor.mediaType, Buffer.from(JSON.stringify(manifest)));
  const blobs = new Map(image.blobs);
  blobs.delete(image.configBlob.descriptor.digest);
  blobs.set(configBlob.descriptor.digest, configBlob.bytes);
  return { ...image, config, configBlob, manifest, manifestBlob, blobs };
}

/** Builds the busybox image, stores its blobs in `store` and records it under `options.name`. */
export async function storeBusyboxImage(store: LocalStore, options: StoreImageOptions = {}): Promise<StoredImage> {
  let image = await busybox({ extraFiles: options.extraFiles, architecture: options.architecture });
  if (options.created !== undefined) {
    image = withCreated(image, options.created instanceof Date ? options.created.toISOString() : options.created);
  }
  for (const [digest, bytes] of image.blobs) {
    await store.content.writeBlob(bytes, { digest: digest as Digest, size: bytes.length });
  }
  const manifest = image.manifestBlob;
  await store.content.writeBlob(manifest.bytes, { digest: manifest.descriptor.digest as Digest, size: manifest.bytes.length });
  const record = await store.images.putImage({
    name: parseReference(options.name ?? "busybox:latest"),
    manifestDigest: manifest.descriptor.digest as Digest,
    mediaType: manifest.descriptor.mediaType,
    size: manifest.bytes.length,
    configDigest: image.configBlob.descriptor.digest as Digest,
    platform: { os: image.config.os, architecture: image.config.architecture },
    created: image.config.created,
  });
  return { record, image, manifestDigest: record.manifestDigest, configDigest: record.configDigest };
}
