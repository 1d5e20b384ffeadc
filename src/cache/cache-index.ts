import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Descriptor } from "../oci/types.js";
import { writeFileAtomic } from "../store/atomic-write.js";
import { storeLayout } from "../store/layout.js";

/** What a finished step left: the layer it made (if any) and when. */
export interface CacheRecord {
  /** The step's cache key. */
  readonly key: string;
  /** The layer blob (in the content store), or null when the step changed no file. */
  readonly layer: (Descriptor & { readonly diffId: string }) | null;
  /** When the step first ran (RFC 3339): the history time a rebuild reuses, so a no-op rebuild gives the same image. */
  readonly created: string;
}

/** Cache key → record. Records are written the moment a step succeeds; a rerun after a failure finds every finished step. */
export interface CacheIndex {
  /** The record of `key`, or undefined. */
  get(key: string): Promise<CacheRecord | undefined>;
  /** Records a finished step (atomically: a crash leaves either no record or the whole one). */
  put(record: CacheRecord): Promise<void>;
}

/**
 * The filesystem cache index: one small JSON file per key under
 * `<root>/cache/keys/`, written to a temporary file and renamed into place,
 * so concurrent builds and crashes never leave a half-written record. A
 * damaged record reads as a miss (the step reruns and rewrites it).
 */
export class FsCacheIndex implements CacheIndex {
  private constructor(
    private readonly dir: string,
    private readonly tmpDir: string,
  ) {}

  /** Opens (and creates) the index under a store root; temporary files go to `<root>/tmp` (same filesystem, so rename is atomic). */
  static async open(root: string): Promise<FsCacheIndex> {
    const { cacheKeysDir: dir, tmpDir } = storeLayout(root);
    await mkdir(dir, { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    return new FsCacheIndex(dir, tmpDir);
  }

  private file(key: string): string {
    return join(this.dir, `${key.replace(/^sha256:/, "")}.json`);
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const r = JSON.parse(text) as CacheRecord;
      return r.key === key && typeof r.created === "string" ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async put(record: CacheRecord): Promise<void> {
    await writeFileAtomic(this.file(record.key), JSON.stringify(record), { tmpDir: this.tmpDir });
  }
}

/** An in-memory index, for tests and `--no-cache` runs that must not read old records. */
export class MemoryCacheIndex implements CacheIndex {
  private readonly records = new Map<string, CacheRecord>();
  async get(key: string): Promise<CacheRecord | undefined> {
    return this.records.get(key);
  }
  async put(record: CacheRecord): Promise<void> {
    this.records.set(record.key, record);
  }
}
