/**
 * Image names (tags and digest references) over a {@link ContentStore}.
 *
 * Concurrency design: one file per name, `<root>/images/<key>.json`, where
 * the key is the sha256 of the canonical name (see `recordKey`). Every
 * update of a name writes a complete record to a temp file, fsyncs it, and
 * `rename`s it over the name's file. There is no lock and no shared index
 * file, which gives these properties when several tsbuild processes share
 * a root:
 * - Updates of different names never interact.
 * - Concurrent updates of the same name are serialised by the kernel's
 *   atomic rename: the last writer wins and the file always holds one
 *   complete record (never a mix), as with two `docker tag` racing.
 * - Readers never block and never see a partial record.
 * - A crash leaves each name either at its old record or its new one; the
 *   temp file it may leave behind is removed by a later open.
 * - `untag` first renames the name's file away (only one process can win
 *   that rename), so it returns exactly the record it removed.
 * - A record is only written after the manifest, config and layer blobs it
 *   refers to are durable in the content store (checked by `putImage`), so
 *   after a crash a record never points at missing content. The opposite,
 *   blobs without a record, is harmless garbage for a future prune.
 * What this design does not give is multi-name transactions (e.g. "retag
 *   ten names atomically"); nothing in tsbuild needs them. A lock file was
 *   rejected because a killed process would leave it held, which needs
 *   stale-lock detection that is unreliable across hosts and pid namespaces.
 */
