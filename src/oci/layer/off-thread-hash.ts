import { Worker } from "node:worker_threads";

/** Bytes collected before they are handed to the worker in one message. */
const BATCH = 1 << 20;
/** Batches handed over but not yet hashed before {@link OffThreadHash.update} waits (bounds memory to ~8 MiB). */
const MAX_IN_FLIGHT = 8;

/**
 * The worker: a SHA-256 (and, if `workerData.crc32`, a CRC-32) over the
 * batches it receives, in order, handing each back; `null` asks for the digest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
const crc32 = workerData.crc32 ? require("node:zlib").crc32 : undefined;
let crc = 0;
parentPort.on("message", (m) => {
  if (m === null) {
    parentPort.postMessage({ digest: hash.digest("hex"), crc });
  } else {
    hash.update(m);
    if (crc32 !== undefined) crc = crc32(m, crc);
    // The batch goes back for reuse: no allocation, and no garbage here.
    parentPort.postMessage({ ack: m }, [m.buffer]);
  }
});
`;

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
 * `update` copies the bytes (into 1 MiB batches whose buffers are then
 * transferred, not cloned), so callers may reuse theirs at once. The cost
 * is one memcpy per byte on the calling thread, against a hash. At most
 * eight batches wait for the worker (`update` resolves later when it falls
 * behind), and the worker hands each batch back for reuse, so memory stays
 * at ~9 MiB: without that, transferred batches piled up as garbage in the
 * worker and peak RSS of a 256 MiB layer's build grew by ~75 MB.
 */
export class OffThreadHash {
  readonly #worker: Worker;
  #batch: Uint8Array<ArrayBuffer> = new Uint8Array(BATCH);
  #fill = 0;
  #inFlight = 0;
  /** Batches the worker handed back, ready for reuse. */
  readonly #spare: Uint8Array<ArrayBuffer>[] = [];
  #failure: Error | undefined;
  /** Resolved by the next acknowledgement (when {@link update} waits for one). */
  #acked: (() => void) | undefined;
  /** Receives the digest. */
  #digested: ((result: OffThreadDigest) => void) | undefined;

  constructor(options: OffThreadHashOptions = {}) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { crc32: options.crc32 === true } });
    this.#worker.on("message", (m: { ack?: Uint8Array<ArrayBuffer>; digest?: string; crc?: number }) => {
      if (m.digest !== undefined) {
        this.#digested?.({ sha256: m.digest, crc32: m.crc ?? 0 });
        return;
      }
      this.#inFlight--;
      if (m.ack?.byteLength === BATCH) this.#spare.push(m.ack);
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
  async update(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.byteLength) {
      const n = Math.min(BATCH - this.#fill, data.byteLength - offset);
      this.#batch.set(data.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
      if (this.#fill === BATCH) this.#send();
    }
    while (this.#inFlight >= MAX_IN_FLIGHT && this.#failure === undefined) {
      this.#worker.ref();
      await new Promise<void>((resolve) => (this.#acked = resolve));
      this.#worker.unref();
    }
    if (this.#failure !== undefined) throw this.#failure;
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

  #send(): void {
    const batch = this.#fill === BATCH ? this.#batch : this.#batch.slice(0, this.#fill);
    this.#worker.postMessage(batch, [batch.buffer]);
    this.#inFlight++;
    this.#batch = this.#spare.pop() ?? new Uint8Array(BATCH);
    this.#fill = 0;
  }
}
