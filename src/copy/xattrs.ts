import { xattr } from "../oci/xattr-binding.js";
import { compareUtf8, isLayerXattr } from "../oci/layer/entry.js";
import { xattrErrno } from "../oci/layer/walk.js";

const ENOTSUP = 95;
const ENODATA = 61;

/**
 * The extended attributes of `path` that a layer keeps ({@link isLayerXattr}:
 * `security.capability`, `user.*`, `trusted.*` except overlay's), sorted by
 * name; undefined when there are none or the file system has no xattrs.
 * Never follows a symlink.
 *
 * Why synchronous: COPY reads them for every copied file, and the
 * asynchronous binding costs a thread-pool round trip (about 25 µs of main
 * thread time each, measured) for what is almost always an empty list;
 * the `llistxattr` call itself takes a few microseconds.
 */
export function readLayerXattrsSync(path: string): Map<string, Buffer> | undefined {
  let names: string[];
  try {
    names = xattr().listAttributesSync(path);
  } catch (err) {
    if (xattrErrno(err) === ENOTSUP) return undefined;
    throw err;
  }
  if (names.length === 0) return undefined;
  const wanted = names.filter(isLayerXattr).sort(compareUtf8);
  if (wanted.length === 0) return undefined;
  const out = new Map<string, Buffer>();
  for (const name of wanted) {
    try {
      const value = xattr().getAttributeSync(path, name);
      if (value !== null) out.set(name, value);
    } catch (err) {
      // Removed between list and get: the attribute is simply gone.
      if (xattrErrno(err) !== ENODATA) throw err;
    }
  }
  return out.size === 0 ? undefined : out;
}
