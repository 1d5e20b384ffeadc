import { BuildError } from "../diagnostics/build-error.js";
import { isLayerXattr, type LayerEntry } from "../oci/layer/entry.js";
import { walkDirectory, type WalkedEntry } from "../oci/layer/walk.js";

/** Options for {@link diffUpperDir}. */
export interface DiffOptions {
  /** Cancels the walk (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

const OPAQUE_XATTR = "trusted.overlay.opaque";
const REDIRECT_XATTR = "trusted.overlay.redirect";
const METACOPY_XATTR = "trusted.overlay.metacopy";
/** Kernel >= 6.7 "xattr whiteout": a regular file marked with this attribute. */
const WHITEOUT_XATTR = "trusted.overlay.whiteout";

function unsupported(path: string, what: string, option: string): BuildError {
  return new BuildError("INTERNAL", `overlay upper dir holds a ${what} at "${path}", which a layer cannot express`, {
    hint: `mount the overlay with ${option} (see OVERLAY_OPTIONS in src/snapshot/overlay.ts)`,
  });
}

/**
 * Turns an overlayfs upper directory (after a RUN, with the overlay
 * unmounted) into the entries of a layer, in the OCI layer form:
 *
 * - regular files, directories, symlinks, devices and fifos as they are;
 *   regular files linked to each other inside the upper dir become one file
 *   and hard links to it (the walker groups them by inode);
 * - a character device 0/0 (overlay's whiteout) becomes a `whiteout` entry,
 *   written as `.wh.NAME`; so does a kernel >= 6.7 "xattr whiteout";
 * - a directory with `trusted.overlay.opaque=y` becomes its directory entry
 *   plus an `opaque` entry, written as `DIR/.wh..wh..opq`;
 * - extended attributes kept: `security.capability`, `user.*`, `trusted.*`
 *   except overlayfs' private `trusted.overlay.*` (copied as PAX
 *   `SCHILY.xattr.*` records by the writer).
 *
 * The mount must have used {@link OVERLAY_OPTIONS} (`index=off,
 * redirect_dir=off,metacopy=off`): an upper dir with a redirected directory
 * or a metacopy (data-less) file is refused with BuildError INTERNAL rather
 * than turned into a wrong layer. Sockets are skipped, as Docker does.
 * The upper dir's root itself is not an entry (as in BuildKit's diffs).
 */
export async function diffUpperDir(upperdir: string, options: DiffOptions = {}): Promise<LayerEntry[]> {
  const walked = await walkDirectory(upperdir, { xattrs: "all", ...(options.signal ? { signal: options.signal } : {}) });
  const out: LayerEntry[] = [];
  for (const e of walked) {
    const x = e.xattrs;
    if (x?.has(REDIRECT_XATTR) === true) throw unsupported(e.path, "redirected directory", "redirect_dir=off");
    if (x?.has(METACOPY_XATTR) === true) throw unsupported(e.path, "metacopy-only file", "metacopy=off");

    if ((e.type === "char-device" && e.rdev === 0) || (e.type === "file" && x?.has(WHITEOUT_XATTR) === true)) {
      out.push({ path: e.path, type: "whiteout", mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
      continue;
    }
    out.push(withLayerXattrs(e));
    if (e.type === "directory" && x?.get(OPAQUE_XATTR)?.toString("latin1") === "y") {
      out.push({ path: e.path, type: "opaque", mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
    }
  }
  return out;
}

/** The entry without walker-only fields and with only the xattrs a layer carries. */
function withLayerXattrs(e: WalkedEntry): LayerEntry {
  const { rdev: _rdev, xattrs, ...rest } = e;
  if (xattrs === undefined) return rest;
  const kept = new Map([...xattrs].filter(([name]) => isLayerXattr(name)));
  return kept.size === 0 ? rest : { ...rest, xattrs: kept };
}
