import { Worker } from "node:worker_threads";

/** Bytes collected before they are handed to the worker in one message. */
const BATCH = 1 << 20;
/** Batches handed over but not yet hashed before {@link OffThreadHash.update} waits (bounds memory to ~8 MiB). */
const MAX_IN_FLIGHT = 8;

/** Parts shorter than this that are not in shared memory travel in a gather message as copies. */
const SMALL = 4096;

/**
 * The worker: a SHA-256 (and, if `workerData.crc32`, a CRC-32) over the
 * messages it receives, in order. A batch (a Uint8Array) is handed back for
 * reuse; a gather message (`{ id, shared, ranges, small }`) lists its parts
 * as (buffer index, offset, length) triples in one Float64Array: an index
 * into `shared` (SharedArrayBuffers, hashed in place), or -1 for a slice of
 * `small` (the small parts, copied into one buffer); it is acknowledged by
 * id. `null` asks for the digest.
 *
 * Why packed: one object and one small typed array per part made the
 * structured clone the main thread's third-largest cost in a 256 MiB
 * layer's commit (~90 ms of postMessage for ~8,000 parts per side).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
const crc32 = workerData.crc32 ? require("node:zlib").crc32 : undefined;
let crc = 0;
const add = (v) => {
  hash.update(v);
  if (crc32 !== undefined) crc = crc32(v, crc);
};
parentPort.on("message", (m) => {
  if (m === null) {
    parentPort.postMessage({ digest: hash.digest("hex"), crc });
  } else if (m instanceof Uint8Array) {
    add(m);
    // The batch goes back for reuse: no allocation, and no garbage here.
    parentPort.postMessage({ ack: m }, [m.buffer]);
  } else {
    const r = m.ranges;
    for (let i = 0; i < r.length; i += 3) {
      add(r[i] < 0 ? m.small.subarray(r[i + 1], r[i + 1] + r[i + 2]) : new Uint8Array(m.shared[r[i]], r[i + 1], r[i + 2]));
    }
    parentPort.postMessage({ done: m.id });
  }
});
`;

/** A view of shared memory in a gather message. */
interface SharedItem {
  readonly s: SharedArrayBuffer;
  readonly o: number;
  readonly l: number;
}

/** Options for {@link OffThreadHash}. */
export interface OffThreadHashOptions {
  /**
   * Also compute the CRC-32 (gzip's, zlib's `crc32`) of the same bytes. For
   * the tar side of a layer, whose CRC the gzip trailer needs: computing it
   * there takes ~40 ms per 256 MiB off the busiest thread.
   */
  readonly crc32?: boolean;
}

/** What {@link OffThreadHash.digest} computed. */
export interface OffThreadDigest {
  /** The SHA-256, in hex. */
  readonly sha256: string;
  /** The CRC-32 (unsigned), when asked for in the options; otherwise 0. */
  readonly crc32: number;
}

/**
 * A SHA-256 computed on a worker thread, for both sides of a big layer
 * (one worker each; the tar side's also computes the gzip CRC-32): the main
 * thread reads, samples, feeds the compressor and writes, and on a 2-core
 * machine hashing 256 MiB twice on it was ~0.5 s of a layer's ~1.2 s commit.
 * With both hashes off it, a 256 MiB random layer commits in ~350 ms
 * against ~400 ms with the tar side still on it.
 *
 * Bytes in a SharedArrayBuffer are hashed where they are, not copied: the
 * layer writer's gzip blocks live in shared memory, so the tar side (the
 * blocks) and the stored parts of the compressed side reach the workers
 * without a copy (two copies of every byte of a random layer were ~70 ms of
 * a 256 MiB layer's ~0.56 s on a 2-core machine). The caller must then
 * leave such bytes unchanged until {@link isFree} says the worker is done
 * with their buffer.
 *
 * Other bytes are copied (into 1 MiB batches whose buffers are then
 * transferred, not cloned; small parts between shared ones travel as small
 * copies), so callers may reuse those buffers at once. At most eight
 * messages wait for the worker (`update` resolves later when it falls
 * behind), and the worker hands each batch back for reuse, so memory stays
 * at ~9 MiB: without that, transferred batches piled up as garbage in the
 * worker and peak RSS of a 256 MiB layer's build grew by ~75 MB.
 */
export class OffThreadHash {
  readonly #worker: Worker;
  #batch: Uint8Array<ArrayBuffer> = new Uint8Array(BATCH);
  #fill = 0;
  /** Gather items not yet sent (see {@link add}). */
  #gather: (SharedItem | Uint8Array)[] = [];
  #inFlight = 0;
  #nextId = 0;
  /** Shared buffers of each gather message in flight, by id. */
  readonly #held = new Map<number, SharedArrayBuffer[]>();
  /** How many gather messages in flight reference each shared buffer. */
  readonly #holds = new Map<SharedArrayBuffer, number>();
  /** Batches the worker handed back, ready for reuse. */
  readonly #spare: Uint8Array<ArrayBuffer>[] = [];
  #failure: Error | undefined;
  /** Resolved by the next acknowledgement (when {@link update} waits for one). */
  #acked: (() => void) | undefined;
  /** Receives the digest. */
  #digested: ((result: OffThreadDigest) => void) | undefined;

