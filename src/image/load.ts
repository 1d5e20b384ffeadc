/**
 * `docker load`: importing an image archive into the local store.
 *
 * Both formats are accepted and told apart by content: an archive with an
 * `index.json` is read as an OCI image layout (this covers `tsbuild save`
 * in either format, Docker 25+, containerd, skopeo `oci-archive:`); one
 * with only a `manifest.json` as a Docker archive (older Docker, skopeo
 * `docker-archive:`). Gzip-compressed archives are decompressed on the fly.
 *
 * Loading is two-phased so that a bad archive records nothing:
 * 1. read the archive, storing every blob under its verified digest (see
 *    `archive-reader.ts`), then check each image completely: manifests and
 *    configs parse, every layer is present with the size its descriptor
 *    gives, and for Docker archives every layer's uncompressed digest is the
 *    config's diff_id;
 * 2. only then write the image records.
 * A damaged archive thus fails with DIGEST_MISMATCH and leaves no record;
 * blobs already verified stay in the store under their true digests, as
 * after an interrupted pull, for a later prune.
 *
 * An index.json entry that is itself an index (a multi-platform image) is
 * recorded as one platform's manifest, as `tsbuild pull` records it.
 *
 * For a Docker archive, tsbuild writes the manifest itself (OCI media
 * types; a layer keeps its bytes and gets the type of its compression,
 * `application/vnd.oci.image.layer.v1.tar` for a plain tar), so the config
 * digest (image ID) is the archive's, and the manifest digest is what that
 * manifest hashes to.
 */
import { BuildError, isBuildError } from "../diagnostics/build-error.js";
import { digestOf, type Digest } from "../oci/digest.js";
import { isForeignLayer, isIndexType, isManifestType, MediaType } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../oci/types.js";
import { repositoryOf, withDigest, type ImageReference } from "../registry/reference.js";
import type { ImageRecord } from "../store/image-record.js";
import type { LocalStore } from "../store/store.js";
import { nameFromAnnotations, nameFromRepoTag, recordableName } from "./archive-names.js";
import { readImageArchive, type ArchiveFile, type ArchiveFiles } from "./archive-reader.js";
import { layerDiffId, layerMediaType } from "./diff-id.js";
import { hostPlatform, selectManifest } from "./platform-select.js";
import { parseConfig, parseIndex, parseManifest, type CheckedDescriptor, type CheckedManifest } from "./documents.js";

/** One name recorded by {@link loadImageArchive}. */
export interface LoadedImage {
  /** The name (Docker prints `Loaded image: NAME` for it). */
  readonly name: ImageReference;
  /** The record written. */
  readonly record: ImageRecord;
}

/** Options for {@link loadImageArchive}. */
export interface LoadImageOptions {
  /** Cancels the load (ABORTED); records are only written at the very end. */
  readonly signal?: AbortSignal | undefined;
}

/** An image checked and ready to record. */
interface PlannedImage {
  readonly names: ImageReference[];
  readonly manifestDigest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly configDigest: Digest;
  readonly platform: Platform;
  readonly created: string | undefined;
}

/** A checked single-platform image: its manifest and config. */
interface CheckedImage {
  readonly manifest: CheckedManifest;
  readonly config: ImageConfig;
}

type Signal = AbortSignal | undefined;

function incomplete(detail: string): BuildError {
  return new BuildError("MANIFEST_INVALID", `the archive is incomplete: ${detail}`, {
    hint: "save the image again; nothing from this archive was recorded",
  });
}

function unnamed(digest: Digest): BuildError {
  return new BuildError("MANIFEST_INVALID", `image ${digest} in the archive has no name, and the local store keeps only named images`, {
    hint: "name it when saving (`tsbuild save NAME:TAG`, `skopeo copy … oci-archive:FILE:NAME:TAG`); an OCI ref.name that is only a tag, like `latest`, names no repository",
  });
}


function platformOf(config: ImageConfig): Platform {
  return config.variant === undefined || config.variant === ""
    ? { os: config.os, architecture: config.architecture }
    : { os: config.os, architecture: config.architecture, variant: config.variant };
}

