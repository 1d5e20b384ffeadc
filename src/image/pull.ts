/**
 * Pulling an image from a registry into the local store.
 *
 * Steps: fetch the manifest by tag or digest; if it is an index (manifest
 * list), pick the manifest for the platform (platform-select.ts) and fetch
 * it by digest; download the config and the layers in parallel (bounded),
 * each streamed from the socket into the content store, which hashes it
 * while writing and only renames it into place when digest and size match;
 * then store the manifest (and index) blobs, remember which repository the
 * blobs came from (so a later push to the same registry can mount them),
 * and record the image under its name.
 *
 * Why it is safe to kill: a blob appears under its digest only complete and
 * verified (temp file + rename), and the image record is written last, so
 * a killed pull leaves at most temp files (removed by a later `openStore`)
 * and complete blobs, which the next pull finds and does not download again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BuildError } from "../diagnostics/build-error.js";
import { isDigest, parseDigest, type Digest } from "../oci/digest.js";
import { isForeignLayer, isIndexType, isManifestType, MediaType } from "../oci/media-types.js";
import type { Descriptor, ImageIndex, ImageManifest, Platform } from "../oci/types.js";
import { RegistryClient, type RegistryClientOptions } from "../registry/client.js";
import { runBounded } from "../registry/parallel.js";
import {
  parseReference,
  referenceFromParts,
  repositoryOf,
  withDefaultTag,
  withDigest,
  type ImageReference,
} from "../registry/reference.js";
import { abortedError, backoffDelay, isRetryableError, type RetryPolicy } from "../registry/retry.js";
import type { ContentStore } from "../store/content-store.js";
import type { ImageStore } from "../store/image-store.js";
import {
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformRank,
  selectManifest,
  type PlatformSpec,
} from "./platform-select.js";
import { ProgressTracker, type BlobRole, type ProgressListener } from "./progress.js";
import { parseConfig } from "./documents.js";

/** Default number of blobs transferred at once. */
export const DEFAULT_TRANSFER_CONCURRENCY = 4;

/** Default attempts to download one blob (the transport retries each request on top of this). */
export const DEFAULT_BLOB_ATTEMPTS = 5;

/** Nested indexes followed at most this deep (an index of indexes is legal but rare; a cycle is hostile). */
const MAX_INDEX_DEPTH = 4;

/** The parts of a local store pull and push use. */
export interface ImageStores {
  /** Blobs by digest. */
  readonly content: ContentStore;
  /** Image names and blob sources. */
  readonly images: ImageStore;
}

/** Options of {@link pullImage}. */
export interface PullImageOptions {
  /** What to pull: `127.0.0.1:5000/busybox:test`, `alpine`, `repo@sha256:…`. A bare name means `:latest`. */
  readonly ref: string | ImageReference;
  /**
   * The platform to pull from an index (`linux/arm64`, or a spec). Default:
   * this machine's ({@link hostPlatform}). When given explicitly, a
   * single-platform image for another platform is refused.
   */
  readonly platform?: PlatformSpec | string | undefined;
  /** The local store to pull into. */
  readonly store: ImageStores;
  /** A client for the reference's registry, owned by the caller (not closed). Default: one made from {@link clientOptions}. */
  readonly client?: RegistryClient | undefined;
  /** Options of the client made when {@link client} is absent (credentials, insecure registries...). */
  readonly clientOptions?: Omit<RegistryClientOptions, "host"> | undefined;
  /** Blobs downloaded at once. Default {@link DEFAULT_TRANSFER_CONCURRENCY}. */
  readonly concurrency?: number | undefined;
  /**
   * Retries of a blob whose download breaks off (a reset connection, a body
   * cut short): attempts (default {@link DEFAULT_BLOB_ATTEMPTS}) and backoff.
   * Default: `clientOptions.retry`, else the registry defaults. Each request
   * is also retried by the transport before its response starts.
   */
  readonly retry?: RetryPolicy | undefined;
  /** Receives progress events. */
  readonly onProgress?: ProgressListener | undefined;
  /** Cancels the pull; it rejects with ABORTED and leaves no partial blob under a final name. */
  readonly signal?: AbortSignal | undefined;
}

/** What happened to one blob of a pull. */
export interface PulledBlob {
  /** The blob's digest. */
  readonly digest: Digest;
  /** Config or layer. */
  readonly role: BlobRole;
  /** Its size. */
  readonly size: number;
  /** `cached`: it was in the store already; `downloaded`: fetched now. */
  readonly status: "cached" | "downloaded";
}

