/**
 * `tsbuild prune`: removes build cache from a store, as `docker builder
 * prune` does, without touching the images stored under names.
 *
 * What goes (each only when older than `olderThanMs`, if given):
 *
 * - cache records (`cache/keys/`) whose layer no stored image uses; with
 *   `all`, every record. Records of steps that made no layer cost no space
 *   and are kept unless `all` (removing them would only rerun such steps);
 * - blobs that neither a stored image (manifest or index, the manifests of
 *   an index present in the store, configs, layers) nor a kept record
 *   refers to: the layers of removed records, images whose names `rmi`
 *   removed, untagged build results;
 * - extracted layers (`snapshots/`) that neither a stored image nor a kept
 *   record has; with `all`, every one (they are extracted again when needed);
 * - `RUN --mount=type=cache` directories and `ADD <URL>` bodies (BuildKit's
 *   prune removes cache mounts too);
 * - with `all`: the stat caches of context hashes and the COPY --from
 *   checksum memo.
 *
 * Safety: the whole prune holds the store's exclusive lease (`lease.ts`),
 * so no build, pull or load runs meanwhile. Directories are first renamed
 * into `tmp/` and deleted there, so a prune killed half-way leaves every
 * snapshot either whole or gone, never a partial one a build would use;
 * records go before the blobs they name, so a kill leaves at worst a record
 * whose blob is gone, which a build treats as a miss.
 */
import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync, type Dirent } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { parseConfig, parseIndex, parseManifest } from "../image/documents.js";
import { isIndexType, isManifestType } from "../oci/media-types.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { blobFile } from "../store/layout.js";
import { takeExclusiveLease } from "../store/lease.js";
import type { LocalStore } from "../store/store.js";
import { throwIfAborted } from "../store/abort.js";

/** Options for {@link pruneBuildCache}. */
export interface PruneOptions {
  /** `--all`: every record and snapshot, not only those no stored image uses. */
  readonly all?: boolean;
  /** `--filter until=DURATION`: remove only what was written at least this long ago (milliseconds). */
  readonly olderThanMs?: number;
  /** The current time (ms since the epoch); default `Date.now()`. */
  readonly now?: number;
  /** Cancels between removals (what is removed stays removed). */
  readonly signal?: AbortSignal;
}

/** What {@link pruneBuildCache} removed. */
export interface PruneResult {
  /** Keys of the removed cache records, in the order removed. */
  readonly records: readonly string[];
  /** Number of blobs removed. */
  readonly blobs: number;
  /** Number of extracted layers removed. */
  readonly snapshots: number;
  /** Number of cache mount directories removed. */
  readonly cacheMounts: number;
  /** Number of other entries removed (URL bodies, stat caches, checksum memo). */
  readonly other: number;
  /** Bytes of file data freed (sizes of the removed files). */
  readonly bytes: number;
}

/** What stored images hold, which prune keeps. */
interface Reachable {
  readonly blobs: Set<string>;
  readonly diffIds: Set<string>;
}

/**
 * Removes build cache from `store` (see the module comment).
 *
 * @throws BuildError STORE_BUSY when another process uses the store;
 *   STORE_CORRUPT / STORE_NOT_FOUND when a stored image cannot be read
 *   (nothing is removed then: prune cannot tell what that image needs).
 */
export async function pruneBuildCache(store: LocalStore, options: PruneOptions = {}): Promise<PruneResult> {
  const lease = await takeExclusiveLease(store.layout.leasesDir);
  try {
    return await prune(store, options);
  } finally {
    await lease.release();
  }
}