/** Reads a blob the archive should have provided, reporting its absence as an incomplete archive. */
async function readArchiveBlob(store: LocalStore, d: CheckedDescriptor, what: string, signal: Signal): Promise<Uint8Array> {
  try {
    return await store.content.readBlob(d.digest, { expectedSize: d.size, signal });
  } catch (err) {
    if (isBuildError(err, "STORE_NOT_FOUND")) throw incomplete(`it has no blob ${d.digest} (${what})`);
    throw err;
  }
}

/** Checks a single-platform manifest and everything it refers to. */
async function checkManifest(store: LocalStore, d: CheckedDescriptor, signal: Signal): Promise<CheckedImage> {
  const label = `manifest ${d.digest}`;
  const manifest = parseManifest(await readArchiveBlob(store, d, label, signal), label);
  const config = parseConfig(await readArchiveBlob(store, manifest.config, `the config of ${label}`, signal), `config ${manifest.config.digest}`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new BuildError("MANIFEST_INVALID", `${label} lists ${manifest.layers.length} layers, but its config has ${config.rootfs.diff_ids.length} diff_ids`);
  }
  for (const [i, layer] of manifest.layers.entries()) {
    if (isForeignLayer(layer.mediaType)) continue;
    let size: number;
    try {
      size = await store.content.blobSize(layer.digest, { signal });
    } catch (err) {
      if (isBuildError(err, "STORE_NOT_FOUND")) throw incomplete(`it has no blob ${layer.digest} (layer ${i + 1} of ${label})`);
      throw err;
    }
    if (size !== layer.size) {
      throw new BuildError("DIGEST_MISMATCH", `layer ${layer.digest} of ${label} has ${size} bytes, but its descriptor says ${layer.size}`);
    }
  }
  return { manifest, config };
}

/**
 * For an index entry: the platform manifest to record (as `pull` records
 * one), chosen among those the archive holds completely: this machine's
 * platform as containerd ranks them, else the first complete one (an
 * archive of another platform's image still loads, as with `docker load`).
 */
async function chooseFromIndex(store: LocalStore, d: CheckedDescriptor, signal: Signal): Promise<{ entry: CheckedDescriptor; image: CheckedImage }> {
  const label = `index ${d.digest}`;
  const index = parseIndex(await readArchiveBlob(store, d, label, signal), label);
  const complete: { entry: CheckedDescriptor; image: CheckedImage }[] = [];
  for (const entry of index.manifests) {
    if (!isManifestType(entry.mediaType)) continue;
    try {
      complete.push({ entry, image: await checkManifest(store, entry, signal) });
    } catch (err) {
      // Multi-platform archives often hold only some platforms.
      if (!isBuildError(err, "MANIFEST_INVALID")) throw err;
    }
  }
  const first = complete[0];
  if (first === undefined) throw incomplete(`${label} has no platform whose manifest, config and layers are all in it`);
  const withPlatform = complete.map((c) => ({ ...c.entry, platform: c.entry.platform ?? platformOf(c.image.config) }));
  try {
    const chosen = selectManifest(withPlatform, hostPlatform(), label);
    return complete.find((c) => c.entry.digest === chosen.digest) ?? first;
  } catch (err) {
    if (!isBuildError(err, "MANIFEST_INVALID")) throw err;
    return first;
  }
}

/** `manifest.json`, parsed loosely: its entries' Config, RepoTags and Layers. */
interface DockerManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

function parseDockerManifest(bytes: Uint8Array): DockerManifestEntry[] {
  let list: unknown;
  try {
    list = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new BuildError("MANIFEST_INVALID", "the archive's manifest.json is not valid JSON", { cause: err });
  }
  if (!Array.isArray(list)) throw new BuildError("MANIFEST_INVALID", "the archive's manifest.json is not a JSON array");
  return list.map((raw: unknown, i) => {
    const e = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const repoTags = e["RepoTags"] ?? [];
    const layers = e["Layers"];
    if (
      typeof e["Config"] !== "string" ||
      !Array.isArray(repoTags) ||
      !repoTags.every((t) => typeof t === "string") ||
      !Array.isArray(layers) ||
      !layers.every((l) => typeof l === "string")
    ) {
      throw new BuildError("MANIFEST_INVALID", `entry ${i + 1} of the archive's manifest.json needs Config, Layers and RepoTags as strings`);
    }
    return { Config: e["Config"], RepoTags: repoTags as string[], Layers: layers as string[] };
  });
}

