/**
 * The on-disk layout of a store root:
 *
 *     <root>/tsbuild-store.json          layout version marker
 *     <root>/blobs/sha256/<hex>          content, by digest (same as an OCI image layout)
 *     <root>/tmp/                        temporary files; renamed into place when complete
 *     <root>/images/<key>.json           one image record per name (tag or digest reference)
 *     <root>/blob-sources/sha256/<hex>   registry repositories a blob was seen in
 *     <root>/leases/                     one file per process using the store (see lease.ts)
 *
 * and the build cache, which `tsbuild prune` removes:
 *
 *     <root>/cache/keys/<hex>.json        one record per finished step, by cache key
 *     <root>/cache/selections/<hex>.json  checksums of COPY --from selections
 *     <root>/cache/context-hashes/        stat cache of context file hashes, per context
 *     <root>/snapshots/<hex>/             extracted layers, by diffID
 *     <root>/cache-mounts/<hex>/          RUN --mount=type=cache directories, by id
 *     <root>/http-cache/                  ADD <URL> bodies with their validators
 *     <root>/sandbox/                     runc state and bundles of running steps
 *
 * Everything but `tmp/` is only ever created by an atomic `rename` from
 * `tmp/` (blobs, records) or by single small `O_APPEND` writes (blob
 * sources), so no reader ever sees a half-written file. `tmp/` is inside the
 * root so that the rename never crosses filesystems.
 */
import { join } from "node:path";
import { digestHex, type Digest } from "../oci/digest.js";

/** Version of the layout below; bumped on incompatible changes. */
export const STORE_LAYOUT_VERSION = 1;

/** Absolute paths of a store root's parts. */
export interface StoreLayout {
  /** The store root. */
  readonly root: string;
  /** The file recording {@link STORE_LAYOUT_VERSION}. */
  readonly versionFile: string;
  /** `<root>/blobs`: the OCI-layout-compatible blobs directory. */
  readonly blobsRoot: string;
  /** `<root>/blobs/sha256`: where sha256 blobs live. */
  readonly blobsDir: string;
  /** `<root>/tmp`: temporary files, same filesystem as everything else. */
  readonly tmpDir: string;
  /** `<root>/images`: one record file per image name. */
  readonly imagesDir: string;
  /** `<root>/blob-sources/sha256`: per-blob lists of source repositories. */
  readonly blobSourcesDir: string;
  /** `<root>/leases`: which processes use the store (`tsbuild prune` waits for none). */
  readonly leasesDir: string;
  /** `<root>/cache/keys`: the cache index's records. */
  readonly cacheKeysDir: string;
  /** `<root>/cache/selections`: memoised checksums of COPY --from selections. */
  readonly selectionsDir: string;
  /** `<root>/cache/context-hashes`: stat caches of context file hashes. */
  readonly contextHashesDir: string;
  /** `<root>/snapshots`: extracted layers by diffID hex. */
  readonly snapshotsDir: string;
  /** `<root>/cache-mounts`: persistent `RUN --mount=type=cache` directories. */
  readonly cacheMountsDir: string;
  /** `<root>/http-cache`: `ADD <URL>` bodies. */
  readonly httpCacheDir: string;
  /** `<root>/sandbox`: the OCI runtime's state and bundles. */
  readonly sandboxDir: string;
}

/** The layout of the store at `root` (an absolute path). */
export function storeLayout(root: string): StoreLayout {
  const blobsRoot = join(root, "blobs");
  return {
    root,
    versionFile: join(root, "tsbuild-store.json"),
    blobsRoot,
    blobsDir: join(blobsRoot, "sha256"),
    tmpDir: join(root, "tmp"),
    imagesDir: join(root, "images"),
    blobSourcesDir: join(root, "blob-sources", "sha256"),
    leasesDir: join(root, "leases"),
    cacheKeysDir: join(root, "cache", "keys"),
    selectionsDir: join(root, "cache", "selections"),
    contextHashesDir: join(root, "cache", "context-hashes"),
    snapshotsDir: join(root, "snapshots"),
    cacheMountsDir: join(root, "cache-mounts"),
    httpCacheDir: join(root, "http-cache"),
    sandboxDir: join(root, "sandbox"),
  };
}

/** The file holding blob `digest` under a blobs directory. */
export function blobFile(blobsDir: string, digest: Digest): string {
  return join(blobsDir, digestHex(digest));
}
