import { BuildError, withLocation } from "../diagnostics/build-error.js";
import type { SourceRange } from "../diagnostics/source.js";
import { isIndexType } from "../oci/media-types.js";
import type { Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/types.js";
import type { BaseImage } from "../plan/graph.js";
import type { LocalStore } from "../store/store.js";
import type { PlatformSpec } from "../instructions/platform.js";
import { parseConfig } from "../image/documents.js";

/** Fetches an image into `store` (the registry pull), returning nothing: the store then has it. */
export type PullFunction = (ref: string, platform: PlatformSpec, store: LocalStore, signal?: AbortSignal) => Promise<void>;

/** Options of {@link resolveBaseImages}. */
export interface ResolveBaseImagesOptions {
  /** The local store. */
  readonly store: LocalStore;
  /** Image references to resolve. */
  readonly refs: readonly string[];
  /** The platform to build for. */
  readonly platform: PlatformSpec;
  /** `--pull`: re-resolve every reference against its registry even if the store has it. */
  readonly pull: boolean;
  /** How to fetch an image the store lacks. */
  readonly fetch?: PullFunction;
  /** Where each reference is used first; a failure to resolve it then names that line. */
  readonly locate?: (ref: string) => SourceRange | undefined;
  /** Called around each resolution (progress). */
  readonly onPhase?: (name: string, status: "start" | "done") => void;
  /** Cancels. */
  readonly signal?: AbortSignal;
}

/**
 * Resolves every base image once per build: from the local store when it
 * has the reference (and `--pull` was not given), otherwise through
 * `fetch`, after which the store has it. Reads the manifest and config
 * blobs, verifying them.
 */
export async function resolveBaseImages(options: ResolveBaseImagesOptions): Promise<Map<string, BaseImage>> {
  const out = new Map<string, BaseImage>();
  await Promise.all(
    options.refs.map(async (ref) => {
      const phase = `resolve image ${ref}`;
      options.onPhase?.(phase, "start");
      try {
        out.set(ref, await resolveOne(ref, options));
      } catch (err) {
        const range = options.locate?.(ref);
        throw range ? withLocation(err, range) : err;
      }
      options.onPhase?.(phase, "done");
    }),
  );
  return out;
}

async function resolveOne(ref: string, options: ResolveBaseImagesOptions): Promise<BaseImage> {
  let record = options.pull ? undefined : await options.store.images.getImage(ref, { ...(options.signal ? { signal: options.signal } : {}) }).catch(() => undefined);
  if (!record) {
    if (!options.fetch) {
      throw new BuildError("STORE_NOT_FOUND", `base image ${ref} is not in the local store`, { hint: `pull it first: tsbuild pull ${ref}` });
    }
    await options.fetch(ref, options.platform, options.store, options.signal);
    record = await options.store.images.getImage(ref);
    if (!record) throw new BuildError("INTERNAL", `pulling ${ref} did not record it in the store`);
  }
  return loadImage(options.store, ref, record.manifestDigest, options.platform);
}

async function loadImage(store: LocalStore, ref: string, digest: Digest, platform: PlatformSpec): Promise<BaseImage> {
  const read = async <T>(d: string): Promise<T> => JSON.parse(Buffer.from(await store.content.readBlob(d as Digest)).toString("utf8")) as T;
  let manifestDigest: string = digest;
  let manifest = await read<ImageManifest & ImageIndex>(digest);
  if (isIndexType(manifest.mediaType) || Array.isArray(manifest.manifests)) {
    const entry = manifest.manifests.find(
      (m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture && (platform.variant === undefined || m.platform.variant === platform.variant),
    );
    if (!entry) throw new BuildError("MANIFEST_INVALID", `image ${ref} has no manifest for ${platform.os}/${platform.architecture}`);
    manifestDigest = entry.digest;
    manifest = await read<ImageManifest & ImageIndex>(entry.digest);
  }
  // Checked in full, not just parsed: its diffIDs name snapshot directories (a crafted "sha256:../.." must not reach one).
  const config = parseConfig(Buffer.from(await store.content.readBlob(manifest.config.digest as Digest)), `config of ${ref}`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new BuildError("MANIFEST_INVALID", `image ${ref}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in its config`);
  }
  return { ref, manifestDigest, config, layers: manifest.layers };
}