/** The result of {@link pullImage}. */
export interface PullResult {
  /** The name the image was recorded under (`host/repo:tag`, or `host/repo@sha256:…` for a pull by digest). */
  readonly name: ImageReference;
  /**
   * The digest the reference resolved to at the registry: the index's for
   * a multi-platform image, else the manifest's. This is what Docker prints
   * as `Digest:` and what pins the reference.
   */
  readonly digest: Digest;
  /** Digest of the platform manifest that was pulled. */
  readonly manifestDigest: Digest;
  /** Digest of the index the manifest was chosen from, if there was one. */
  readonly indexDigest?: Digest | undefined;
  /** Media type of the platform manifest. */
  readonly mediaType: string;
  /** Digest of the image config (the image ID). */
  readonly configDigest: Digest;
  /** Size of the platform manifest in bytes (as in the image record). */
  readonly size: number;
  /** Bytes of config and layers. */
  readonly contentSize: number;
  /** The image's platform, from its config. */
  readonly platform: Platform;
  /** `up-to-date`: the name already held this manifest; `downloaded`: the name is new or changed. */
  readonly status: "downloaded" | "up-to-date";
  /** Config and layers with what happened to each. */
  readonly blobs: readonly PulledBlob[];
  /** Bytes downloaded in this pull (final successful attempts only). */
  readonly downloadedBytes: number;
  /** Things the user should know that did not stop the pull (e.g. a platform other than the host's). */
  readonly warnings: readonly string[];
}

/** A manifest's bytes with what is known about them. */
interface ManifestBlob {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly mediaType: string;
}

/**
 * Adds `ref` to an error's message when the message does not already name
 * it, so every failure says which image it is about. Registry errors
 * already name host, status and the registry's code and message.
 */
export function inContext(err: unknown, ref: string): unknown {
  if (!(err instanceof BuildError) || err.message.includes(ref)) return err;
  const wrapped = new BuildError(err.code, `${ref}: ${err.message}`, { hint: err.hint, cause: err.cause, locations: err.locations });
  wrapped.stack = err.stack;
  return wrapped;
}

