/**
 * ADD of an `http://` or `https://` URL, as BuildKit's HTTP source does:
 * the body is saved as a file named after the last segment of the URL path
 * (`__unnamed__` when there is none), with mode 0600 and, when the server
 * sends `Last-Modified`, that modification time
 * (frontend/dockerfile testDockerfileADDFromURL). With `--checksum`, the
 * content must have that digest (testAddChecksum).
 */

import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { chmod, mkdir, mkdtemp, open, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import type { Dispatcher } from "undici";
import { BuildError } from "../diagnostics/build-error.js";
import { connectOption } from "../registry/tls-trust.js";
import { tempFilePath } from "../store/temp-files.js";
import type { HttpCache } from "./http-cache.js";
import { throwIfAborted } from "./tree.js";

/** A downloaded ADD source: in a private temporary directory, or in the store's body cache. */
export interface DownloadedFile {
  /** Host path of the file. */
  readonly path: string;
  /** The name it is copied under (`__unnamed__` for a URL without a path). */
  readonly name: string;
  /** Digest of the body: `--checksum`'s algorithm when given, else `sha256:<hex>`. */
  readonly digest: string;
  /** The response's `Last-Modified` header as sent (it becomes the file's mtime), if any. */
  readonly lastModified?: string;
  /** Removes the temporary directory; does nothing for a body of the cache. */
  dispose(): Promise<void>;
}

/** Options for {@link downloadUrl}. */
export interface DownloadOptions {
  /** Expected digest (`sha256:<hex>`, also sha384/sha512), from `ADD --checksum`. */
  readonly checksum?: string;
  /** Cancels the download (BuildError ABORTED). */
  readonly signal?: AbortSignal;
  /** The undici dispatcher (proxy agent); default undici's global one. */
  readonly dispatcher?: Dispatcher;
  /** Directory for the temporary file; default the OS temp directory. */
  readonly tmpDir?: string;
  /**
   * The store's body cache: the request is conditional on the cached body's
   * ETag (or Last-Modified), a 304 returns the cached body, and a new body
   * is kept there. The returned file then belongs to the cache (its
   * `dispose` does nothing).
   */
  readonly cache?: HttpCache;
}

const MAX_REDIRECTS = 10;
const ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** The file name BuildKit gives a URL source: `path.Base(u.Path)`, or `__unnamed__`. */
export function urlFileName(url: string): string {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return "__unnamed__";
  }
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // Keep the raw path when it is not valid percent-encoding.
  }
  const base = posix.basename(decoded);
  return base === "" || base === "." || base === "/" || base === ".." || base.includes("/") ? "__unnamed__" : base;
}

function parseChecksum(checksum: string): { algorithm: string; hex: string } {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(checksum);
  const algorithm = m?.[1];
  const hex = m?.[2];
  if (algorithm === undefined || hex === undefined || ALGORITHMS[algorithm] !== hex.length) {
    throw new BuildError("DF_FLAG", `invalid checksum digest format: ${JSON.stringify(checksum)}`, {
      hint: "write --checksum=sha256:<64 hex digits>",
    });
  }
  return { algorithm, hex };
}

function downloadError(url: string, why: string, cause?: unknown): BuildError {
  return new BuildError("ADD_DOWNLOAD_FAILED", `failed to download ${url}: ${why}`, cause === undefined ? {} : { cause });
}

/**
 * Downloads `url` into a temporary file (following up to 10 redirects),
 * verifying `checksum` when given.
 *
 * @throws BuildError ADD_DOWNLOAD_FAILED (network failure, non-2xx status),
 *   DIGEST_MISMATCH, DF_FLAG (malformed checksum), ABORTED.
 */
