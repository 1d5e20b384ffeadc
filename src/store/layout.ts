/**
 * The on-disk layout of a store root:
 *
 *     <root>/tsbuild-store.json          layout version marker
 *     <root>/blobs/sha256/<hex>          content, by digest (same as an OCI image layout)
 *     <root>/tmp/                        temporary files; renamed into place when complete
 *     <root>/images/<key>.json           one image record per name (tag or digest reference)
 *     <root>/blob-sources/sha256/<hex>   registry repositories a blob was seen in
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
  };
}

/** The file holding blob `digest` under a blobs directory. */
export function blobFile(blobsDir: string, digest: Digest): string {
  return join(blobsDir, digestHex(digest));
}
