/**
 * Reading an image archive (`docker save` or OCI layout tarball) in one
 * streaming pass, in whatever order its members come (Docker writes
 * `manifest.json` last, so nothing can be planned up front):
 *
 * - `blobs/sha256/<hex>` members go straight into the content store,
 *   verified against the digest their path names: a damaged one fails with
 *   DIGEST_MISMATCH and nothing of it is stored;
 * - metadata (`index.json`, `manifest.json`, `*.json`, `oci-layout`,
 *   `repositories`, `VERSION`) is kept in memory, with a size cap;
 * - every other file (legacy `<id>/layer.tar`, `<hex>.tar`) is stored under
 *   the digest of its content, and checked later against what the
 *   manifests say (the loader compares layers with the config's diff_ids);
 * - symbolic and hard links (Docker's legacy format links duplicate layers)
 *   are remembered and followed on lookup.
 *
 * A blob is thus only ever stored under its true digest, and never held in
 * memory. Image records are the loader's business, written only once every
 * check passed.
 */
import { posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { BuildError, isBuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { readTar } from "../oci/layer/tar-reader.js";
import { TarFormatError } from "../oci/layer/tar-format.js";
import { throwIfAborted } from "../store/abort.js";
import type { ContentStore } from "../store/content-store.js";

/** A member of the archive, after reading. */
export type ArchiveFile =
  | {
      /** Metadata kept in memory. */
      readonly kind: "memory";
      readonly bytes: Buffer;
    }
  | {
      /** Content now in the content store. */
      readonly kind: "blob";
      readonly digest: Digest;
      readonly size: number;
    };

/** Largest metadata member kept in memory (a `manifest.json` of many images stays far below). */
export const MAX_METADATA_SIZE = 32 * 1024 * 1024;

const BLOB_PATH_RE = /^blobs\/sha256\/([a-f0-9]{64})$/;
const METADATA_NAMES = new Set(["json", "VERSION", "repositories", "oci-layout"]);
const MAX_LINK_DEPTH = 16;

/** The members of an archive by clean path, with links resolved on lookup. */
export class ArchiveFiles {
  readonly #files = new Map<string, ArchiveFile>();
  readonly #links = new Map<string, string>();

  /** Records a member. */
  set(path: string, file: ArchiveFile): void {
    this.#files.set(path, file);
  }

  /** Records a link from `path` to the member `target` (a clean archive path). */
  link(path: string, target: string): void {
    this.#links.set(path, target);
  }

  /** The member at `path` (any spelling: `./a`, `a`), following links; undefined when absent. */
  get(path: string): ArchiveFile | undefined {
    let p = cleanArchivePath(path);
    for (let i = 0; p !== undefined && i <= MAX_LINK_DEPTH; i++) {
      const file = this.#files.get(p);
      if (file !== undefined) return file;
      p = this.#links.get(p);
    }
    return undefined;
  }
}

/**
 * A member name in canonical form (`./a//b/` → `a/b`, `/a` → `a`), with
 * `..` clamped at the archive root as Go's `filepath.Clean("/" + name)`
 * does (member names are only keys here; nothing is written by them).
 * Undefined for the root itself.
 */
export function cleanArchivePath(name: string): string | undefined {
  const p = posix.normalize(`/${name}`).slice(1).replace(/\/+$/, "");
  return p === "" ? undefined : p;
}

function isMetadata(path: string): boolean {
  const base = posix.basename(path);
  return base.endsWith(".json") || METADATA_NAMES.has(base);
}

function notAnArchive(detail: string, cause?: unknown): BuildError {
  return new BuildError("IO_READ", `the input is not a valid image archive: ${detail}`, {
    cause,
    hint: "give a tarball written by `tsbuild save`, `docker save` or `skopeo copy … oci-archive:/docker-archive:`",
  });
}

async function readAll(body: AsyncIterable<Buffer>, size: number, path: string): Promise<Buffer> {
  if (size > MAX_METADATA_SIZE) throw notAnArchive(`member ${path} is ${size} bytes, more than metadata may be (${MAX_METADATA_SIZE})`);
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Options for {@link readImageArchive}. */
export interface ReadArchiveOptions {
  /** Cancels reading (ABORTED); a blob being written is then not stored. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Reads the archive `source` (a plain or gzip-compressed tar stream), storing
 * blobs as described in the module comment, and returns its members.
 *
 * @throws BuildError DIGEST_MISMATCH for a `blobs/sha256/<hex>` member
 *   whose content has another digest; IO_READ for input that is not a tar
 *   archive (or is compressed with something other than gzip); ABORTED.
 */
export async function readImageArchive(content: ContentStore, source: AsyncIterable<Uint8Array>, options: ReadArchiveOptions = {}): Promise<ArchiveFiles> {
  const signal = options.signal;
  const files = new ArchiveFiles();
  try {
    for await (const { header, body } of readTar(decompressArchive(source))) {
      throwIfAborted(signal, "loading the image archive");
      const path = cleanArchivePath(header.name);
      if (path === undefined) continue;
      if (header.type === "symlink") {
        const target = cleanArchivePath(header.linkname.startsWith("/") ? header.linkname : posix.join(posix.dirname(path), header.linkname));
        if (target !== undefined) files.link(path, target);
        continue;
      }
      if (header.type === "link") {
        const target = cleanArchivePath(header.linkname);
        if (target !== undefined) files.link(path, target);
        continue;
      }
      if (header.type !== "file") continue;
      const blob = BLOB_PATH_RE.exec(path);
      if (blob !== null) {
        const digest = `sha256:${blob[1]}` as Digest;
        try {
          const written = await content.writeBlob(body, { digest, size: header.size }, { signal });
          files.set(path, { kind: "blob", digest: written.digest, size: written.size });
        } catch (err) {
          if (!isBuildError(err, "DIGEST_MISMATCH")) throw err;
          throw new BuildError("DIGEST_MISMATCH", `archive member ${path} does not match its digest: ${err.message}`, {
            cause: err,
            hint: "the archive is damaged or was altered; nothing from it was recorded",
          });
        }
      } else if (path.startsWith("blobs/")) {
        continue; // another digest algorithm: the store is sha256-only, and nothing can refer to it
      } else if (isMetadata(path)) {
        files.set(path, { kind: "memory", bytes: await readAll(body, header.size, path) });
      } else {
        const written = await content.writeBlob(body, undefined, { signal });
        files.set(path, { kind: "blob", digest: written.digest, size: written.size });
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw notAnArchive(err.message, err);
    throw err;
  }
  return files;
}

/** True for a gzip stream's magic bytes. */
function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The compressions `docker load` also accepts, recognised only to explain that they are not supported. */
function unsupportedCompression(head: Uint8Array): string | undefined {
  const starts = (bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (starts([0x42, 0x5a, 0x68])) return "bzip2";
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  return undefined;
}

/**
 * `source` as a plain tar stream: gzip input (`docker save | gzip`) is
 * decompressed on the fly; xz, bzip2 and zstd are refused with IO_READ.
 */
export async function* decompressArchive(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  try {
    while (headLength < 6) {
      const next = await it.next();
      if (next.done === true) {
        done = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.byteLength;
    }
    const first = Buffer.concat(head);
    async function* rest(): AsyncGenerator<Uint8Array, void, undefined> {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const next = await it.next();
        if (next.done === true) return;
        yield next.value;
      }
    }
    const other = unsupportedCompression(first);
    if (other !== undefined) throw notAnArchive(`it is ${other}-compressed; decompress it first`);
    if (!isGzip(first)) {
      yield* rest();
      return;
    }
    const gunzip = createGunzip();
    const piping = pipeline(Readable.from(rest()), gunzip).catch((err: unknown) => {
      gunzip.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      if (isBuildError(err)) throw err;
      throw notAnArchive(`its gzip compression is damaged (${err instanceof Error ? err.message : String(err)})`, err);
    } finally {
      gunzip.destroy();
      await piping;
    }
  } finally {
    await it.return?.();
  }
}
