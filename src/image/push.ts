/**
 * Pushing an image from the local store to a registry.
 *
 * Order matters to the registry: every blob a manifest names must be in the
 * repository before the manifest is accepted, so config and layers go
 * first (in parallel, bounded), then child manifests of an index (by
 * digest), and the top manifest last, under its tag (or its digest when
 * the target reference has one).
 *
 * Each blob costs as little as possible: a `HEAD` first (present blobs send
 * nothing, which makes a re-push of an unchanged image a handful of small
 * requests); then, when the store knows another repository of the same
 * registry that holds the blob (recorded by earlier pulls and pushes), a
 * cross-repository mount; only then an upload (monolithic or chunked by
 * size, with fallback, see registry/upload.ts), streamed from the blob file.
 */
import { BuildError } from "../diagnostics/build-error.js";
import { parseDigest, type Digest } from "../oci/digest.js";
import { isForeignLayer, isIndexType, isManifestType } from "../oci/media-types.js";
import type { Descriptor } from "../oci/types.js";
import { RegistryClient, type RegistryClientOptions } from "../registry/client.js";
import { runBounded } from "../registry/parallel.js";
import { parseReference, repositoryOf, withDefaultTag, type ImageReference } from "../registry/reference.js";
import { abortedError } from "../registry/retry.js";
import type { ImageRecord } from "../store/image-record.js";
import { ProgressTracker, type BlobRole, type ProgressListener } from "./progress.js";
import {
  DEFAULT_TRANSFER_CONCURRENCY,
  inContext,
  parseImageIndex,
  parseImageManifest,
  type ImageStores,
} from "./pull.js";

/** Options of {@link pushImage}. */
export interface PushImageOptions {
  /** The local image: a name (`127.0.0.1:5000/busybox:test`), a digest reference, or an image ID (prefix). */
  readonly source: string | ImageReference;
  /**
   * Where to push it. Default: the source's name. A bare repository means
   * `:latest`; a reference with a digest pushes by digest (it must be the
   * image's manifest digest).
   */
  readonly target?: string | ImageReference | undefined;
  /** The local store holding the image. */
  readonly store: ImageStores;
  /** A client for the target's registry, owned by the caller (not closed). Default: one made from {@link clientOptions}. */
  readonly client?: RegistryClient | undefined;
  /** Options of the client made when {@link client} is absent. */
  readonly clientOptions?: Omit<RegistryClientOptions, "host"> | undefined;
  /** Blobs uploaded at once. Default 4. */
  readonly concurrency?: number | undefined;
  /** Try cross-repository mounts from repositories the store knows hold a blob. Default true. */
  readonly mount?: boolean | undefined;
  /** Receives progress events. */
  readonly onProgress?: ProgressListener | undefined;
  /** Cancels the push (open upload sessions are cancelled best effort). */
  readonly signal?: AbortSignal | undefined;
}

/** What happened to one blob of a push. */
export interface PushedBlob {
  /** The blob's digest. */
  readonly digest: Digest;
  /** Config or layer. */
  readonly role: BlobRole;
  /** Its size. */
  readonly size: number;
  /** `exists`: the repository had it; `mounted`: linked from `mountedFrom`; `uploaded`: bytes were sent. */
  readonly status: "exists" | "mounted" | "uploaded";
  /** For `mounted`: the repository (path on the same registry) it was mounted from. */
  readonly mountedFrom?: string | undefined;
}

/** The result of {@link pushImage}. */
export interface PushResult {
  /** The reference pushed to: `host/repo:tag`, or `host/repo@sha256:…` for a push by digest. */
  readonly name: ImageReference;
  /** The digest of the pushed (top) manifest, as the registry now serves it. */
  readonly digest: Digest;
  /** Size of that manifest in bytes (what Docker prints as `size:`). */
  readonly size: number;
  /** Its media type. */
  readonly mediaType: string;
  /** Every config and layer blob with what happened to it. */
  readonly blobs: readonly PushedBlob[];
  /** Blob bytes uploaded (blobs that existed or were mounted count nothing). */
  readonly uploadedBytes: number;
}

