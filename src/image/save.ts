/**
 * `docker save`: stored images as one tar archive, in one of two formats.
 *
 * - `oci`: an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 *   `oci-layout`, `index.json` with one entry per image name (annotated as
 *   described in `archive-names.ts`), and `blobs/sha256/<hex>` for every
 *   manifest, config and layer, exactly as stored (so digests survive).
 * - `docker`: what `docker load` reads, written the way Docker 25+ writes
 *   it: the same OCI layout, plus a `manifest.json` listing per image its
 *   `Config`, `RepoTags` and `Layers` as paths of those same blob files.
 *   Readers of either kind (`docker load`, skopeo's `docker-archive:`,
 *   umoci, containerd) find what they expect, and no blob is stored twice.
 *
 * A multi-platform record is saved as its own platform's manifest (the
 * index entry whose config is its image ID), so the archive is complete.
 * Blobs are streamed from the store and verified as they are read; a
 * damaged blob fails the save (STORE_CORRUPT).
 */
import { open, rename } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BuildError } from "../diagnostics/build-error.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { isForeignLayer, MediaType } from "../oci/media-types.js";
import type { Descriptor } from "../oci/types.js";
import type { ImageReference } from "../registry/reference.js";
import { storeAbortedError } from "../store/abort.js";
import { unlinkQuietly } from "../store/atomic-write.js";
import type { ContentStore } from "../store/content-store.js";
import type { LocalStore } from "../store/store.js";
import { nameAnnotations } from "./archive-names.js";
import { tarArchive, type ArchiveMember } from "./archive-tar.js";
import { readImageManifest, type ImageManifestContent } from "./content.js";
import { findImage, isIdQuery } from "./find.js";

/** The archive formats `tsbuild save` writes. */
export const ARCHIVE_FORMATS = ["oci", "docker"] as const;

/** `oci` (an OCI image layout) or `docker` (that plus Docker's `manifest.json`). */
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

/** One image to save and the names to give it in the archive. */
export interface ImageToSave {
  /** Its single-platform manifest, as stored. */
  readonly content: ImageManifestContent;
  /** Names, in order; at least one. */
  readonly names: readonly ImageReference[];
}

/** Options for {@link selectImagesToSave}. */
export interface SelectImagesOptions {
  /** Cancels the lookups. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Finds the images `queries` designate (names, digests, IDs; see
 * `findImage`) and the names each gets in the archive: the name it was found
 * under, or, for a query by ID or digest, every name the store has for that
 * manifest (tags first). Queries that lead to the same manifest are merged.
 *
 * @throws BuildError STORE_NOT_FOUND `No such image: …` for an unknown query.
 */
export async function selectImagesToSave(store: LocalStore, queries: readonly string[], options: SelectImagesOptions = {}): Promise<ImageToSave[]> {
  const signal = options.signal;
  const byManifest = new Map<Digest, { content: ImageManifestContent; names: Map<string, ImageReference> }>();
  for (const query of queries) {
    const record = await findImage(store.images, query, { signal });
    let names: ImageReference[] = [record.name];
    if (isIdQuery(query, record)) {
      const all = (await store.images.listImages({ signal })).filter((r) => r.manifestDigest === record.manifestDigest).map((r) => r.name);
      names = [...all.filter((n) => n.tag !== undefined), ...all.filter((n) => n.tag === undefined)];
    }
    const content = await readImageManifest(store.content, record, { signal });
    let entry = byManifest.get(content.descriptor.digest);
    if (entry === undefined) {
      entry = { content, names: new Map() };
      byManifest.set(content.descriptor.digest, entry);
    }
    for (const n of names) entry.names.set(n.toString(), n);
  }
  return [...byManifest.values()].map((e) => ({ content: e.content, names: [...e.names.values()] }));
}

/** Options for {@link imageArchive}. */
export interface ImageArchiveOptions {
  /** Default `oci`. */
  readonly format?: ArchiveFormat | undefined;
  /** Stops the archive with ABORTED. */
  readonly signal?: AbortSignal | undefined;
}

/** `blobs/sha256/<hex>`: where a blob lives in an OCI layout. */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}


function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

/**
 * The archive of `images` as a stream of chunks (see the module comment for
 * the formats). Consume it with `stream.pipeline` or `for await`; blobs are
 * read from `content` only as fast as the chunks are consumed.
 *
 * @throws BuildError MANIFEST_INVALID for an image with foreign
 *   (non-distributable) layers, which the store does not hold;
 *   STORE_NOT_FOUND / STORE_CORRUPT for a missing or damaged blob; ABORTED.
 */
