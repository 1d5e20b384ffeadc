/**
 * The bodies of `ADD <URL>` sources, kept in the store with the `ETag` and
 * `Last-Modified` they were served with, so that a rebuild asks the server
 * whether a body changed (a conditional GET) instead of downloading it
 * again. BuildKit's HTTP source keeps its downloads and ETags the same way.
 *
 * Layout, under `<store>/http-cache/`, per URL (`<u>` is the SHA-256 of the
 * URL text):
 * - `<u>.json`: `{ url, digest, etag?, lastModified? }`, written atomically;
 * - `<u>-<digest hex>`: the body, mode 0600, its mtime the `Last-Modified`
 *   time (as the copy writes it). Named by URL and content, so a record
 *   never points at another URL's body, and a new body never overwrites a
 *   file a concurrent build may be copying from.
 *
 * Crash safety: a body is fsynced and renamed into place before the record
 * naming it, so a record always names a complete body. A killed download
 * leaves a temporary file in `<store>/tmp`, which the store's age-based
 * cleanup removes. A body that was replaced is removed once
 * {@link OLD_BODY_GRACE_MS} have passed since, so a build still copying
 * it keeps it.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readdir, rename, rm, utimes } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic-write.js";
import { errnoCode } from "../store/temp-files.js";
import { storeLayout } from "../store/layout.js";

/** A URL's cached body as the record describes it. */
export interface CachedBody {
  /** Host path of the body. */
  readonly path: string;
  /** `sha256:<hex>` of the body. */
  readonly digest: string;
  /** The `ETag` it was served with, if any. */
  readonly etag?: string;
  /** The `Last-Modified` header it was served with, if any. */
  readonly lastModified?: string;
}

/** Bodies of another version of a URL are kept this long (10 minutes) after they were replaced. */
export const OLD_BODY_GRACE_MS = 10 * 60 * 1000;

/** The HTTP body cache of one store (see the module comment). */
export class HttpCache {
  /** The cache directory. */
  readonly dir: string;
  /** Where downloads are written before they are renamed in (the store's `tmp/`, same filesystem). */
  readonly tmpDir: string;

  private readonly graceMs: number;

  /**
   * @param storeRoot the store's root directory.
   * @param options.oldBodyGraceMs how long a replaced body is kept (default {@link OLD_BODY_GRACE_MS}).
   */
  constructor(storeRoot: string, options: { readonly oldBodyGraceMs?: number } = {}) {
    this.dir = storeLayout(storeRoot).httpCacheDir;
    this.tmpDir = storeLayout(storeRoot).tmpDir;
    this.graceMs = options.oldBodyGraceMs ?? OLD_BODY_GRACE_MS;
  }

  /** The cached body of `url`, or undefined when there is none (or its record or body is unreadable). */
  async lookup(url: string): Promise<CachedBody | undefined> {
    const u = urlId(url);
    let record: { url?: unknown; digest?: unknown; etag?: unknown; lastModified?: unknown };
    try {
      record = JSON.parse(await readFile(join(this.dir, `${u}.json`), "utf8"));
    } catch {
      return undefined;
    }
    const digest = typeof record.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(record.digest) ? record.digest : undefined;
    if (record.url !== url || digest === undefined) return undefined;
    const path = this.bodyPath(url, digest);
    try {
      if (!(await lstat(path)).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return {
      path,
      digest,
      ...(typeof record.etag === "string" ? { etag: record.etag } : {}),
      ...(typeof record.lastModified === "string" ? { lastModified: record.lastModified } : {}),
    };
  }

  /**
   * Moves a complete, synced download (`file`, in {@link tmpDir}) into the
   * cache as the body of `url`, records it, and returns where it now is.
   */
  async store(url: string, file: string, body: Omit<CachedBody, "path">): Promise<CachedBody> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const previous = await this.lookup(url);
    const path = this.bodyPath(url, body.digest);
    await rename(file, path);
    const record = { url, digest: body.digest, ...(body.etag !== undefined ? { etag: body.etag } : {}), ...(body.lastModified !== undefined ? { lastModified: body.lastModified } : {}) };
    await writeFileAtomic(join(this.dir, `${urlId(url)}.json`), JSON.stringify(record), { tmpDir: this.tmpDir, mode: 0o600 });
    if (previous !== undefined && previous.path !== path) {
      // The body just replaced may be in use by a build that keyed on it
      // moments ago: setting its times to themselves moves its ctime to now,
      // which starts its grace period (its mtime stays the Last-Modified).
      try {
        const st = await lstat(previous.path);
        await utimes(previous.path, st.atime, st.mtime);
      } catch (err) {
        if (errnoCode(err) !== "ENOENT") throw err;
      }
    }
    await this.removeOldBodies(url, path);
    return { ...body, path };
  }

  private bodyPath(url: string, digest: string): string {
    return join(this.dir, `${urlId(url)}-${digest.slice("sha256:".length)}`);
  }

  /** Removes this URL's other bodies whose ctime (when renamed in, or replaced) is older than the grace period. */
  private async removeOldBodies(url: string, current: string): Promise<void> {
    const prefix = `${urlId(url)}-`;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (!name.startsWith(prefix) || path === current) continue;
      try {
        if (Date.now() - (await lstat(path)).ctimeMs > this.graceMs) await rm(path, { force: true });
      } catch (err) {
        if (errnoCode(err) !== "ENOENT") throw err;
      }
    }
  }
}

/** The file-name id of a URL: the SHA-256 of its text. */
function urlId(url: string): string {
  return createHash("sha256").update(url).digest("hex");
}
