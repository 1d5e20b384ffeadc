/**
 * Media types tsbuild reads and writes. OCI's are the default for what we
 * produce; Docker's schema 2 types are accepted everywhere we read, because
 * most images on Docker Hub still use them.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/media-types.md
 */
export const MediaType = {
  /** OCI image manifest (one platform). */
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  /** OCI image index (several platforms, or a list of manifests). */
  OciIndex: "application/vnd.oci.image.index.v1+json",
  /** OCI image config. */
  OciConfig: "application/vnd.oci.image.config.v1+json",
  /** OCI layer, gzip-compressed tar. */
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** OCI layer, uncompressed tar. */
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  /** OCI layer, zstd-compressed tar. */
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** Docker image manifest, schema 2. */
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker manifest list (the index of schema 2). */
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image config. */
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  /** Docker layer, gzip-compressed tar. */
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Docker foreign (non-distributable) layer. */
  DockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** Manifest media types of a single-platform image. */
export const MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
/** Media types of a multi-platform index. */
export const INDEX_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];

/** True for a single-platform manifest media type (OCI or Docker). */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && MANIFEST_TYPES.includes(mediaType);
}

/** True for an index / manifest-list media type (OCI or Docker). */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_TYPES.includes(mediaType);
}

/**
 * True for a foreign (non-distributable) layer: it lives outside the
 * registry by design, so it is neither uploaded nor stored.
 */
export function isForeignLayer(mediaType: string): boolean {
  return mediaType === MediaType.DockerForeignLayer || mediaType.includes(".nondistributable.");
}