/** The digest a Docker archive path names (`<hex>.json`, `blobs/sha256/<hex>`, `<hex>.tar`), if any. */
function digestInPath(path: string): Digest | undefined {
  const hex = /(?:^|\/)([a-f0-9]{64})(?:\.json|\.tar)?$/.exec(path)?.[1];
  return hex === undefined ? undefined : `sha256:${hex}`;
}

/** Stores an in-memory member as a blob (a config kept as metadata); returns its digest and size. */
async function asBlob(store: LocalStore, file: ArchiveFile, signal: Signal): Promise<{ digest: Digest; size: number }> {
  if (file.kind === "blob") return file;
  const written = await store.content.writeBlob(file.bytes, undefined, { signal });
  return { digest: written.digest, size: written.size };
}

async function planOci(store: LocalStore, files: ArchiveFiles, indexBytes: Buffer, signal: Signal): Promise<PlannedImage[]> {
  const index = parseIndex(indexBytes, "the archive's index.json");
  // Names from a manifest.json next to the index (Docker 25+ writes both), by config.
  const repoTags = new Map<Digest, string[]>();
  const dockerManifest = files.get("manifest.json");
  if (dockerManifest?.kind === "memory") {
    for (const e of parseDockerManifest(dockerManifest.bytes)) {
      const digest = digestInPath(e.Config);
      if (digest !== undefined) repoTags.set(digest, [...(repoTags.get(digest) ?? []), ...e.RepoTags]);
    }
  }
  const plans = new Map<Digest, PlannedImage>();
  for (const entry of index.manifests) {
    let chosen: { entry: CheckedDescriptor; image: CheckedImage };
    if (isManifestType(entry.mediaType)) chosen = { entry, image: await checkManifest(store, entry, signal) };
    else if (isIndexType(entry.mediaType)) chosen = await chooseFromIndex(store, entry, signal);
    else throw new BuildError("MANIFEST_INVALID", `the archive's index.json lists ${entry.digest} with unsupported media type ${entry.mediaType}`);
    const { image } = chosen;
    const annotated = nameFromAnnotations(entry.annotations);
    const names = annotated !== undefined ? [annotated] : (repoTags.get(image.manifest.config.digest) ?? []).map(nameFromRepoTag);
    let plan = plans.get(chosen.entry.digest);
    if (plan === undefined) {
      plan = {
        names: [],
        manifestDigest: chosen.entry.digest,
        mediaType: chosen.entry.mediaType,
        size: chosen.entry.size,
        configDigest: image.manifest.config.digest,
        platform: platformOf(image.config),
        created: image.config.created,
      };
      plans.set(chosen.entry.digest, plan);
    }
    for (const n of names) {
      // A digest name given for an index names the platform manifest recorded, as after a pull by digest.
      const name = recordableName(n, entry.digest);
      plan.names.push(name.digest === undefined ? name : withDigest(repositoryOf(name), chosen.entry.digest));
    }
  }
  for (const plan of plans.values()) if (plan.names.length === 0) throw unnamed(plan.manifestDigest);
  return [...plans.values()];
}

