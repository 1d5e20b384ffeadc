import { lookupPlain } from "./layer-lookup.js";
import type { LayerEntry } from "../oci/layer/entry.js";

/**
 * Drops directory entries an overlay upper dir holds only because something
 * was copied up and later removed inside them — for instance `/etc` after
 * runc's mount stubs for `/etc/hosts` are cleaned away — when the directory
 * is exactly as the layers below have it (type, mode, owner, mtime) and no
 * other entry of the diff lies under it. BuildKit's differ skips such
 * directories too; without this every RUN would make a layer.
 *
 * `lowers` are the extracted lower layers, top-most first. Opaque
 * directories are always kept (they hide what is below).
 */
export async function pruneUnchangedDirs(entries: readonly LayerEntry[], lowers: readonly string[]): Promise<LayerEntry[]> {
  const opaque = new Set(entries.filter((e) => e.type === "opaque").map((e) => e.path));
  // Parents of every non-directory entry (and of kept directories) must stay.
  const needed = new Set<string>();
  const markParents = (path: string): void => {
    for (let p = parentOf(path); p !== ""; p = parentOf(p)) {
      if (needed.has(p)) return;
      needed.add(p);
    }
  };
  const candidates: LayerEntry[] = [];
  for (const e of entries) {
    if (e.type === "directory" && !opaque.has(e.path)) candidates.push(e);
    else markParents(e.path);
  }
  const unchanged = new Set<string>();
  await Promise.all(
    candidates.map(async (dir) => {
      if (needed.has(dir.path)) return;
      if (await sameAsBelow(dir, lowers)) unchanged.add(dir.path);
    }),
  );
  // A directory kept for a change of its own keeps its parents too.
  for (const dir of candidates) if (!unchanged.has(dir.path)) markParents(dir.path);
  return entries.filter((e) => !(unchanged.has(e.path) && !needed.has(e.path)));
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/**
 * True when the layers below show `dir.path` as a directory with the same
 * metadata, looked up as overlayfs would ({@link lookupPlain}) and never
 * through a symlink: a lower layer's `/a -> /root` must not make this
 * `lstat` a host path. Anything less plain counts as changed (the entry is
 * kept, which is always correct, only less compact).
 */
async function sameAsBelow(dir: LayerEntry, lowers: readonly string[]): Promise<boolean> {
  const found = lookupPlain(lowers, `/${dir.path}`);
  if (found === undefined || !found.st.isDirectory()) return false;
  const st = found.st;
  return (st.mode & 0o7777) === (dir.mode & 0o7777) && st.uid === dir.uid && st.gid === dir.gid && Math.trunc(st.mtimeMs) === Math.trunc(dir.mtimeMs);
}
