import { randomBytes } from "node:crypto";
import { chmodSync, lchownSync, lutimesSync, mkdirSync, type Stats } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Digest } from "../oci/digest.js";
import type { LayerEntry } from "../oci/layer/entry.js";
import type { FsContentStore } from "../store/fs-content-store.js";
import { lookupPlain, plainlyAbsent } from "./layer-lookup.js";
import { BuildError } from "../diagnostics/build-error.js";
import { isLayerXattr } from "../oci/layer/entry.js";
import { readXattrsSync } from "../oci/layer/walk.js";
import { xattr } from "../oci/xattr-binding.js";
import { processAlive } from "../util/process-alive.js";
import { storeLayout } from "../store/layout.js";
import { isDigest } from "../oci/digest.js";

// Extraction, overlay mounts, diffs and the layer writer load on first use:
// a build whose steps are all cached needs none of them.
const extractModule = (): Promise<typeof import("./extract.js")> => import("./extract.js");
const overlayModule = (): Promise<typeof import("./overlay.js")> => import("./overlay.js");

/** A layer as the snapshotter needs it: its blob and its uncompressed digest. */
export interface LayerRef {
  /** Blob digest (compressed). */
  readonly digest: string;
  /** Uncompressed digest: names the extracted snapshot. */
  readonly diffId: string;
}

/** A layer a step produced, stored as a blob. */
export interface CommittedLayer {
  /** Media type of the blob. */
  readonly mediaType: string;
  /** Blob digest. */
  readonly digest: string;
  /** Blob size. */
  readonly size: number;
  /** Uncompressed digest. */
  readonly diffId: string;
}

/** Options of {@link Snapshotter.runMutable}. */
export interface MutableOptions {
  /** `SOURCE_DATE_EPOCH`: clamps the layer's timestamps. */
  readonly sourceDateEpoch?: number;
  /** Cancels the step. */
  readonly signal?: AbortSignal;
}

/**
 * Filesystem snapshots of layers, shared by every build using one store:
 *
 * - an *immutable* snapshot is a layer extracted once into
 *   `<root>/snapshots/<diffID hex>/` (overlay lower-dir form: whiteouts as
 *   0/0 character devices, opaque directories as xattrs);
 * - a *mutable* snapshot is an overlay of a chain of immutable ones plus a
 *   fresh upper directory, for one RUN/COPY/WORKDIR; committing it turns the
 *   upper directory into a layer blob and, renamed, into the immutable
 *   snapshot of that layer (no second extraction).
 *
 * Crash safety: everything is prepared under `<root>/tmp/` and renamed into
 * `snapshots/` only when complete, so a killed build leaves at worst a
 * temporary directory, never a half-extracted snapshot under a final name.
 * Mounts are made by the build process, which runs in its own mount
 * namespace (see `src/cli/mount-namespace.ts`), so they vanish with it.
 */
export class Snapshotter {
  private readonly snapshots: string;
  private readonly tmp: string;
  private readonly extracting = new Map<string, Promise<string>>();

  constructor(
    root: string,
    private readonly content: FsContentStore,
  ) {
    this.snapshots = storeLayout(root).snapshotsDir;
    this.tmp = storeLayout(root).tmpDir;
  }

  /** The directory of an extracted layer (whether or not it exists yet). */
  snapshotDir(diffId: string): string {
    // The name comes from image configs and cache records: only a well-formed digest may become a path.
    if (!isDigest(diffId)) throw new BuildError("MANIFEST_INVALID", `invalid layer diffID ${JSON.stringify(diffId)}`, { hint: "the image config is damaged or crafted; do not use it" });
    return join(this.snapshots, diffId.slice("sha256:".length));
  }

  /** Extracts a layer blob into its snapshot unless already there; concurrent callers share one extraction. */
  async ensure(layer: LayerRef, signal?: AbortSignal): Promise<string> {
    const dir = this.snapshotDir(layer.diffId);
    if (await isDir(dir)) return dir;
    let pending = this.extracting.get(layer.diffId);
    if (!pending) {
      pending = this.extract(layer, dir, signal).finally(() => this.extracting.delete(layer.diffId));
      this.extracting.set(layer.diffId, pending);
    }
    return pending;
  }

