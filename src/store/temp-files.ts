/**
 * Temporary files under `<root>/tmp`. Every file the store writes starts
 * here and is renamed into place once complete and synced.
 *
 * Cleaning up after killed processes is age-based, not pid-based: a file is
 * stale when neither its content nor its inode (mtime, ctime) changed for
 * {@link DEFAULT_STALE_TEMP_AGE_MS}.
 * A pid check would be wrong when several hosts or containers (each with its
 * own pid namespace) share one root, and after pid reuse. Writers touch
 * their temp file with every chunk, so only a writer stalled for longer than
 * the threshold can lose its file; it then fails at rename with a clear
 * error instead of publishing anything wrong.
 */
import { randomBytes } from "node:crypto";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { throwIfAborted } from "./abort.js";

/** Temp files untouched for this long (1 hour) are removed when a store is opened. */
export const DEFAULT_STALE_TEMP_AGE_MS = 60 * 60 * 1000;

/**
 * A fresh, unique temp path in `tmpDir`. The name records the purpose and
 * pid for humans debugging a store; cleanup does not rely on them.
 */
export function tempFilePath(tmpDir: string, purpose: string): string {
  return join(tmpDir, `${purpose}-${process.pid}-${randomBytes(8).toString("hex")}.tmp`);
}

/** Options for {@link cleanStaleTempFiles}. */
export interface CleanTempOptions {
  /** Remove entries not modified for this many milliseconds (0: remove all). Default {@link DEFAULT_STALE_TEMP_AGE_MS}. */
  readonly maxAgeMs?: number | undefined;
  /** The current time (for tests). Default `Date.now()`. */
  readonly now?: number | undefined;
  /** Stops the scan between entries. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Removes stale entries from `tmpDir` and returns how many were removed.
 * Entries that vanish meanwhile (another process cleaning, or a writer
 * renaming its file into place) are skipped silently.
 */
export async function cleanStaleTempFiles(tmpDir: string, options: CleanTempOptions = {}): Promise<number> {
  const maxAge = options.maxAgeMs ?? DEFAULT_STALE_TEMP_AGE_MS;
  const now = options.now ?? Date.now();
  let names: string[];
  try {
    names = await readdir(tmpDir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    throwIfAborted(options.signal, "temporary file cleanup");
    const path = join(tmpDir, name);
    try {
      const st = await lstat(path);
      // ctime too: a rename into tmp/ (untag's claim) updates ctime but
      // keeps the old mtime, and such a file is in use right now.
      if (maxAge > 0 && now - Math.max(st.mtimeMs, st.ctimeMs) < maxAge) continue;
      await rm(path, { recursive: true, force: true });
      removed++;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
    }
  }
  return removed;
}

/** The `code` of a Node system error (`ENOENT`, `EEXIST`...), if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}