function invalidManifest(what: string, detail: string): BuildError {
  return new BuildError("MANIFEST_INVALID", `${what}: ${detail}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks one descriptor's fields; digests and sizes go into URLs and size checks, so they must be well formed. */
function checkDescriptor(d: unknown, what: string): Descriptor {
  if (!isObject(d)) throw invalidManifest(what, "a descriptor is not an object");
  if (typeof d["digest"] !== "string" || !isDigest(d["digest"])) {
    throw invalidManifest(what, `invalid or unsupported digest ${JSON.stringify(d["digest"])} (only sha256 is supported)`);
  }
  if (typeof d["size"] !== "number" || !Number.isSafeInteger(d["size"]) || d["size"] < 0) {
    throw invalidManifest(what, `invalid size ${JSON.stringify(d["size"])} for ${d["digest"]}`);
  }
  if (typeof d["mediaType"] !== "string") throw invalidManifest(what, `descriptor ${d["digest"]} has no media type`);
  return d as unknown as Descriptor;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalidManifest(what, "not valid JSON");
  }
  if (!isObject(v)) throw invalidManifest(what, "not a JSON object");
  if (v["schemaVersion"] !== 2) {
    throw invalidManifest(what, `schema version ${String(v["schemaVersion"])} is not supported (only schema 2 / OCI)`);
  }
  return v;
}

/** Parses and checks an image manifest. */
export function parseImageManifest(bytes: Buffer, what: string): ImageManifest {
  const v = parseJson(bytes, what);
  checkDescriptor(v["config"], what);
  if (!Array.isArray(v["layers"])) throw invalidManifest(what, "no layers list");
  for (const l of v["layers"]) checkDescriptor(l, what);
  return v as unknown as ImageManifest;
}

/** Parses and checks an image index / manifest list. */
export function parseImageIndex(bytes: Buffer, what: string): ImageIndex {
  const v = parseJson(bytes, what);
  if (!Array.isArray(v["manifests"])) throw invalidManifest(what, "no manifests list");
  for (const m of v["manifests"]) checkDescriptor(m, what);
  return v as unknown as ImageIndex;
}

/** The media type of a manifest read from the local store, where no `Content-Type` exists. */
function mediaTypeOf(bytes: Buffer, fallback: string | undefined): string | undefined {
  if (fallback !== undefined) return fallback;
  try {
    const v = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    if (typeof v["mediaType"] === "string") return v["mediaType"];
    // OCI makes mediaType optional; the shape tells.
    if (Array.isArray(v["manifests"])) return MediaType.OciIndex;
    if (isObject(v["config"]) && Array.isArray(v["layers"])) return MediaType.OciManifest;
  } catch {
    // Reported as an invalid manifest when parsed.
  }
  return undefined;
}


/** True when `err` is a broken connection or a body cut short: worth downloading the blob again. */
function isTransientDownload(err: unknown, received: number, size: number): boolean {
  if (err instanceof BuildError) {
    if (err.code === "ABORTED") return false;
    // The store says "has N bytes, expected M" for a body that ended early:
    // a connection closed cleanly mid-body. Different bytes of the right
    // length are corruption and are not retried.
    if (err.code === "DIGEST_MISMATCH") return received < size;
    return false;
  }
  return isRetryableError(err);
}

/**
 * Pulls an image into the local store; see the module comment.
 *
 * @throws BuildError REF_INVALID for a bad reference; REGISTRY_* for
 *   registry failures (naming the reference, host, status and the
 *   registry's error code and message); MANIFEST_INVALID for an unusable
 *   manifest or no manifest for the platform; DIGEST_MISMATCH when content
 *   does not match its digest (nothing is stored then); ABORTED.
 */
export async function pullImage(options: PullImageOptions): Promise<PullResult> {
  const ref = withDefaultTag(typeof options.ref === "string" ? parseReference(options.ref) : options.ref);
  const display = ref.toString();
  const client = options.client ?? RegistryClient.forReference(ref, options.clientOptions);
  try {
    return await pull(ref, client, options);
  } catch (err) {
    if (options.signal?.aborted === true && !(err instanceof BuildError && err.code === "ABORTED")) {
      throw abortedError(options.signal, `pull of ${display}`);
    }
    throw inContext(err, display);
  } finally {
    if (options.client === undefined) await client.close();
  }
}

async function pull(ref: ImageReference, client: RegistryClient, options: PullImageOptions): Promise<PullResult> {
  const { store, signal } = options;
  const display = ref.toString();
  const repository = ref.path;
  const explicitPlatform = options.platform !== undefined;
  const wanted: PlatformSpec =
    options.platform === undefined ? hostPlatform() : typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
  const tracker = new ProgressTracker(display, options.onProgress);
  const warnings: string[] = [];
  tracker.phase("resolving");

  /** A manifest by tag or digest; by digest it comes from the store when present (content addressing makes that safe). */
  const fetchManifest = async (reference: string, knownType: string | undefined): Promise<ManifestBlob> => {
    if (isDigest(reference) && (await store.content.hasBlob(reference, { signal }))) {
      const bytes = Buffer.from(await store.content.readBlob(reference, { signal }));
      const mediaType = mediaTypeOf(bytes, knownType);
      if (mediaType !== undefined) return { bytes, digest: reference, mediaType };
    }
    const m = await client.getManifest(repository, reference, { signal });
    return { bytes: m.bytes, digest: m.digest, mediaType: m.mediaType };
  };

  const top = await fetchManifest(ref.digest ?? ref.tag ?? "latest", undefined).catch(async (err: unknown) => {
    throw await explainMissingManifest(err, client, repository, signal);
  });
  const indexes: ManifestBlob[] = [];
  let current = top;
  let selectedPlatform: Platform | undefined;
  for (let depth = 0; isIndexType(current.mediaType); depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw invalidManifest(`index ${current.digest}`, `nested more than ${MAX_INDEX_DEPTH} levels deep`);
    const index = parseImageIndex(current.bytes, `index ${current.digest} of ${display}`);
    indexes.push(current);
    const entry = selectManifest(index.manifests, wanted, display);
    selectedPlatform = entry.platform;
    const child = await fetchManifest(entry.digest, entry.mediaType);
    if (child.digest !== entry.digest) throw new BuildError("DIGEST_MISMATCH", `manifest ${entry.digest} of ${display} hashes to ${child.digest}`);
    if (child.bytes.length !== entry.size) {
      throw new BuildError("DIGEST_MISMATCH", `manifest ${entry.digest} of ${display} has ${child.bytes.length} bytes, the index says ${entry.size}`);
    }
    current = child;
  }
  if (!isManifestType(current.mediaType)) {
    const schema1 = current.mediaType.includes("manifest.v1");
    throw invalidManifest(
      `manifest ${current.digest} of ${display}`,
      schema1 ? "Docker schema 1 manifests are not supported" : `unsupported media type "${current.mediaType}"`,
    );
  }
  const manifest = parseImageManifest(current.bytes, `manifest ${current.digest} of ${display}`);
  const manifestDigest = current.digest;
  tracker.phase("resolved", manifestDigest);

  const configDigest = parseDigest(manifest.config.digest);
  const blobs: { desc: Descriptor; role: BlobRole }[] = [{ desc: manifest.config, role: "config" }];
  const seen = new Set<string>([configDigest]);
  for (const layer of manifest.layers) {
    if (isForeignLayer(layer.mediaType) || seen.has(layer.digest)) continue;
    seen.add(layer.digest);
    blobs.push({ desc: layer, role: "layer" });
  }
  for (const b of blobs) tracker.add(parseDigest(b.desc.digest), b.role, b.desc.size);
  tracker.start();

  const retry = options.retry ?? options.clientOptions?.retry ?? {};
  const attempts = Math.max(1, retry.attempts ?? DEFAULT_BLOB_ATTEMPTS);
  let downloadedBytes = 0;
  const pulled = await runBounded(
    blobs,
    async ({ desc, role }, taskSignal): Promise<PulledBlob> => {
      const digest = parseDigest(desc.digest);
      if (await store.content.hasBlob(digest, { signal: taskSignal })) {
        tracker.update(digest, "cached");
        return { digest, role, size: desc.size, status: "cached" };
      }
      for (let attempt = 1; ; attempt++) {
        let received = 0;
        tracker.update(digest, "downloading", 0);
        try {
          const body = await client.getBlob(repository, digest, { signal: taskSignal });
          // Unverified bytes go straight into the store's writer, which
          // hashes and counts them and publishes nothing unless both match
          // the descriptor: one hashing pass, and never a layer in memory.
          const counted = countChunks(body, (n) => {
            received = n;
            tracker.update(digest, "downloading", n);
          });
          await store.content.writeBlob(counted, { digest, size: desc.size }, { signal: taskSignal });
          downloadedBytes += desc.size;
          tracker.update(digest, "downloaded");
          return { digest, role, size: desc.size, status: "downloaded" };
        } catch (err) {
          if (taskSignal.aborted) throw err instanceof BuildError && err.code === "ABORTED" ? err : abortedError(taskSignal, `download of ${digest}`);
          if (attempt >= attempts || !isTransientDownload(err, received, desc.size)) throw downloadError(err, digest, client.host, repository);
          await sleep(backoffDelay(attempt, retry), undefined, { signal: taskSignal }).catch(() => undefined);
        }
      }
    },
    { concurrency: options.concurrency ?? DEFAULT_TRANSFER_CONCURRENCY, signal, what: `pull of ${display}` },
  );

  const configBytes = Buffer.from(await store.content.readBlob(configDigest, { signal, expectedSize: manifest.config.size }));
  // Checked in full (rootfs.diff_ids above all): a diffID names the directory its layer is extracted to, so a
  // crafted one such as "sha256:../../root" must never get that far (the same check `load` makes).
  const config = parseConfig(configBytes, `config ${configDigest} of ${display}`);
  const platform: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(typeof config.variant === "string" && config.variant !== "" ? { variant: config.variant } : selectedPlatform?.variant !== undefined ? { variant: selectedPlatform.variant } : {}),
  };
  if (indexes.length === 0 && platformRank(wanted, platform) === undefined) {
    const message = `the image's platform (${formatPlatform(platform)}) does not match the ${explicitPlatform ? "requested" : "detected host"} platform (${formatPlatform(wanted)})`;
    if (explicitPlatform) throw invalidManifest(display, message);
    warnings.push(message);
  }

  tracker.phase("manifest", manifestDigest);
  // Manifests after the blobs they name, and the record last: a record never
  // points at content that is not there.
  await store.content.writeBlob(current.bytes, { digest: manifestDigest, size: current.bytes.length }, { signal });
  for (const index of indexes) await store.content.writeBlob(index.bytes, { digest: index.digest, size: index.bytes.length }, { signal });

  const source = repositoryOf(ref);
  for (const b of pulled) {
    try {
      await store.images.recordBlobSource(b.digest, source, { signal });
    } catch (err) {
      if (signal?.aborted === true) throw err;
      // Sources are hints for cross-repository mounts; losing one costs an upload later, never correctness.
    }
  }

  const name =
    ref.digest !== undefined
      ? withDigest(repositoryOf(ref), manifestDigest)
      : referenceFromParts({ domain: ref.domain, path: ref.path, tag: ref.tag ?? "latest" });
  const previous = await store.images.getImage(name, { signal }).catch(() => undefined);
  await store.images.putImage(
    {
      name,
      manifestDigest,
      mediaType: current.mediaType,
      size: current.bytes.length,
      configDigest,
      platform,
      created: typeof config.created === "string" ? config.created : undefined,
    },
    { signal },
  );
  tracker.phase("done", manifestDigest);
  return {
    name,
    digest: top.digest,
    manifestDigest,
    indexDigest: indexes[0]?.digest,
    mediaType: current.mediaType,
    configDigest,
    size: current.bytes.length,
    contentSize: blobs.reduce((n, b) => n + b.desc.size, 0),
    platform,
    status: previous?.manifestDigest === manifestDigest ? "up-to-date" : "downloaded",
    blobs: pulled,
    downloadedBytes,
    warnings,
  };
}

