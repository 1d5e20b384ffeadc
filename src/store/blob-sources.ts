/**
 * Which registry repositories each blob was pulled from or pushed to, so a
 * push can ask the registry to mount the blob from a repository it already
 * holds instead of uploading it again (cross-repository blob mount).
 *
 * Storage: one append-only file per blob, `<root>/blob-sources/sha256/<hex>`,
 * one JSON object per line. Recording appends a line with a single small
 * `write(2)` on an `O_APPEND` descriptor, which needs no lock: the kernel
 * positions each append at the current end of file, so concurrent
 * recorders never overwrite one another.
 *
 * Crash and race cases, and why they are acceptable:
 * - A crash mid-append can leave a torn last line. Each entry is written as
 *   `\n{json}\n`, so the next append starts on a fresh line, and readers
 *   skip lines that are not complete, valid JSON naming a valid repository.
 * - Two processes recording the same repository at once may both append it;
 *   readers de-duplicate.
 * - Entries are not fsynced: they are hints. Losing one costs a mount
 *   (the push falls back to uploading), never correctness; a wrong entry
 *   costs a mount attempt the registry declines, which is also handled as
 *   an upload.
 * - On filesystems where `O_APPEND` is not atomic (some NFS setups), lines
 *   can interleave; the validation above turns that into lost hints.
 */
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { digestHex, parseDigest, type Digest } from "../oci/digest.js";
import { parseReference, type ImageReference } from "../registry/reference.js";
import { throwIfAborted } from "./abort.js";
import type { StoreCallOptions } from "./content-store.js";
import { errnoCode } from "./temp-files.js";

/** Normalises a repository given as text or reference to `domain/path`. */
function repositoryName(repository: string | ImageReference): string {
  const ref = typeof repository === "string" ? parseReference(repository) : repository;
  if (typeof repository === "string" && (ref.tag !== undefined || ref.digest !== undefined)) {
    throw new BuildError("REF_INVALID", `"${repository}" is not a repository: it has a tag or digest`);
  }
  return ref.name;
}

/** Parses one line of a sources file; undefined for torn or foreign lines. */
function parseLine(line: string): string | undefined {
  if (line === "") return undefined;
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v !== "object" || v === null) return undefined;
    const repo = (v as Record<string, unknown>)["repository"];
    if (typeof repo !== "string") return undefined;
    const ref = parseReference(repo);
    return ref.name === repo && ref.tag === undefined && ref.digest === undefined ? repo : undefined;
  } catch {
    return undefined;
  }
}

/** The per-blob source-repository lists of a store. */
export class BlobSourceIndex {
  /** `<root>/blob-sources/sha256`. */
  readonly dir: string;

  /** @param dir the directory holding one file per blob (created on first use). */
  constructor(dir: string) {
    this.dir = dir;
  }

  #file(digest: Digest): string {
    return join(this.dir, digestHex(parseDigest(digest)));
  }

  /**
   * Remembers that `digest` exists in `repository` (e.g.
   * `docker.io/library/alpine`, or a reference whose tag/digest is ignored).
   * Does nothing when already recorded.
   */
  async recordBlobSource(digest: Digest, repository: string | ImageReference, options: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `recording the source of blob ${digest}`);
    const repo = repositoryName(repository);
    const file = this.#file(digest);
    if ((await this.blobSources(digest, options)).includes(repo)) return;
    const line = Buffer.from(`\n${JSON.stringify({ repository: repo })}\n`);
    await mkdir(this.dir, { recursive: true });
    const fh = await open(file, "a", 0o644);
    try {
      // One write call: with O_APPEND it lands whole at the end of the file.
      await fh.write(line, 0, line.length);
    } finally {
      await fh.close();
    }
  }

  /** The repositories `digest` was recorded in, oldest first, without duplicates. */
  async blobSources(digest: Digest, options: StoreCallOptions = {}): Promise<string[]> {
    throwIfAborted(options.signal, `reading the sources of blob ${digest}`);
    let text: string;
    try {
      text = await readFile(this.#file(digest), "utf8");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return [];
      throw err;
    }
    const seen = new Set<string>();
    const lines = text.split("\n");
    // The last element follows the last "\n": it is empty, or a torn line.
    lines.pop();
    for (const line of lines) {
      const repo = parseLine(line);
      if (repo !== undefined) seen.add(repo);
    }
    return [...seen];
  }

  /** Forgets all sources of `digest` (when the blob itself is deleted). */
  async forgetBlob(digest: Digest, options: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `forgetting the sources of blob ${digest}`);
    try {
      await unlink(this.#file(digest));
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
    }
  }
}
