import { isLayerXattr } from "../oci/layer/entry.js";
import { readXattrsSync } from "../oci/layer/walk.js";

/**
 * The extended attributes of `path` that a layer keeps ({@link isLayerXattr}:
 * `security.capability`, `user.*`, `trusted.*` except overlay's), sorted by
 * name; undefined when there are none or the file system has no xattrs.
 * Never follows a symlink. Synchronous, for the reason given at
 * {@link readXattrsSync}: COPY reads them for every copied file.
 */
export function readLayerXattrsSync(path: string): Map<string, Buffer> | undefined {
  return readXattrsSync(path, isLayerXattr);
}