/**
 * Some registries (distribution among them) answer MANIFEST_UNKNOWN for a
 * tag of a repository that does not exist at all. Asking for the tag list
 * tells the two apart, so the user reads "repository name not known"
 * (NAME_UNKNOWN) instead of hunting for a tag in a repository that is not
 * there. Only on this failure path, so it costs nothing otherwise.
 */
async function explainMissingManifest(err: unknown, client: RegistryClient, repository: string, signal: AbortSignal | undefined): Promise<unknown> {
  // The registry's code is only carried in the message text (registry/errors.ts).
  if (!(err instanceof BuildError) || err.code !== "REGISTRY_ERROR" || !/: MANIFEST_UNKNOWN\b/.test(err.message)) return err;
  try {
    await client.listTags(repository, { signal });
  } catch (tagsErr) {
    if (tagsErr instanceof BuildError && /NAME_UNKNOWN/.test(tagsErr.message)) return tagsErr;
  }
  return err;
}

/** Turns a failed blob download into a BuildError naming the blob and the registry. */
function downloadError(err: unknown, digest: Digest, host: string, repository: string): unknown {
  if (err instanceof BuildError) {
    if (err.code !== "DIGEST_MISMATCH" || err.message.includes(host)) return err;
    return new BuildError("DIGEST_MISMATCH", `blob ${digest} from ${host}/${repository}: ${err.message}`, {
      hint: "the registry sent different content than the manifest promised; nothing was stored",
      cause: err.cause,
    });
  }
  const msg = err instanceof Error ? err.message : String(err);
  const code = typeof (err as { code?: unknown })?.code === "string" ? ` (${(err as { code: string }).code})` : "";
  return new BuildError("REGISTRY_UNREACHABLE", `downloading blob ${digest} from ${host}/${repository} failed: ${msg}${code}`, { cause: err });
}