  private async extract(layer: LayerRef, dir: string, signal: AbortSignal | undefined): Promise<string> {
    await mkdir(this.snapshots, { recursive: true });
    const work = await this.tempDir("extract");
    try {
      const { extractLayer } = await extractModule();
      await extractLayer(this.content.blobPath(layer.digest as Digest), work, {
        expectedDiffId: layer.diffId as Digest,
        ...(signal ? { signal } : {}),
      });
      await publish(work, dir);
      return dir;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Runs `fn` on a writable overlay of `chain` (base layer first) and
   * commits what it changed: returns the layer, or null when nothing
   * changed. The overlay is always unmounted, whatever `fn` does.
   */
  async runMutable(chain: readonly LayerRef[], fn: (rootfs: string) => Promise<void>, options: MutableOptions = {}): Promise<CommittedLayer | null> {
    const topFirst = await this.lowerDirs(chain, options.signal);
    const { mountOverlay, unmount } = await overlayModule();
    const work = await this.tempDir("step");
    const upper = join(work, "upper");
    const ovlWork = join(work, "work");
    const merged = join(work, "merged");
    const empty = join(work, "empty");
    await Promise.all([upper, ovlWork, merged, empty].map((d) => mkdir(d)));
    try {
      await mountOverlay({
        lowerdirs: topFirst.length ? topFirst : [empty],
        upperdir: upper,
        workdir: ovlWork,
        target: merged,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      try {
        await fn(merged);
      } finally {
        await unmount(merged).catch(async () => unmount(merged, { lazy: true }));
      }
      return await this.commitUpper(upper, topFirst, work, options);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Like {@link runMutable}, for a step that only adds new entries below
   * `parent` (an absolute directory that exists plainly in `chain`, see
   * {@link plainlyAbsent}): `fn` writes straight into a fresh upper
   * directory, no overlay is mounted. Before `fn` runs, the upper directory
   * gets `parent`'s directories as overlayfs's copy-up would make them:
   * mode, owner, layer extended attributes and times of the visible lower
   * directory (times set deepest first, since each mkdir touches its
   * parent). The diff and commit are then the same as after a mount.
   *
   * Why: an overlay mount and unmount are two processes (~10-15 ms); a
   * COPY into a new path does not need to see the layers below.
   */
  async runUnmounted(chain: readonly LayerRef[], parent: string, fn: (upper: string) => Promise<void>, options: MutableOptions = {}): Promise<CommittedLayer | null> {
    const topFirst = await this.lowerDirs(chain, options.signal);
    const work = await this.tempDir("step");
    const upper = join(work, "upper");
    await mkdir(upper);
    try {
      copyUpDirectories(topFirst, parent, upper);
      await fn(upper);
      return await this.commitUpper(upper, topFirst, work, options);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Diffs a finished upper directory against its lowers, stores the layer, and publishes the upper as its snapshot. */
  private async commitUpper(upper: string, topFirst: readonly string[], work: string, options: MutableOptions): Promise<CommittedLayer | null> {
    const [{ diffUpperDir }, { pruneUnchangedDirs }] = await Promise.all([import("./diff.js"), import("./prune-unchanged.js")]);
    const entries = await pruneUnchangedDirs(await diffUpperDir(upper, options.signal ? { signal: options.signal } : {}), topFirst);
    if (entries.length === 0) return null;
    const layer = await this.storeLayer(entries, join(work, "layer"), options);
    await mkdir(this.snapshots, { recursive: true });
    await publish(upper, this.snapshotDir(layer.diffId));
    return layer;
  }

  /** Runs `fn` on a read-only view of `chain` (for COPY --from and bind mounts). */
  async withReadOnly<T>(chain: readonly LayerRef[], fn: (rootfs: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const topFirst = await this.lowerDirs(chain, signal);
    const { mountOverlay, unmount } = await overlayModule();
    const work = await this.tempDir("view");
    const merged = join(work, "merged");
    const empty = join(work, "empty");
    await Promise.all([merged, empty].map((d) => mkdir(d)));
    try {
      // One lower dir is completed by mountOverlay's own empty bottom layer (a different directory).
      await mountOverlay({ lowerdirs: topFirst.length ? topFirst : [empty], target: merged, ...(signal ? { signal } : {}) });
      try {
        return await fn(merged);
      } finally {
        await unmount(merged).catch(async () => unmount(merged, { lazy: true }));
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Whether `path` (absolute, inside the image) is a directory in the
   * filesystem `chain` stacks up, answered from the layer directories
   * without mounting them ({@link lookupPlain}). Only the plain case says
   * true; anything else (a symlink, a whiteout, an unknown overlay mark)
   * gives false, and the caller takes the mounted path.
   *
   * Why: a WORKDIR naming an existing directory changes nothing, yet its
   * step cost an overlay mount, a diff and an unmount (~35 ms).
   */
  async isPlainDirectory(chain: readonly LayerRef[], path: string, signal?: AbortSignal): Promise<boolean> {
    return lookupPlain(await this.lowerDirs(chain, signal), path)?.st.isDirectory() === true;
  }

  /**
   * The layer directory whose regular file is what `path` shows in the
   * filesystem `chain` stacks up, answered without mounting
   * ({@link lookupPlain}); undefined when `path` is not plainly a regular
   * file (the caller then mounts). The file's parent directories are real
   * directories in that layer, so the layer can stand in as a root from
   * which to read this one file.
   */
  async plainFileLayer(chain: readonly LayerRef[], path: string, signal?: AbortSignal): Promise<string | undefined> {
    const found = lookupPlain(await this.lowerDirs(chain, signal), path);
    return found?.st.isFile() === true ? found.layer : undefined;
  }

  /**
   * Whether `path` plainly does not exist in the filesystem `chain` stacks
   * up, while its parent is a plain directory ({@link plainlyAbsent}): a
   * step writing only there can use {@link runUnmounted}.
   */
  async isPlainlyAbsent(chain: readonly LayerRef[], path: string, signal?: AbortSignal): Promise<boolean> {
    return plainlyAbsent(await this.lowerDirs(chain, signal), path);
  }

  /**
   * The snapshot directories of `chain` (base first), top-most first, as
   * overlay wants them. A layer repeated in a chain (two steps that made the
   * same change) appears once, at its top-most place: overlayfs refuses a
   * directory listed twice, and the upper copy shadows every file, whiteout
   * and opaque marker of the lower one, so dropping the lower is equivalent.
   */
  private async lowerDirs(chain: readonly LayerRef[], signal: AbortSignal | undefined): Promise<string[]> {
    const dirs = await Promise.all(chain.map((l) => this.ensure(l, signal)));
    const seen = new Set<string>();
    const topFirst: string[] = [];
    for (const d of dirs.reverse()) {
      if (seen.has(d)) continue;
      seen.add(d);
      topFirst.push(d);
    }
    return topFirst;
  }

  /**
   * Writes entries as a gzip layer into `file` (in the step's work dir, on
   * the store's filesystem: the writer fsyncs it), then moves it into the
   * content store under the digest the writer computed in its single pass,
   * so the bytes are not hashed a third time on the way in.
   */
  private async storeLayer(entries: readonly LayerEntry[], file: string, options: MutableOptions): Promise<CommittedLayer> {
    const { writeLayer } = await import("../oci/layer/writer.js");
    const result = await writeLayer({ entries }, file, {
      ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await this.content.adoptFile(file, result.digest, result.size, options.signal ? { signal: options.signal } : {});
    return { mediaType: result.mediaType, digest: result.digest, size: result.size, diffId: result.diffId };
  }

  /**
   * Removes temporary directories of builds that are no longer running (a
   * kill -9 leaves them): each is named after its process id, and only
   * directories of dead processes are touched, so concurrent builds are safe.
   */
  async cleanupStale(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tmp);
    } catch {
      return;
    }
    await Promise.all(
      names.map(async (name) => {
        const m = /^(?:extract|step|view|exec|prune)-(\d+)-[0-9a-f]+$/.exec(name);
        if (!m || processAlive(Number(m[1]))) return;
        const dir = join(this.tmp, name);
        const { unmount } = await overlayModule();
        // A killed build may have left its overlay mounted when it ran outside a private mount namespace.
        for (const sub of ["merged", "m"]) await unmount(join(dir, sub), { lazy: true }).catch(() => undefined);
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }),
    );
  }

  private async tempDir(kind: string): Promise<string> {
    const dir = join(this.tmp, `${kind}-${process.pid}-${randomBytes(6).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}

/**
 * Creates `parent`'s directories (an absolute path that resolves plainly in
 * `topFirst`) inside `upper` with the metadata of their visible lower
 * directories, as overlayfs copies a directory up: mode, owner, layer
 * extended attributes, then times, deepest first.
 */
function copyUpDirectories(topFirst: readonly string[], parent: string, upper: string): void {
  const names = parent.split("/").filter((n) => n !== "");
  const made: { host: string; st: Stats }[] = [];
  for (let i = 1; i <= names.length; i++) {
    const rel = `/${names.slice(0, i).join("/")}`;
    const found = lookupPlain(topFirst, rel);
    if (found === undefined || !found.st.isDirectory()) throw new BuildError("INTERNAL", `${rel} is not a plain directory of the layers below`);
    const host = `${upper}${rel}`;
    mkdirSync(host);
    lchownSync(host, found.st.uid, found.st.gid);
    chmodSync(host, found.st.mode & 0o7777);
    for (const [name, value] of readXattrsSync(`${found.layer}${rel}`, isLayerXattr) ?? []) xattr().setAttributeSync(host, name, value);
    made.push({ host, st: found.st });
  }
  for (const { host, st } of made.reverse()) lutimesSync(host, st.atime, st.mtime);
}

/** Renames a finished directory into place; if another build got there first, keeps theirs (same content). */
async function publish(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