/** A manifest to put, with the blobs it needs. */
interface ManifestToPush {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/** Reads a manifest (or index) blob from the store, with a hint when it is missing. */
async function readManifest(stores: ImageStores, digest: Digest, size: number | undefined, what: string, signal: AbortSignal | undefined): Promise<Buffer> {
  try {
    return Buffer.from(await stores.content.readBlob(digest, { signal, expectedSize: size }));
  } catch (err) {
    if (err instanceof BuildError && err.code === "STORE_NOT_FOUND") {
      throw new BuildError("STORE_NOT_FOUND", `${what} ${digest} is not in the local store`, {
        hint: "pull the image again (for an index, pull every platform that should be pushed)",
      });
    }
    throw err;
  }
}

function resolveTarget(options: PushImageOptions, record: ImageRecord): ImageReference {
  if (options.target !== undefined) {
    return withDefaultTag(typeof options.target === "string" ? parseReference(options.target) : options.target);
  }
  if (typeof options.source !== "string") return withDefaultTag(options.source);
  let parsed: ImageReference | undefined;
  try {
    parsed = withDefaultTag(parseReference(options.source));
  } catch {
    parsed = undefined;
  }
  // An image ID (or ID prefix, which may also parse as a Hub name): push
  // under the name the store has for the image it resolved to.
  return parsed !== undefined && parsed.name === record.name.name ? parsed : record.name;
}

/**
 * Pushes a local image; see the module comment. Returns the digest the
 * registry serves the image under.
 *
 * @throws BuildError STORE_NOT_FOUND when the image or one of its blobs is
 *   not in the store; REF_INVALID for a digest target that is not the
 *   image's; REGISTRY_* for registry failures (naming the reference, host,
 *   status and the registry's error code and message); ABORTED.
 */
export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  const { store, signal } = options;
  const record = await store.images.resolve(options.source, { signal });
  const target = resolveTarget(options, record);
  const display = target.toString();
  if (target.digest !== undefined && target.digest !== record.manifestDigest) {
    throw new BuildError("REF_INVALID", `cannot push ${record.name.familiar()} as ${target.familiar()}: its manifest digest is ${record.manifestDigest}`);
  }
  const client = options.client ?? RegistryClient.forReference(target, options.clientOptions);
  try {
    return await push(record, target, client, options);
  } catch (err) {
    if (signal?.aborted === true && !(err instanceof BuildError && err.code === "ABORTED")) throw abortedError(signal, `push of ${display}`);
    throw inContext(err, display);
  } finally {
    if (options.client === undefined) await client.close();
  }
}