async function planDocker(store: LocalStore, files: ArchiveFiles, manifestBytes: Buffer, signal: Signal): Promise<PlannedImage[]> {
  const plans: PlannedImage[] = [];
  for (const [i, entry] of parseDockerManifest(manifestBytes).entries()) {
    const what = `image ${i + 1} of the archive's manifest.json`;
    const configFile = files.get(entry.Config);
    if (configFile === undefined) throw incomplete(`it has no file ${entry.Config} (the config of ${what})`);
    const configBlob = await asBlob(store, configFile, signal);
    const named = digestInPath(entry.Config);
    if (named !== undefined && named !== configBlob.digest) {
      throw new BuildError("DIGEST_MISMATCH", `archive member ${entry.Config} hashes to ${configBlob.digest}, not the digest its name gives`, {
        hint: "the archive is damaged or was altered; nothing from it was recorded",
      });
    }
    const configBytes = await store.content.readBlob(configBlob.digest, { signal });
    const config = parseConfig(configBytes, `config ${configBlob.digest} of ${what}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) {
      throw new BuildError("MANIFEST_INVALID", `${what} lists ${entry.Layers.length} layers, but its config has ${diffIds.length} diff_ids`);
    }
    const layers: Descriptor[] = [];
    for (const [j, path] of entry.Layers.entries()) {
      const file = files.get(path);
      if (file === undefined) throw incomplete(`it has no file ${path} (layer ${j + 1} of ${what})`);
      const blob = await asBlob(store, file, signal);
      const expected = diffIds[j];
      const found = blob.digest === expected ? { compression: "none" as const, diffId: blob.digest } : await layerDiffId(store.content, blob.digest, { signal });
      if (found.diffId !== expected) {
        throw new BuildError("DIGEST_MISMATCH", `layer ${j + 1} of ${what} (${path}) has diff ID ${found.diffId}, but its config says ${String(expected)}`, {
          hint: "the archive is damaged or was altered; nothing from it was recorded",
        });
      }
      layers.push({ mediaType: layerMediaType(found.compression), digest: blob.digest, size: blob.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configBlob.digest, size: configBlob.size },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = digestOf(bytes);
    await store.content.writeBlob(bytes, { digest: manifestDigest, size: bytes.length }, { signal });
    if (entry.RepoTags.length === 0) throw unnamed(manifestDigest);
    plans.push({
      names: entry.RepoTags.map((t) => recordableName(nameFromRepoTag(t), manifestDigest)),
      manifestDigest,
      mediaType: MediaType.OciManifest,
      size: bytes.length,
      configDigest: configBlob.digest,
      platform: platformOf(config),
      created: config.created,
    });
  }
  return plans;
}

/**
 * Loads the archive `source` (a tar stream, plain or gzip) into `store`
 * and returns the names recorded, in archive order. See the module comment
 * for the formats and the guarantees.
 *
 * @throws BuildError DIGEST_MISMATCH for content that does not match its
 *   digest (nothing recorded); MANIFEST_INVALID for an archive that is
 *   incomplete, malformed or names no image; IO_READ for input that is no
 *   tar archive; ABORTED.
 */
export async function loadImageArchive(store: LocalStore, source: AsyncIterable<Uint8Array>, options: LoadImageOptions = {}): Promise<LoadedImage[]> {
  const signal = options.signal;
  const files = await readImageArchive(store.content, source, { signal });
  const index = files.get("index.json");
  const dockerManifest = files.get("manifest.json");
  let plans: PlannedImage[];
  if (index?.kind === "memory") plans = await planOci(store, files, index.bytes, signal);
  else if (dockerManifest?.kind === "memory") plans = await planDocker(store, files, dockerManifest.bytes, signal);
  else {
    throw new BuildError("IO_READ", "the input is not an image archive: it has neither an index.json nor a manifest.json", {
      hint: "give a tarball written by `tsbuild save`, `docker save` or `skopeo copy … oci-archive:/docker-archive:`",
    });
  }
  const loaded: LoadedImage[] = [];
  const seen = new Set<string>();
  for (const plan of plans) {
    for (const name of plan.names) {
      if (seen.has(name.toString())) continue;
      seen.add(name.toString());
      const record = await store.images.putImage(
        {
          name,
          manifestDigest: plan.manifestDigest,
          mediaType: plan.mediaType,
          size: plan.size,
          configDigest: plan.configDigest,
          platform: plan.platform,
          created: plan.created,
        },
        { signal },
      );
      loaded.push({ name, record });
    }
  }
  return loaded;
}