  constructor(options: OffThreadHashOptions = {}) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { crc32: options.crc32 === true } });
    this.#worker.on("message", (m: { ack?: Uint8Array<ArrayBuffer>; done?: number; digest?: string; crc?: number }) => {
      if (m.digest !== undefined) {
        this.#digested?.({ sha256: m.digest, crc32: m.crc ?? 0 });
        return;
      }
      this.#inFlight--;
      if (m.ack?.byteLength === BATCH) this.#spare.push(m.ack);
      if (m.done !== undefined) this.#release(m.done);
      const acked = this.#acked;
      this.#acked = undefined;
      acked?.();
    });
    this.#worker.on("error", (err) => {
      this.#failure ??= err;
      this.#acked?.();
    });
    // An idle hash worker must not keep the process alive.
    this.#worker.unref();
  }

  /** Adds `data` to the hash; resolves once the worker has room for more. */
  update(data: Uint8Array): Promise<void> {
    return this.updateAll([data]);
  }

  /** Adds `parts`, in order; resolves once the worker has room for more. */
  async updateAll(parts: readonly Uint8Array[]): Promise<void> {
    this.add(parts);
    await this.drained();
  }

  /**
   * Adds `parts`, in order, without waiting (the caller then waits with
   * {@link drained}). Parts in a SharedArrayBuffer are hashed in place.
   */
  add(parts: readonly Uint8Array[]): void {
    for (const part of parts) {
      if (part.byteLength === 0) continue;
      if (part.buffer instanceof SharedArrayBuffer) {
        if (this.#fill > 0) this.#send();
        this.#gather.push({ s: part.buffer, o: part.byteOffset, l: part.byteLength });
      } else if (this.#gather.length > 0 && part.byteLength < SMALL) {
        // Copied when the message is packed (#sendGather), before add() returns.
        this.#gather.push(part);
      } else {
        if (this.#gather.length > 0) this.#sendGather();
        this.#copy(part);
      }
    }
    if (this.#gather.length > 0) this.#sendGather();
  }

  /** Resolves once fewer than eight messages wait for the worker; rejects if it failed. */
  async drained(): Promise<void> {
    while (this.#inFlight >= MAX_IN_FLIGHT && this.#failure === undefined) {
      this.#worker.ref();
      await new Promise<void>((resolve) => (this.#acked = resolve));
      this.#worker.unref();
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** True when no message waiting for the worker refers to `buffer`: its bytes may change again. */
  isFree(buffer: ArrayBufferLike): boolean {
    return !(buffer instanceof SharedArrayBuffer) || !this.#holds.has(buffer);
  }

  /** The digest of everything added; the worker ends afterwards. */
  async digest(): Promise<OffThreadDigest> {
    if (this.#fill > 0) this.#send();
    this.#worker.ref();
    try {
      return await new Promise<OffThreadDigest>((resolve, reject) => {
        if (this.#failure !== undefined) {
          reject(this.#failure);
          return;
        }
        this.#digested = resolve;
        this.#worker.once("error", reject);
        this.#worker.once("exit", (code) => reject(this.#failure ?? new Error(`hash worker exited with code ${code}`)));
        this.#worker.postMessage(null);
      });
    } finally {
      await this.#worker.terminate();
    }
  }

  /** Stops the worker without a digest (error paths). */
  async abandon(): Promise<void> {
    await this.#worker.terminate();
  }

  /** Copies `data` into batches, sending each full one. */
  #copy(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.byteLength) {
      const n = Math.min(BATCH - this.#fill, data.byteLength - offset);
      this.#batch.set(data.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
      if (this.#fill === BATCH) this.#send();
    }
  }

  #send(): void {
    const batch = this.#fill === BATCH ? this.#batch : this.#batch.slice(0, this.#fill);
    this.#worker.postMessage(batch, [batch.buffer]);
    this.#inFlight++;
    if (batch === this.#batch) this.#batch = this.#spare.pop() ?? new Uint8Array(BATCH);
    this.#fill = 0;
  }

  #sendGather(): void {
    const id = this.#nextId++;
    const items = this.#gather;
    this.#gather = [];
    const shared: SharedArrayBuffer[] = [];
    const ranges = new Float64Array(items.length * 3);
    let smallBytes = 0;
    for (const item of items) if (item instanceof Uint8Array) smallBytes += item.byteLength;
    const small = new Uint8Array(smallBytes);
    let at = 0;
    items.forEach((item, i) => {
      if (item instanceof Uint8Array) {
        small.set(item, at);
        ranges[i * 3] = -1;
        ranges[i * 3 + 1] = at;
        ranges[i * 3 + 2] = item.byteLength;
        at += item.byteLength;
        return;
      }
      let index = shared.indexOf(item.s);
      if (index < 0) {
        index = shared.push(item.s) - 1;
        this.#holds.set(item.s, (this.#holds.get(item.s) ?? 0) + 1);
      }
      ranges[i * 3] = index;
      ranges[i * 3 + 1] = item.o;
      ranges[i * 3 + 2] = item.l;
    });
    this.#held.set(id, shared);
    this.#worker.postMessage({ id, shared, ranges, small }, [ranges.buffer, small.buffer]);
    this.#inFlight++;
  }

  #release(id: number): void {
    for (const buffer of this.#held.get(id) ?? []) {
      const n = (this.#holds.get(buffer) ?? 1) - 1;
      if (n > 0) this.#holds.set(buffer, n);
      else this.#holds.delete(buffer);
    }
    this.#held.delete(id);
  }
}