async function push(record: ImageRecord, target: ImageReference, client: RegistryClient, options: PushImageOptions): Promise<PushResult> {
  const { store, signal } = options;
  const display = target.toString();
  const repository = target.path;
  const tracker = new ProgressTracker(display, options.onProgress);
  tracker.phase("resolving");

  const topBytes = await readManifest(store, record.manifestDigest, record.size, "manifest", signal);
  const children: ManifestToPush[] = [];
  const blobs: { desc: Descriptor; role: BlobRole }[] = [];
  const seen = new Set<string>();
  const addManifest = (bytes: Buffer, digest: Digest): void => {
    const manifest = parseImageManifest(bytes, `manifest ${digest} of ${record.name.familiar()}`);
    const entries: { desc: Descriptor; role: BlobRole }[] = [
      { desc: manifest.config, role: "config" },
      ...manifest.layers.map((desc) => ({ desc, role: "layer" as const })),
    ];
    for (const e of entries) {
      if (seen.has(e.desc.digest)) continue;
      // Foreign layers live elsewhere by design; registries refuse them as uploads.
      if (e.role === "layer" && isForeignLayer(e.desc.mediaType)) continue;
      seen.add(e.desc.digest);
      blobs.push(e);
    }
  };
  if (isIndexType(record.mediaType)) {
    const index = parseImageIndex(topBytes, `index ${record.manifestDigest} of ${record.name.familiar()}`);
    for (const entry of index.manifests) {
      const digest = parseDigest(entry.digest);
      const bytes = await readManifest(store, digest, entry.size, `manifest for ${entry.platform?.os ?? "?"}/${entry.platform?.architecture ?? "?"}`, signal);
      if (!isManifestType(entry.mediaType)) {
        throw new BuildError("MANIFEST_INVALID", `cannot push nested index ${digest} of ${record.name.familiar()}`);
      }
      addManifest(bytes, digest);
      children.push({ digest, mediaType: entry.mediaType, bytes });
    }
  } else if (isManifestType(record.mediaType)) {
    addManifest(topBytes, record.manifestDigest);
  } else {
    throw new BuildError("MANIFEST_INVALID", `cannot push ${record.name.familiar()}: unsupported manifest media type "${record.mediaType}"`);
  }
  tracker.phase("resolved", record.manifestDigest);
  for (const b of blobs) tracker.add(parseDigest(b.desc.digest), b.role, b.desc.size);
  tracker.start();

  let uploadedBytes = 0;
  const pushed = await runBounded(
    blobs,
    async ({ desc, role }, taskSignal): Promise<PushedBlob> => {
      const digest = parseDigest(desc.digest);
      tracker.update(digest, "checking");
      const mountFrom = options.mount === false ? undefined : await mountSource(store, digest, target, taskSignal);
      const result = await client.pushBlob(
        repository,
        {
          digest,
          size: desc.size,
          // No hashing here: the registry hashes what it receives and refuses
          // a mismatch (DIGEST_INVALID), so a damaged local blob cannot be
          // published, and the upload path stays a plain file read.
          open: () => store.content.openBlob(digest, { expectedSize: desc.size, verify: false, signal: taskSignal }),
        },
        { mountFrom, signal: taskSignal, onProgress: (n) => tracker.update(digest, "uploading", n) },
      );
      tracker.update(digest, result.status);
      if (result.status === "uploaded") uploadedBytes += desc.size;
      try {
        await store.images.recordBlobSource(digest, repositoryOf(target), { signal: taskSignal });
      } catch (err) {
        if (taskSignal.aborted) throw err;
        // A lost hint costs a future mount, nothing else.
      }
      return { digest, role, size: desc.size, status: result.status, mountedFrom: result.status === "mounted" ? mountFrom : undefined };
    },
    { concurrency: options.concurrency ?? DEFAULT_TRANSFER_CONCURRENCY, signal, what: `push of ${display}` },
  );

  tracker.phase("manifest", record.manifestDigest);
  for (const child of children) {
    await client.putManifest(repository, child.digest, child.bytes, child.mediaType, { signal });
  }
  const reference = target.digest ?? target.tag ?? "latest";
  const digest = await client.putManifest(repository, reference, topBytes, record.mediaType, { signal });
  tracker.phase("done", digest);
  return { name: target, digest, size: topBytes.length, mediaType: record.mediaType, blobs: pushed, uploadedBytes };
}

/**
 * A repository on the target's registry that is known to hold `digest`,
 * to mount from: the most recently recorded one other than the target.
 */
async function mountSource(store: ImageStores, digest: Digest, target: ImageReference, signal: AbortSignal): Promise<string | undefined> {
  let sources: string[];
  try {
    sources = await store.images.blobSources(digest, { signal });
  } catch {
    return undefined;
  }
  for (const s of [...sources].reverse()) {
    try {
      const ref = parseReference(s);
      if (ref.domain === target.domain && ref.path !== target.path) return ref.path;
    } catch {
      // An unparseable hint is no hint.
    }
  }
  return undefined;
}
