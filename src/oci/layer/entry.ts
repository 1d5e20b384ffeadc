/**
 * The in-memory description of one layer entry, shared by the directory
 * walker, the overlay diff (`src/snapshot/diff.ts`) and the layer writer.
 */

/**
 * What a {@link LayerEntry} is. `whiteout` and `opaque` are the OCI deletion
 * markers: the writer turns them into `.wh.NAME` and `DIR/.wh..wh..opq`
 * empty regular files.
 */
export type LayerEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "char-device"
  | "block-device"
  | "fifo"
  | "whiteout"
  | "opaque";

/** One entry of a layer, before it becomes tar headers. */
export interface LayerEntry {
  /**
   * Path relative to the layer root: `/`-separated, no leading `/` or `./`,
   * no trailing `/`, no `.` or `..` components (e.g. `usr/bin/env`).
   * For `whiteout` it is the path being deleted (the writer emits
   * `usr/bin/.wh.env`); for `opaque` it is the directory made opaque (the
   * writer emits `DIR/.wh..wh..opq`).
   */
  readonly path: string;
  /** Entry kind. */
  readonly type: LayerEntryType;
  /** Permission bits including setuid/setgid/sticky (`mode & 0o7777`). */
  readonly mode: number;
  /** Numeric owner, as on disk. */
  readonly uid: number;
  /** Numeric group, as on disk. */
  readonly gid: number;
  /** Modification time in milliseconds since the epoch (may be fractional). */
  readonly mtimeMs: number;
  /** Content size in bytes (`file` only; 0 otherwise). */
  readonly size: number;
  /**
   * `symlink`: the link target, verbatim. `hardlink`: the layer-relative
   * path of the entry it links to, which must sort before this one.
   */
  readonly linkTarget?: string;
  /** Device major number (`char-device`, `block-device`). */
  readonly devMajor?: number;
  /** Device minor number (`char-device`, `block-device`). */
  readonly devMinor?: number;
  /** Extended attributes to record as PAX `SCHILY.xattr.*`, name → raw value. */
  readonly xattrs?: ReadonlyMap<string, Buffer>;
  /** Absolute path the content of a `file` entry is read from. */
  readonly sourcePath?: string;
}

/** The prefix of a whiteout file name in an OCI layer. */
export const WHITEOUT_PREFIX = ".wh.";
/** The name of the opaque-directory marker in an OCI layer. */
export const WHITEOUT_OPAQUE = ".wh..wh..opq";
/** The prefix of whiteout "metadata" names (AUFS leftovers); they are never user files. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";

/**
 * True for the extended attributes a layer carries: `security.capability`,
 * `user.*`, and `trusted.*` except overlayfs' own `trusted.overlay.*`.
 * Why: overlay's private attributes (opaque, redirect, origin, metacopy...)
 * describe *this* machine's overlay state; inside a layer they would steer
 * another host's overlayfs (a redirect can expose paths of other layers), so
 * they are never written and never applied from a tar.
 */
export function isLayerXattr(name: string): boolean {
  if (name === "security.capability") return true;
  if (name.startsWith("user.")) return true;
  if (name.startsWith("trusted.")) return !name.startsWith("trusted.overlay.");
  return false;
}

/**
 * The tar member name of an entry (without the trailing `/` of directories):
 * whiteouts and opaque markers are given their `.wh.` names.
 */
export function tarPathOf(entry: Pick<LayerEntry, "path" | "type">): string {
  if (entry.type === "whiteout") {
    const slash = entry.path.lastIndexOf("/");
    return slash < 0
      ? WHITEOUT_PREFIX + entry.path
      : `${entry.path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${entry.path.slice(slash + 1)}`;
  }
  if (entry.type === "opaque") return entry.path === "" ? WHITEOUT_OPAQUE : `${entry.path}/${WHITEOUT_OPAQUE}`;
  return entry.path;
}

/** Byte-order comparison of two strings as UTF-8, which is how tar names are sorted. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