export async function downloadUrl(url: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
  const { signal } = options;
  const expected = options.checksum === undefined ? undefined : parseChecksum(options.checksum);
  throwIfAborted(signal);
  const name = urlFileName(url);
  // Only sha256 bodies are cached (the cache names bodies by their sha256).
  const cache = expected === undefined || expected.algorithm === "sha256" ? options.cache : undefined;
  const cached = cache ? await cache.lookup(url) : undefined;
  let dir: string | undefined;
  let path: string;
  if (cache) {
    await mkdir(cache.tmpDir, { recursive: true });
    path = tempFilePath(cache.tmpDir, "fetch");
  } else {
    dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "tsbuild-add-"));
    path = join(dir, "download");
  }
  const cleanup = async (): Promise<void> => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    else await rm(path, { force: true });
  };
  let ownAgent: Dispatcher | undefined;
  try {
    // undici loads only for a build that downloads: most builds never need
    // it. Through the registry client's loader, not `import("undici")`: the
    // CLI bundle runs in a vm.Script, where a dynamic import of a package
    // outside the bundle fails ("A dynamic import callback was not specified").
    const { UndiciAgent, undiciRequest } = await import("../registry/undici-lite.js");
    // An agent of our own, also because it trusts the extra CAs bin/tsbuild
    // moved aside (tls-trust.ts), which undici's global dispatcher would not.
    ownAgent = options.dispatcher ? undefined : new UndiciAgent({ connect: connectOption(30_000) });
    const dispatcher = options.dispatcher ?? ownAgent;
    if (dispatcher === undefined) throw new BuildError("INTERNAL", "no HTTP dispatcher");
    const headers: Record<string, string> = { "user-agent": "tsbuild" };
    // A conditional GET (BuildKit sends the cached ETag): a 304 means the
    // cached body is still what the URL serves.
    if (cached?.etag !== undefined) headers["if-none-match"] = cached.etag;
    else if (cached?.lastModified !== undefined) headers["if-modified-since"] = cached.lastModified;
    let current = url;
    for (let hop = 0; ; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await undiciRequest(new URL(current), { method: "GET", headers, signal, dispatcher });
      } catch (err) {
        throwIfAborted(signal);
        throw downloadError(url, (err as Error).message, err);
      }
      if (res.statusCode === 304 && cached !== undefined) {
        await res.body.dump();
        if (expected !== undefined && cached.digest !== `sha256:${expected.hex}`) throw digestMismatch(expected, cached.digest.slice(7), options.checksum, url);
        await cleanup();
        return { path: cached.path, name, digest: cached.digest, ...(cached.lastModified !== undefined ? { lastModified: cached.lastModified } : {}), dispose: async () => undefined };
      }
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) throw downloadError(url, "too many redirects");
        current = new URL(String(res.headers.location), current).toString();
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        throw downloadError(url, `invalid response status ${res.statusCode}`);
      }
      const hash = createHash(expected?.algorithm ?? "sha256");
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        }
        // A cached body is renamed into place and named by a record: it must be on disk first.
        if (cache) await fh.sync();
      } catch (err) {
        throwIfAborted(signal);
        throw downloadError(url, (err as Error).message, err);
      } finally {
        await fh.close();
      }
      const actual = hash.digest("hex");
      if (expected !== undefined && actual !== expected.hex) throw digestMismatch(expected, actual, options.checksum, url);
      await chmod(path, 0o600);
      const lastModified = headerText(res.headers["last-modified"]);
      const etag = headerText(res.headers.etag);
      const when = lastModified !== undefined ? Date.parse(lastModified) : Number.NaN;
      if (!Number.isNaN(when)) await utimes(path, when / 1000, when / 1000);
      const digest = `${expected?.algorithm ?? "sha256"}:${actual}`;
      const meta = { ...(lastModified !== undefined ? { lastModified } : {}) };
      if (cache) {
        const stored = await cache.store(url, path, { digest, ...meta, ...(etag !== undefined ? { etag } : {}) });
        return { path: stored.path, name, digest, ...meta, dispose: async () => undefined };
      }
      return { path, name, digest, ...meta, dispose: cleanup };
    }
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    await ownAgent?.close();
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function digestMismatch(expected: { algorithm: string }, actualHex: string, checksum: string | undefined, url: string): BuildError {
  return new BuildError("DIGEST_MISMATCH", `digest mismatch ${expected.algorithm}:${actualHex}: ${checksum} (ADD ${url})`, {
    hint: "the downloaded content differs from --checksum: the file changed upstream, or the checksum is wrong",
  });
}