/**
 * Bytes handed to the store per write. Sockets deliver 16-64 KiB pieces;
 * hashing and writing them in ~1 MiB batches costs far fewer file system
 * round trips and hash calls.
 */
const WRITE_BATCH = 1024 * 1024;

/**
 * Passes the bytes through in batches of {@link WRITE_BATCH}, reporting the
 * running byte count. The batch buffer is reused: the store's writer hashes
 * and writes each batch completely before it asks for the next one, so a
 * download holds one batch buffer rather than allocating a new one per
 * MiB for the garbage collector to catch up with (which shows as resident
 * memory far above what is live).
 */
async function* countChunks(source: AsyncIterable<Uint8Array>, onBytes: (total: number) => void): AsyncGenerator<Uint8Array> {
  let total = 0;
  const batch = Buffer.allocUnsafe(WRITE_BATCH);
  let fill = 0;
  for await (const chunk of source) {
    total += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, WRITE_BATCH - fill);
      batch.set(chunk.subarray(offset, offset + n), fill);
      fill += n;
      offset += n;
      if (fill === WRITE_BATCH) {
        onBytes(total - (chunk.length - offset));
        yield batch;
        fill = 0;
      }
    }
  }
  onBytes(total);
  if (fill > 0) yield batch.subarray(0, fill);
}
