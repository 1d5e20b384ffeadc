/**
 * Progress of a pull or push, as plain events: the library emits them
 * through an `onProgress` callback and never prints; the CLI renders them
 * (a live view on a terminal, plain lines in logs).
 *
 * Per blob: what it is, its state and bytes done/total. Per image: layers
 * done/total and bytes done/total over config and layers. Events are
 * snapshots (not deltas), so a renderer can drop any of them.
 */
import type { Digest } from "../oci/digest.js";

/** What a blob is to the image. */
export type BlobRole = "config" | "layer";

/**
 * A blob's state.
 * - `waiting`: queued behind the concurrency limit;
 * - `checking`: asking the registry whether it is there (push);
 * - `downloading` / `uploading`: bytes are moving (after a retry `done` may go back);
 * - final states: `cached` (pull: already in the local store), `downloaded`
 *   (pull: fetched, verified and stored), `exists` (push: the repository
 *   had it), `mounted` (push: linked from another repository of the same
 *   registry), `uploaded` (push: bytes sent).
 */
export type BlobStatus =
  | "waiting"
  | "checking"
  | "downloading"
  | "uploading"
  | "cached"
  | "downloaded"
  | "exists"
  | "mounted"
  | "uploaded";

/** The final {@link BlobStatus}es. */
export const FINAL_BLOB_STATUSES: ReadonlySet<BlobStatus> = new Set(["cached", "downloaded", "exists", "mounted", "uploaded"]);

/** A blob's progress. */
export interface BlobProgressEvent {
  /** Discriminant. */
  readonly type: "blob";
  /** The image, as its full reference (`127.0.0.1:5000/busybox:test`). */
  readonly image: string;
  /** The blob's digest. */
  readonly digest: Digest;
  /** Config or layer. */
  readonly role: BlobRole;
  /** Its state. */
  readonly status: BlobStatus;
  /** Bytes transferred so far (equals `total` in final states). */
  readonly done: number;
  /** The blob's size from its descriptor. */
  readonly total: number;
}

/** An image's progress, emitted whenever one of its blobs changes. */
export interface ImageProgressEvent {
  /** Discriminant. */
  readonly type: "image";
  /** The image, as its full reference. */
  readonly image: string;
  /** Layers in a final state. */
  readonly layersDone: number;
  /** Layers of the image (distinct digests, foreign layers excluded). */
  readonly layersTotal: number;
  /** Bytes of config and layers done (a cached or existing blob counts fully). */
  readonly bytesDone: number;
  /** Bytes of config and layers. */
  readonly bytesTotal: number;
}

/** A step of the operation as a whole. */
export interface PhaseEvent {
  /** Discriminant. */
  readonly type: "phase";
  /** The image, as its full reference. */
  readonly image: string;
  /**
   * - `resolving`: fetching the manifest (pull) or reading it locally (push);
   * - `resolved`: the manifest is known (`digest` is the platform manifest's);
   * - `manifest`: writing the manifest (pull: into the store; push: to the registry);
   * - `done`: finished.
   */
  readonly phase: "resolving" | "resolved" | "manifest" | "done";
  /** The manifest digest, once known. */
  readonly digest?: Digest | undefined;
}

/** Every event of a pull or push. */
export type PullPushProgress = BlobProgressEvent | ImageProgressEvent | PhaseEvent;

/** The callback type of `onProgress` options. Must not throw; slow work belongs elsewhere. */
export type ProgressListener = (event: PullPushProgress) => void;

/** A blob being tracked by {@link ProgressTracker}. */
interface TrackedBlob {
  readonly role: BlobRole;
  readonly total: number;
  status: BlobStatus;
  done: number;
}

/**
 * Keeps per-blob state of one image and emits blob and image events.
 * Used by pull and push; a listener that throws is ignored, so a broken
 * renderer cannot fail a transfer.
 */
export class ProgressTracker {
  /** The image the events are about. */
  readonly image: string;
  readonly #listener: ProgressListener | undefined;
  readonly #blobs = new Map<Digest, TrackedBlob>();

  /** @param image the image's full reference; @param listener receives the events. */
  constructor(image: string, listener: ProgressListener | undefined) {
    this.image = image;
    this.#listener = listener;
  }

  /** Emits an event (listener errors are swallowed: progress is best effort). */
  emit(event: PullPushProgress): void {
    if (this.#listener === undefined) return;
    try {
      this.#listener(event);
    } catch {
      // A renderer bug must not abort a push halfway.
    }
  }

  /** Emits a phase event. */
  phase(phase: PhaseEvent["phase"], digest?: Digest): void {
    this.emit({ type: "phase", image: this.image, phase, digest });
  }

  /** Registers a blob in state `waiting` (duplicates are ignored). */
  add(digest: Digest, role: BlobRole, total: number): void {
    if (this.#blobs.has(digest)) return;
    this.#blobs.set(digest, { role, total, status: "waiting", done: 0 });
  }

  /** Emits `waiting` for every registered blob, and the image totals. */
  start(): void {
    for (const [digest, b] of this.#blobs) this.#emitBlob(digest, b);
    this.#emitImage();
  }

  /** Updates a blob's state and bytes; final states count the blob as complete. */
  update(digest: Digest, status: BlobStatus, done?: number): void {
    const b = this.#blobs.get(digest);
    if (b === undefined) return;
    b.status = status;
    b.done = FINAL_BLOB_STATUSES.has(status) ? b.total : Math.min(b.total, Math.max(0, done ?? b.done));
    this.#emitBlob(digest, b);
    this.#emitImage();
  }

  /** The current state of a blob. */
  status(digest: Digest): BlobStatus | undefined {
    return this.#blobs.get(digest)?.status;
  }

  /** Blobs by final status, for summaries (`{ downloaded: 3, cached: 1 }`). */
  counts(): Partial<Record<BlobStatus, number>> {
    const out: Partial<Record<BlobStatus, number>> = {};
    for (const b of this.#blobs.values()) out[b.status] = (out[b.status] ?? 0) + 1;
    return out;
  }

  #emitBlob(digest: Digest, b: TrackedBlob): void {
    this.emit({ type: "blob", image: this.image, digest, role: b.role, status: b.status, done: b.done, total: b.total });
  }

  #emitImage(): void {
    if (this.#listener === undefined) return;
    let layersDone = 0;
    let layersTotal = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const b of this.#blobs.values()) {
      bytesTotal += b.total;
      bytesDone += b.done;
      if (b.role !== "layer") continue;
      layersTotal++;
      if (FINAL_BLOB_STATUSES.has(b.status)) layersDone++;
    }
    this.emit({ type: "image", image: this.image, layersDone, layersTotal, bytesDone, bytesTotal });
  }
}
