/**
 * Opening a store root: the entry point the CLI and the builder use.
 */
import { mkdir, readFile } from "node:fs/promises";
import { BuildError } from "../diagnostics/build-error.js";
import { throwIfAborted } from "./abort.js";
import { writeFileAtomic } from "./atomic-write.js";
import { FsContentStore } from "./fs-content-store.js";
import { holdSharedLease } from "./lease.js";
import { ImageStore } from "./image-store.js";
import { STORE_LAYOUT_VERSION, storeLayout, type StoreLayout } from "./layout.js";
import { resolveStoreRoot, type StoreEnv } from "./root.js";
import { markTopDirectory } from "./top-directory.js";
import { errnoCode } from "./temp-files.js";

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** `--root`; when absent, `TSBUILD_ROOT` or the XDG default (see `resolveStoreRoot`). */
  readonly root?: string | undefined;
  /** Environment to read `TSBUILD_ROOT`/`XDG_DATA_HOME`/`HOME` from. Default `process.env`. */
  readonly env?: StoreEnv | undefined;
  /** Temp files untouched for this long are removed while opening. Default 1 hour. */
  readonly staleTempAgeMs?: number | undefined;
  /** Cancels opening (the temp cleanup scan, or waiting for a prune). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Hold a shared lease on the store for the rest of the process (see
   * `lease.ts`): a prune then waits for this process, and opening waits
   * while a prune runs. Default true; `prune` opens without one and takes
   * the exclusive lease instead.
   */
  readonly lease?: boolean | undefined;
}

/** An open local store. */
export interface LocalStore {
  /** Absolute path of the root. */
  readonly root: string;
  /** Paths inside the root. */
  readonly layout: StoreLayout;
  /** Blobs by digest. */
  readonly content: FsContentStore;
  /** Image names and blob sources. */
  readonly images: ImageStore;
}

/**
 * Opens the store, creating the root if it does not exist, checking its
 * layout version, and cleaning stale temp files. Safe to call from several
 * processes at once.
 *
 * @throws BuildError STORE_CORRUPT when the root was written by an
 *   incompatible tsbuild version or its marker file is damaged.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<LocalStore> {
  const root = resolveStoreRoot({ root: options.root, env: options.env });
  const layout = storeLayout(root);
  throwIfAborted(options.signal, "opening the store");
  // A new store's tmp/ gets the top-directory mark once, when it is made
  // (see top-directory.ts). Not awaited: chattr takes a few milliseconds,
  // the first step directory is made well after, and the mark is only a
  // placement hint (markTopDirectory never rejects).
  if ((await mkdir(layout.tmpDir, { recursive: true })) !== undefined) void markTopDirectory(layout.tmpDir);
  await checkLayoutVersion(layout, options.signal);
  if (options.lease !== false) await holdSharedLease(layout.leasesDir, options.signal);
  const content = await FsContentStore.open(root, { staleTempAgeMs: options.staleTempAgeMs, signal: options.signal });
  const images = await ImageStore.open(layout, content);
  return { root, layout, content, images };
}

async function checkLayoutVersion(layout: StoreLayout, signal: AbortSignal | undefined): Promise<void> {
  let text: string | undefined;
  try {
    text = await readFile(layout.versionFile, "utf8");
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  if (text === undefined) {
    // Concurrent first opens write identical content; the rename makes
    // either one win without a partial file.
    await writeFileAtomic(layout.versionFile, `${JSON.stringify({ layoutVersion: STORE_LAYOUT_VERSION })}\n`, {
      tmpDir: layout.tmpDir,
      signal,
    });
    return;
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as { layoutVersion?: unknown }).layoutVersion;
  } catch (err) {
    throw new BuildError("STORE_CORRUPT", `${layout.versionFile} is not valid JSON`, { cause: err, hint: `check or remove ${layout.versionFile}` });
  }
  if (version !== STORE_LAYOUT_VERSION) {
    throw new BuildError(
      "STORE_CORRUPT",
      `the store at ${layout.root} has layout version ${String(version)}; this tsbuild uses ${STORE_LAYOUT_VERSION}`,
      { hint: "use the tsbuild version that created it, or a different --root" },
    );
  }
}