import { mkdir, readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { isDigest, parseDigest, type Digest } from "../oci/digest.js";
import { isIndexType, isManifestType, MediaType } from "../oci/media-types.js";
import type { ImageManifest } from "../oci/types.js";
import { parseReference, withDefaultTag, type ImageReference } from "../registry/reference.js";
import { throwIfAborted } from "./abort.js";
import { unlinkQuietly, writeFileAtomic } from "./atomic-write.js";
import { BlobSourceIndex } from "./blob-sources.js";
import type { ContentStore, StoreCallOptions } from "./content-store.js";
import {
  checkRecordName,
  decodeImageRecord,
  encodeImageRecord,
  recordKey,
  type ImageRecord,
  type NewImage,
} from "./image-record.js";
import type { StoreLayout } from "./layout.js";
import { errnoCode, tempFilePath } from "./temp-files.js";
import { compareCodeUnits } from "../util/compare.js";

/** Options for {@link ImageStore.putImage}. */
export interface PutImageOptions extends StoreCallOptions {
  /**
   * Check that the manifest and config blobs, and for a single-platform
   * manifest every distributable layer it lists, are in the content store
   * (and that the manifest's config is `configDigest`). Default true.
   */
  readonly verifyContent?: boolean | undefined;
}

/** Layer media types that are never stored locally (Docker foreign layers, OCI non-distributable). */
function isForeignLayer(mediaType: string): boolean {
  return mediaType === MediaType.DockerForeignLayer || mediaType.includes(".nondistributable.");
}

function notFound(query: string): BuildError {
  return new BuildError("STORE_NOT_FOUND", `no image "${query}" in the local store`, {
    hint: "pull or build it first; `tsbuild images` lists what the store holds",
  });
}

/** Parses a name given as text; a bare repository means its `latest` tag. */
function toName(ref: string | ImageReference): ImageReference {
  return withDefaultTag(typeof ref === "string" ? parseReference(ref) : ref);
}

/** Hex digits that may be (a prefix of) an image ID or manifest digest. */
const ID_PREFIX_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/** Image names over a content store. Create with {@link ImageStore.open} or `openStore`. */
export class ImageStore {
  /** The content store holding the blobs records refer to. */
  readonly content: ContentStore;
  /** The root's paths. */
  readonly layout: StoreLayout;
  /** Where blob sources are recorded. */
  readonly sources: BlobSourceIndex;

  /** Use {@link ImageStore.open}, which creates the directories. */
  constructor(layout: StoreLayout, content: ContentStore) {
    this.layout = layout;
    this.content = content;
    this.sources = new BlobSourceIndex(layout.blobSourcesDir);
  }

  /** Creates the image store's directories under `layout.root` if needed. */
  static async open(layout: StoreLayout, content: ContentStore): Promise<ImageStore> {
    await mkdir(layout.imagesDir, { recursive: true });
    await mkdir(layout.tmpDir, { recursive: true });
    await mkdir(layout.blobSourcesDir, { recursive: true });
    return new ImageStore(layout, content);
  }

  #file(name: ImageReference): string {
    return join(this.layout.imagesDir, `${recordKey(name)}.json`);
  }

  /**
   * Records `image` under `image.name`, replacing what that name held; if
   * the name already holds this image, the record is kept as it is (its
   * `updated` time too) and nothing is written.
   * The blobs must already be in the content store (see {@link PutImageOptions}).
   *
   * @throws BuildError REF_INVALID for a name with both or neither tag and digest.
   * @throws BuildError STORE_NOT_FOUND when a blob is missing.
   */
  async putImage(image: NewImage, options: PutImageOptions = {}): Promise<ImageRecord> {
    const signal = options.signal;
    throwIfAborted(signal, `storing ${image.name.familiar()}`);
    const manifestDigest = parseDigest(image.manifestDigest);
    const configDigest = parseDigest(image.configDigest);
    checkRecordName(image.name, manifestDigest);
    if (!Number.isSafeInteger(image.size) || image.size < 0) {
      throw new BuildError("INTERNAL", `invalid manifest size ${image.size} for ${image.name.familiar()}`);
    }
    if (options.verifyContent !== false) {
      await this.#verifyContent(image, manifestDigest, configDigest, signal);
    }
    const created = image.created instanceof Date ? image.created.toISOString() : image.created;
    // Already pointing there (a no-op rebuild): keep the record as it is.
    // `updated` means when the name last changed, and the write (temp file,
    // fsync, rename, directory fsync) was most of a cached build's I/O.
    const existing = await this.getImage(image.name).catch(() => undefined);
    if (
      existing !== undefined &&
      existing.manifestDigest === manifestDigest &&
      existing.mediaType === image.mediaType &&
      existing.size === image.size &&
      existing.configDigest === configDigest &&
      existing.created === created &&
      JSON.stringify(existing.platform) === JSON.stringify(image.platform)
    ) {
      return existing;
    }
    const record: ImageRecord = {
      name: image.name,
      manifestDigest,
      mediaType: image.mediaType,
      size: image.size,
      configDigest,
      platform: { ...image.platform },
      created,
      updated: new Date().toISOString(),
    };
    await this.#write(record, signal);
    return record;
  }

  async #verifyContent(image: NewImage, manifestDigest: Digest, configDigest: Digest, signal: AbortSignal | undefined): Promise<void> {
    const missing = (what: string, digest: string): BuildError =>
      new BuildError("STORE_NOT_FOUND", `cannot record ${image.name.familiar()}: its ${what} ${digest} is not in the local store`, {
        hint: "store every blob before the image record that refers to it",
      });
    if (!(await this.content.hasBlob(manifestDigest, { signal }))) throw missing("manifest", manifestDigest);
    if (!(await this.content.hasBlob(configDigest, { signal }))) throw missing("config", configDigest);
    if (isIndexType(image.mediaType) || !isManifestType(image.mediaType)) return;
    const bytes = await this.content.readBlob(manifestDigest, { signal, expectedSize: image.size });
    let manifest: ImageManifest;
    try {
      manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as ImageManifest;
    } catch (err) {
      throw new BuildError("MANIFEST_INVALID", `manifest ${manifestDigest} of ${image.name.familiar()} is not valid JSON`, { cause: err });
    }
    if (typeof manifest !== "object" || manifest === null || manifest.config?.digest !== configDigest || !Array.isArray(manifest.layers)) {
      throw new BuildError(
        "MANIFEST_INVALID",
        `manifest ${manifestDigest} of ${image.name.familiar()} does not name config ${configDigest}`,
      );
    }
    for (const layer of manifest.layers) {
      if (isForeignLayer(layer.mediaType)) continue;
      if (typeof layer.digest !== "string" || !isDigest(layer.digest)) {
        throw new BuildError("MANIFEST_INVALID", `manifest ${manifestDigest} lists an invalid layer digest ${String(layer.digest)}`);
      }
      if (!(await this.content.hasBlob(layer.digest, { signal }))) throw missing("layer", layer.digest);
    }
  }

  async #write(record: ImageRecord, signal: AbortSignal | undefined): Promise<void> {
    await writeFileAtomic(this.#file(record.name), encodeImageRecord(record), { tmpDir: this.layout.tmpDir, signal });
  }

  /**
   * The record stored under exactly this name (a bare repository means its
   * `latest` tag), or undefined. No digest or ID matching: see {@link resolve}.
   */
  async getImage(ref: string | ImageReference, options: StoreCallOptions = {}): Promise<ImageRecord | undefined> {
    const name = toName(ref);
    throwIfAborted(options.signal, `looking up ${name.familiar()}`);
    const file = this.#file(name);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
    const record = decodeImageRecord(text, file);
    if (record.name.toString() !== name.toString()) {
      throw new BuildError("STORE_CORRUPT", `image record ${file} holds "${record.name.toString()}", not "${name.toString()}"`, {
        hint: `remove ${file}`,
      });
    }
    return record;
  }

  /** Every record in the store, sorted by canonical name. */
  async listImages(options: StoreCallOptions = {}): Promise<ImageRecord[]> {
    throwIfAborted(options.signal, "listing images");
    const names = await readdir(this.layout.imagesDir);
    const records: ImageRecord[] = [];
    for (const entry of names) {
      throwIfAborted(options.signal, "listing images");
      if (!/^[a-f0-9]{64}\.json$/.test(entry)) continue;
      const file = join(this.layout.imagesDir, entry);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        // Untagged between readdir and read: not an image any more.
        if (errnoCode(err) === "ENOENT") continue;
        throw err;
      }
      const record = decodeImageRecord(text, file);
      if (`${recordKey(record.name)}.json` !== entry) {
        throw new BuildError("STORE_CORRUPT", `image record ${file} holds "${record.name.toString()}", which belongs in another file`, {
          hint: `remove ${file}`,
        });
      }
      records.push(record);
    }
    return records.sort((a, b) => compareCodeUnits(a.name.toString(), b.name.toString()));
  }

  /**
   * Points `dst` at the image `src` resolves to (see {@link resolve}) and
   * returns the new record. A bare `dst` repository gets the `latest` tag.
   */
  async tag(src: string | ImageReference, dst: string | ImageReference, options: StoreCallOptions = {}): Promise<ImageRecord> {
    const source = await this.resolve(src, options);
    const name = toName(dst);
    checkRecordName(name, source.manifestDigest);
    const record: ImageRecord = { ...source, name, updated: new Date().toISOString() };
    await this.#write(record, options.signal);
    return record;
  }

  /**
   * Removes the name `ref` (a bare repository means its `latest` tag) and
   * returns the record it held. Blobs are kept.
   *
   * @throws BuildError STORE_NOT_FOUND when no such name is stored;
   *   STORE_CORRUPT when its record was damaged (the name is removed anyway,
   *   which is how a damaged record is cleared).
   */
  async untag(ref: string | ImageReference, options: StoreCallOptions = {}): Promise<ImageRecord> {
    const name = toName(ref);
    throwIfAborted(options.signal, `untagging ${name.familiar()}`);
    // Claim the file by renaming it into tmp/: exactly one concurrent
    // untagger wins, and it reads the very record it removed. A crash after
    // the rename leaves a temp file for cleanup and the name removed.
    const claimed = tempFilePath(this.layout.tmpDir, "untag");
    try {
      await rename(this.#file(name), claimed);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") throw notFound(name.familiar());
      throw err;
    }
    try {
      return decodeImageRecord(await readFile(claimed, "utf8"), this.#file(name));
    } finally {
      await unlinkQuietly(claimed);
    }
  }

  /**
   * Finds an image the way `docker image inspect` does, trying in order:
   * 1. a full digest or 64-hex ID: the image whose config digest (ID) or
   *    manifest digest it is;
   * 2. a reference: a tag exactly (a bare repository means `latest`); a
   *    digest reference by its stored name, else any name of the same
   *    repository whose manifest has that digest (and that tag, if given);
   * 3. a hex prefix (optionally `sha256:`-prefixed) of an ID or manifest
   *    digest, when exactly one image matches.
   * When several names lead to the image, the first by name is returned.
   *
   * @throws BuildError STORE_NOT_FOUND when nothing matches; REF_INVALID for
   *   an ambiguous prefix or text that is neither a reference nor hex.
   */
  async resolve(query: string | ImageReference, options: StoreCallOptions = {}): Promise<ImageRecord> {
    const signal = options.signal;
    if (typeof query !== "string") {
      const found = await this.#resolveReference(query, signal);
      if (found === undefined) throw notFound(query.familiar());
      return found;
    }
    throwIfAborted(signal, `looking up ${query}`);
    const full = isDigest(query) ? query : /^[a-f0-9]{64}$/.test(query) ? (`sha256:${query}` as Digest) : undefined;
    if (full !== undefined) {
      const matches = (await this.listImages({ signal })).filter((r) => r.configDigest === full || r.manifestDigest === full);
      const first = matches[0];
      if (first === undefined) throw notFound(query);
      return first;
    }
    let ref: ImageReference | undefined;
    let parseError: unknown;
    try {
      ref = parseReference(query);
    } catch (err) {
      parseError = err;
    }
    if (ref !== undefined) {
      const found = await this.#resolveReference(ref, signal);
      if (found !== undefined) return found;
    }
    const prefix = ID_PREFIX_RE.exec(query)?.[1];
    if (prefix === undefined) {
      if (parseError !== undefined) throw parseError;
      throw notFound(query);
    }
    const matches = (await this.listImages({ signal })).filter(
      (r) => r.configDigest.startsWith(`sha256:${prefix}`) || r.manifestDigest.startsWith(`sha256:${prefix}`),
    );
    const distinct = [...new Set(matches.map((r) => r.manifestDigest))];
    if (distinct.length > 1) {
      throw new BuildError("REF_INVALID", `"${query}" is ambiguous: it matches ${distinct.length} images`, {
        hint: `use more digits, or one of: ${distinct.join(", ")}`,
      });
    }
    const first = matches[0];
    if (first === undefined) throw notFound(query);
    return first;
  }

  async #resolveReference(ref: ImageReference, signal: AbortSignal | undefined): Promise<ImageRecord | undefined> {
    if (ref.digest === undefined) return this.getImage(ref, { signal });
    if (ref.tag === undefined) {
      const exact = await this.getImage(ref, { signal });
      if (exact !== undefined) return exact;
    }
    const digest = ref.digest;
    return (await this.listImages({ signal })).find(
      (r) => r.name.name === ref.name && r.manifestDigest === digest && (ref.tag === undefined || r.name.tag === ref.tag),
    );
  }

  /** Remembers that blob `digest` exists in registry `repository` (for cross-repository mounts). */
  recordBlobSource(digest: Digest, repository: string | ImageReference, options: StoreCallOptions = {}): Promise<void> {
    return this.sources.recordBlobSource(digest, repository, options);
  }

  /** The registry repositories blob `digest` is known to exist in, oldest first. */
  blobSources(digest: Digest, options: StoreCallOptions = {}): Promise<string[]> {
    return this.sources.blobSources(digest, options);
  }
}