export async function* imageArchive(content: ContentStore, images: readonly ImageToSave[], options: ImageArchiveOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const format = options.format ?? "oci";
  const signal = options.signal;
  for (const image of images) {
    const foreign = image.content.manifest.layers.find((d) => isForeignLayer(d.mediaType));
    if (foreign !== undefined) {
      throw new BuildError("MANIFEST_INVALID", `cannot save ${image.names[0]?.familiar() ?? image.content.descriptor.digest}: layer ${foreign.digest} is a foreign layer, which the local store does not hold`);
    }
  }
  const members: ArchiveMember[] = [
    { kind: "bytes", name: "oci-layout", data: json({ imageLayoutVersion: "1.0.0" }) },
    { kind: "directory", name: "blobs/" },
    { kind: "directory", name: "blobs/sha256/" },
  ];
  const written = new Set<Digest>();
  const addBlob = (d: Descriptor & { digest: Digest }): void => {
    if (written.has(d.digest)) return;
    written.add(d.digest);
    members.push({
      kind: "stream",
      name: blobPath(d.digest),
      size: d.size,
      open: () => content.openBlob(d.digest, { expectedSize: d.size, signal }),
    });
  };
  const indexEntries: Descriptor[] = [];
  const dockerEntries: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  for (const { content: image, names } of images) {
    const { manifest, descriptor, bytes, record } = image;
    for (const layer of manifest.layers) addBlob(layer);
    addBlob(manifest.config);
    if (!written.has(descriptor.digest)) {
      written.add(descriptor.digest);
      members.push({ kind: "bytes", name: blobPath(descriptor.digest), data: bytes });
    }
    const base: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, platform: { ...record.platform } };
    for (const name of names) indexEntries.push({ ...base, annotations: nameAnnotations(name) });
    if (names.length === 0) indexEntries.push(base);
    const tags = names.filter((n) => n.tag !== undefined && n.digest === undefined).map((n) => n.familiar());
    dockerEntries.push({
      Config: blobPath(manifest.config.digest),
      RepoTags: tags.length > 0 ? tags : null,
      Layers: manifest.layers.map((l) => blobPath(l.digest)),
    });
  }
  members.push({ kind: "bytes", name: "index.json", data: json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: indexEntries }) });
  if (format === "docker") members.push({ kind: "bytes", name: "manifest.json", data: json(dockerEntries) });
  yield* tarArchive(members, { signal });
}

/** Options for {@link writeArchiveFile} and {@link writeArchiveStream}. */
export interface WriteArchiveOptions {
  /** Cancels the write (ABORTED); a file output is then not created. */
  readonly signal?: AbortSignal | undefined;
}

function abortedOr(err: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted === true && !(err instanceof BuildError) ? storeAbortedError(signal, "saving images") : err;
}

/**
 * Writes `chunks` to the file `path`: into a temp file next to it, synced,
 * then renamed over `path`, so a failed or cancelled save never leaves a
 * truncated archive under the name.
 *
 * @throws BuildError IO_READ when the file cannot be written (the message
 *   says so); whatever `chunks` throws.
 */
export async function writeArchiveFile(path: string, chunks: AsyncIterable<Uint8Array>, options: WriteArchiveOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tsbuild-${randomBytes(6).toString("hex")}.tmp`);
  try {
    await pipeline(Readable.from(chunks), createWriteStream(tmp, { flags: "wx", mode: 0o644 }), { signal: options.signal });
    const fh = await open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlinkQuietly(tmp).catch(() => undefined);
    const e = abortedOr(err, options.signal);
    if (e instanceof BuildError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string") {
      throw new BuildError("IO_READ", `cannot write ${path}: ${code === "ENOENT" ? "no such directory" : code === "EACCES" ? "permission denied" : code}`, { cause: e });
    }
    throw e;
  }
}

/**
 * Writes `chunks` to `output` (e.g. standard output) with backpressure,
 * leaving `output` open.
 *
 * @throws BuildError IO_READ when `output` fails (e.g. EPIPE: the reader
 *   of a pipe went away); whatever `chunks` throws.
 */
export async function writeArchiveStream(output: Writable, chunks: AsyncIterable<Uint8Array>, options: WriteArchiveOptions = {}): Promise<void> {
  try {
    await pipeline(Readable.from(chunks), output, { signal: options.signal, end: false });
  } catch (err) {
    const e = abortedOr(err, options.signal);
    const code = (e as NodeJS.ErrnoException).code;
    if (!(e instanceof BuildError) && typeof code === "string") {
      throw new BuildError("IO_READ", `cannot write the archive: ${code === "EPIPE" ? "the reading end of the pipe was closed" : code}`, { cause: e });
    }
    throw e;
  }
}
