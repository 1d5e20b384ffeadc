import { MediaType } from "../oci/media-types.js";
import { digestOf, type Digest } from "../oci/digest.js";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../oci/types.js";
import type { PlannedStage } from "../plan/graph.js";
import type { StageOutcome } from "../solve/solver.js";
import type { FsContentStore } from "../store/fs-content-store.js";

/** The image a build produced, stored as blobs. */
export interface BuiltImage {
  /** Manifest descriptor (OCI image manifest). */
  readonly manifest: Descriptor;
  /** The manifest's bytes. */
  readonly manifestBytes: Uint8Array;
  /** Config descriptor; its digest is the image ID. */
  readonly config: Descriptor;
  /** The config object. */
  readonly imageConfig: ImageConfig;
  /** The platform. */
  readonly platform: Platform;
}

/** Options of {@link writeImage}. */
export interface WriteImageOptions {
  /** The target stage's plan (config, platform, author). */
  readonly stage: PlannedStage;
  /** What the solve produced for it. */
  readonly outcome: StageOutcome;
  /** `--label` values, added over the Dockerfile's labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `SOURCE_DATE_EPOCH` in seconds: the config's creation time. */
  readonly sourceDateEpoch?: number;
  /** Where blobs go. */
  readonly content: FsContentStore;
  /** Cancels. */
  readonly signal?: AbortSignal;
}

// Docker's gzip layer type names the same bytes as OCI's; an OCI manifest uses OCI's names (as BuildKit's oci-mediatypes).
const LAYER_TYPES: Readonly<Record<string, string>> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MediaType.OciLayer,
};

/**
 * Assembles the image config (runtime config, rootfs diff_ids, history,
 * platform, creation time) and the OCI manifest, and stores both as blobs.
 * The creation time is `SOURCE_DATE_EPOCH` when set, otherwise the time of
 * the newest history entry — cached steps keep their first-run time, so a
 * no-op rebuild gives the same image digest.
 */
export async function writeImage(options: WriteImageOptions): Promise<BuiltImage> {
  const { stage, outcome } = options;
  const runtime = structuredClone(stage.config);
  if (options.labels && Object.keys(options.labels).length > 0) runtime.Labels = { ...(runtime.Labels ?? {}), ...options.labels };
  const created =
    options.sourceDateEpoch !== undefined
      ? new Date(options.sourceDateEpoch * 1000).toISOString()
      : outcome.history.reduce((max, h) => (h.created && h.created > max ? h.created : max), new Date(0).toISOString());
  const platform: Platform = {
    os: stage.platform.os,
    architecture: stage.platform.architecture,
    ...(stage.platform.variant ? { variant: stage.platform.variant } : {}),
  };
  const history = options.sourceDateEpoch !== undefined ? outcome.history.map((h) => ({ ...h, created })) : [...outcome.history];
  const imageConfig: ImageConfig = {
    created,
    ...(stage.author !== undefined ? { author: stage.author } : {}),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: runtime,
    rootfs: { type: "layers", diff_ids: outcome.layers.map((l) => l.diffId) },
    history,
  };
  const configBytes = Buffer.from(JSON.stringify(imageConfig));
  const config: Descriptor = { mediaType: MediaType.OciConfig, digest: digestOf(configBytes), size: configBytes.length };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: outcome.layers.map((l) => ({ ...l.descriptor, mediaType: LAYER_TYPES[l.descriptor.mediaType] ?? l.descriptor.mediaType })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const signal = options.signal ? { signal: options.signal } : {};
  await options.content.writeBlob(configBytes, { digest: config.digest as Digest, size: config.size }, signal);
  await options.content.writeBlob(manifestBytes, undefined, signal);
  return {
    manifest: { mediaType: MediaType.OciManifest, digest: digestOf(manifestBytes), size: manifestBytes.length, platform },
    manifestBytes,
    config,
    imageConfig,
    platform,
  };
}