async function prune(store: LocalStore, options: PruneOptions): Promise<PruneResult> {
  const { layout } = store;
  const signal = options.signal;
  const now = options.now ?? Date.now();
  const oldEnough = (mtimeMs: number): boolean => options.olderThanMs === undefined || now - mtimeMs >= options.olderThanMs;
  const reachable = await imageContent(store, signal);
  const trash = join(layout.tmpDir, `prune-${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(trash, { recursive: true });
  const result = { records: [] as string[], blobs: 0, snapshots: 0, cacheMounts: 0, other: 0, bytes: 0 };
  try {
    // 1. Records. Kept ones keep their layer's blob and snapshot.
    const keptBlobs = new Set(reachable.blobs);
    const keptDiffIds = new Set(reachable.diffIds);
    for (const entry of await entries(layout.cacheKeysDir)) {
      throwIfAborted(signal, "pruning");
      const record = await readRecord(entry.path);
      const layer = record?.layer ?? null;
      const unused = record === undefined || options.all === true || (layer !== null && !reachable.blobs.has(layer.digest));
      if (unused && oldEnough(entry.mtimeMs)) {
        await unlink(entry.path);
        result.records.push(record?.key ?? entry.name);
        result.bytes += entry.size;
        continue;
      }
      if (layer !== null) {
        keptBlobs.add(layer.digest);
        keptDiffIds.add(layer.diffId);
      }
    }
    // 2. Blobs nothing kept refers to (and the registries they were seen in).
    for await (const digest of store.content.listBlobs({ signal })) {
      if (keptBlobs.has(digest)) continue;
      const st = await lstat(blobFile(layout.blobsDir, digest)).catch(() => undefined);
      if (st === undefined || !oldEnough(st.mtimeMs)) continue;
      if (await store.content.deleteBlob(digest as Digest, { signal })) {
        result.blobs++;
        result.bytes += st.size;
      }
      await store.images.sources.forgetBlob(digest as Digest).catch(() => undefined);
    }
    // 3. Extracted layers, by diffID hex.
    for (const entry of await entries(layout.snapshotsDir)) {
      throwIfAborted(signal, "pruning");
      if (options.all !== true && keptDiffIds.has(`sha256:${entry.name}`)) continue;
      if (!oldEnough(entry.mtimeMs)) continue;
      result.bytes += await discard(entry, trash);
      result.snapshots++;
    }
    // 4. Cache mounts and URL bodies; with --all, the stat caches and the checksum memo.
    for (const entry of await entries(layout.cacheMountsDir)) {
      if (!oldEnough(entry.mtimeMs)) continue;
      result.bytes += await discard(entry, trash);
      result.cacheMounts++;
    }
    const others = [layout.httpCacheDir, ...(options.all === true ? [layout.contextHashesDir, layout.selectionsDir] : [])];
    for (const dir of others) {
      for (const entry of await entries(dir)) {
        if (!oldEnough(entry.mtimeMs)) continue;
        result.bytes += await discard(entry, trash);
        result.other++;
      }
    }
    return result;
  } finally {
    await rm(trash, { recursive: true, force: true });
  }
}

/** An entry of a directory prune looks through. */
interface Entry {
  readonly name: string;
  readonly path: string;
  readonly mtimeMs: number;
  /** Size of a file; 0 for a directory (see {@link discard}). */
  readonly size: number;
  readonly dir: boolean;
}

async function entries(dir: string): Promise<Entry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Entry[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (st !== undefined) out.push({ name, path, mtimeMs: st.mtimeMs, size: st.isFile() ? st.size : 0, dir: st.isDirectory() });
  }
  return out;
}

/**
 * Removes an entry and returns the bytes of file data it held. A directory
 * is renamed into `trash` first: from then on no build can find it by its
 * name, so a kill while deleting its files leaves no partial directory in
 * place (the trash is in `tmp/`, which the next prune or build clears).
 */
async function discard(entry: Entry, trash: string): Promise<number> {
  if (!entry.dir) {
    await unlink(entry.path);
    return entry.size;
  }
  const moved = join(trash, `${entry.name}-${randomBytes(4).toString("hex")}`);
  await rename(entry.path, moved);
  const bytes = treeBytes(moved);
  await rm(moved, { recursive: true, force: true });
  return bytes;
}

/** Sum of the sizes of the regular files under `dir` (symlinks not followed). */
function treeBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let list: Dirent[];
    try {
      list = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of list) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += lstatSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

async function readRecord(file: string): Promise<{ key: string; layer: { digest: string; diffId: string } | null } | undefined> {
  try {
    const r = JSON.parse(await readFile(file, "utf8")) as { key?: unknown; layer?: { digest?: unknown; diffId?: unknown } | null };
    if (typeof r.key !== "string") return undefined;
    if (r.layer === null) return { key: r.key, layer: null };
    if (typeof r.layer?.digest !== "string" || typeof r.layer.diffId !== "string") return undefined;
    return { key: r.key, layer: { digest: r.layer.digest, diffId: r.layer.diffId } };
  } catch {
    // A damaged record is a miss for every build: removing it loses nothing.
    return undefined;
  }
}

/**
 * Every blob and diffID the stored images hold: each record's manifest or
 * index, for an index the manifests of it the store has, and each
 * manifest's config and layers (with the config's diffIDs).
 */
async function imageContent(store: LocalStore, signal: AbortSignal | undefined): Promise<Reachable> {
  const blobs = new Set<string>();
  const diffIds = new Set<string>();
  const addManifest = async (digest: Digest, size: number, what: string): Promise<void> => {
    const manifest = parseManifest(await store.content.readBlob(digest, { expectedSize: size, signal }), what);
    blobs.add(digest);
    blobs.add(manifest.config.digest);
    for (const l of manifest.layers) blobs.add(l.digest);
    const config = parseConfig(await store.content.readBlob(manifest.config.digest, { expectedSize: manifest.config.size, signal }), `config of ${what}`);
    for (const d of config.rootfs.diff_ids) diffIds.add(d);
  };
  for (const record of await store.images.listImages({ signal })) {
    const what = `${record.name.familiar()} (manifest ${digestHex(record.manifestDigest).slice(0, 12)})`;
    try {
      if (!isIndexType(record.mediaType)) {
        await addManifest(record.manifestDigest, record.size, what);
        continue;
      }
      const index = parseIndex(await store.content.readBlob(record.manifestDigest, { expectedSize: record.size, signal }), what);
      blobs.add(record.manifestDigest);
      for (const entry of index.manifests) {
        if (isManifestType(entry.mediaType) && (await store.content.hasBlob(entry.digest, { signal }))) await addManifest(entry.digest, entry.size, `${what} ${entry.digest}`);
      }
    } catch (err) {
      throw new BuildError("STORE_CORRUPT", `cannot read the stored image ${what}: prune needs to know what it uses`, {
        cause: err,
        hint: `remove the name with \`tsbuild rmi ${record.name.familiar()}\` (or pull it again), then prune`,
      });
    }
  }
  return { blobs, diffIds };
}
