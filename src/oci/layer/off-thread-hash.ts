import { Worker } from "node:worker_threads";

/** Bytes collected before they are handed to the worker in one message. */
const BATCH = 1 << 20;
/** Batches handed over but not yet hashed before {@link OffThreadHash.update} waits (bounds memory to ~8 MiB). */
const MAX_IN_FLIGHT = 8;

/** The worker: a SHA-256 over the batches it receives, in order, handing each back; `null` asks for the digest. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
parentPort.on("message", (m) => {
  if (m === null) {
    parentPort.postMessage({ digest: hash.digest("hex") });
  } else {
    hash.update(m);
    // The batch goes back for reuse: no allocation, and no garbage here.
    parentPort.postMessage({ ack: m }, [m.buffer]);
  }
});
`;

/**
 * A SHA-256 computed on a worker thread, for the compressed side of a big
 * layer: the main thread already hashes the tar stream and feeds the
 * compressor, and on a 2-core machine hashing 256 MiB twice on one thread
 * was ~0.5 s of a layer's ~1.2 s commit.
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
  #digested: ((hex: string) => void) | undefined;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true });
    this.#worker.on("message", (m: { ack?: Uint8Array<ArrayBuffer>; digest?: string }) => {
      if (m.digest !== undefined) {
        this.#digested?.(m.digest);
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

  /** The hex digest of everything added; the worker ends afterwards. */
  async digest(): Promise<string> {
    if (this.#fill > 0) this.#send();
    this.#worker.ref();
    try {
      return await new Promise<string>((resolve, reject) => {
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
