/**
 * The content checksum of what a COPY/ADD selects: the cache key of the
 * step's inputs. Modelled on BuildKit's `cache/contenthash`: every entry
 * contributes a tar-like header (type, permission bits, uid, gid, size,
 * device numbers, symlink target, extended attributes — never timestamps)
 * plus, for a regular file, the sha256 of its data; a directory is the
 * sorted list of its entries' names and digests. One digest covers all
 * sources, in order, with the source patterns, `--exclude` patterns and
 * the selection flags.
 *
 * So a `touch` leaves the digest unchanged, while a content edit, a chmod,
 * a new file in a copied directory, a rename or a symlink retarget each
 * change it; files hidden by `.dockerignore` or `--exclude` are never read
 * and cannot affect it. Digests are tsbuild's own (the scheme is not
 * byte-compatible with BuildKit's cache keys, and does not need to be).
 */

import { createHash, type Hash } from "node:crypto";
import { BuildError } from "../diagnostics/build-error.js";
import { TimeSlice } from "../util/time-slice.js";
import { FileHashCache } from "./file-hash-cache.js";
import { selectSources, type SelectedSource, type SourceSelection } from "./select.js";
import { isUrlSource } from "./source-path.js";
import { throwIfAborted, type TreeEntry } from "./tree.js";
import { splitDevice } from "../oci/layer/walk.js";

/** Options for {@link checksumSelection}. */
export interface ChecksumOptions {
  /** Remembers file hashes between builds; unchanged files are then not read. Default: none (every file is read). */
  readonly cache?: FileHashCache;
  /** Cancels the work (BuildError ABORTED). */
  readonly signal?: AbortSignal;
}

/** The result of {@link checksumSelection}. */
export interface SelectionChecksum {
  /** `sha256:<hex>` over everything selected. */
  readonly digest: string;
  /** Number of non-directory entries selected. */
  readonly files: number;
  /** Total size of the selected regular files, in bytes. */
  readonly bytes: number;
}

/** Files hashed concurrently on a cache miss. */
const HASH_CONCURRENCY = 8;

const KIND_CHAR: Record<TreeEntry["kind"], string> = {
  file: "f",
  dir: "d",
  symlink: "l",
  char: "c",
  block: "b",
  fifo: "p",
  socket: "s",
};

/**
 * Content checksum of everything a COPY selects (see the module comment).
 * Unchanged files are not re-read when `opts.cache` knows them (see
 * {@link FileHashCache} for when an entry is trusted): the warm path only
 * lists directories and `lstat`s entries.
 *
 * Ownership counts as 0:0 unless `sel.keepOwnership` (context files reach
 * BuildKit owned by root whatever their owner on disk).
 *
 * @throws BuildError COPY_SOURCE_NOT_FOUND naming the path when a
 *   (non-wildcard) source matches nothing; DF_ARGS for a URL source (URL
 *   content is not on disk: key it by the fetched content or `--checksum`);
 *   COPY_IO, ABORTED.
 */
export async function checksumSelection(sel: SourceSelection, opts: ChecksumOptions = {}): Promise<SelectionChecksum> {
  const url = sel.sources.find(isUrlSource);
  if (url !== undefined) {
    throw new BuildError("DF_ARGS", `cannot checksum URL source ${JSON.stringify(url)} from disk`, {
      hint: "fetch URL sources first and key them by their content digest (or the ADD --checksum value)",
    });
  }
  const signal = opts.signal;
  const selected = await selectSources(sel, signal ? { signal } : {});
  const cache = opts.cache ?? FileHashCache.memory();

  // Pass 1: trusted cache entries, synchronously; everything else is queued.
  const pending: TreeEntry[] = [];
  const stats = { files: 0, bytes: 0 };
  const visit = (e: TreeEntry, top: boolean): void => {
    if (e.kind === "dir") {
      // The top directory of a match only contributes its contents (its own metadata is never copied).
      if (!top) lookup(e);
      for (const c of e.children ?? []) visit(c, false);
      return;
    }
    stats.files++;
    if (e.kind === "file") stats.bytes += e.st.size;
    if (e.kind !== "socket") lookup(e);
  };
  const lookup = (e: TreeEntry): void => {
    const d = cache.lookup(e.abs, e.st);
    if (d === undefined) pending.push(e);
    else e.digest = d;
  };
  for (const src of selected) for (const m of src.matches) visit(m.entry, true);

  // Pass 2: read what the cache did not vouch for.
  // Small files are read synchronously (see FileHashCache): yield now and then so the event loop stays responsive.
  let next = 0;
  const slice = new TimeSlice();
  const worker = async (): Promise<void> => {
    for (;;) {
      await slice.yieldIfDue();
      // Checked after yielding: the other workers may have taken the rest meanwhile.
      if (next >= pending.length) return;
      throwIfAborted(signal);
      const e = pending[next++] as TreeEntry;
      e.digest = await cache.hash(e.abs, e.st);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, pending.length) }, worker));
  throwIfAborted(signal);

  // Pass 3: fold it all into one digest.
  const keepOwner = sel.keepOwnership === true;
  const h = createHash("sha256").update("tsbuild-copy-selection-1\n");
  h.update(`follow=${sel.followTopLevelSymlinks === true}\nparents=${sel.parents === true}\nowner=${keepOwner}\n`);
  for (const e of sel.excludes ?? []) h.update(`exclude\0${e}\n`);
  writeSources(h, selected, keepOwner);
  return { digest: `sha256:${h.digest("hex")}`, ...stats };
}

function writeSources(h: Hash, selected: readonly SelectedSource[], keepOwner: boolean): void {
  // Records are built as strings and hashed once per directory: one native call per directory, not per file.
  const record = (e: TreeEntry): string => {
    const st = e.st;
    const owner = keepOwner ? `${st.uid}\0${st.gid}` : "0\x000";
    let dev = "";
    if (e.kind === "char" || e.kind === "block") {
      const { major, minor } = splitDevice(st.rdev);
      dev = `${major}:${minor}`;
    }
    const content = e.kind === "dir" ? `${e.digest ?? ""}\0${dirDigest(e)}` : (e.digest ?? "");
    return `${KIND_CHAR[e.kind]}\0${st.mode & 0o7777}\0${owner}\0${e.kind === "file" ? st.size : 0}\0${dev}\0${content}`;
  };
  const dirDigest = (e: TreeEntry): string => {
    let text = "";
    for (const c of e.children ?? []) text += `${c.name}\0${record(c)}\n`;
    return createHash("sha256").update(text).digest("hex");
  };
  for (const src of selected) {
    h.update(`source\0${src.source}\n`);
    for (const m of src.matches) {
      const body = m.entry.kind === "dir" ? `contents\0${dirDigest(m.entry)}` : record(m.entry);
      h.update(`match\0${m.path}\0${body}\n`);
    }
  }
}
