import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** Bytes written between two background `fdatasync` calls. */
const FLUSH_EVERY = 32 << 20;

/**
 * Writes to a file that will be fsync'ed before it is published (a blob, a
 * layer): synchronous writes into the page cache, with the disk writeback
 * started behind them by a background `fdatasync` every 32 MiB.
 *
 * Why: an awaited thread-pool write per chunk stalled the single pass that
 * reads, hashes and writes, and the final fsync then waited for the whole
 * file at once (~250 ms for 256 MiB). Started early, the writeback overlaps
 * the hashing and the final fsync waits only for the tail.
 *
 * Crash safety is unchanged: the caller still fsyncs before renaming into
 * place. An error of a background flush is kept and thrown by {@link settle}:
 * the kernel reports a writeback error once per file description, so the
 * final fsync on the same descriptor might not see it again.
 */
export class WriteBehind {
  #unsynced = 0;
  #flushing: Promise<void> | undefined;
  #error: unknown;

  /** @param fh the open file written at its current position. */
  constructor(private readonly fh: FileHandle) {}

  /** Writes all of `data` synchronously; may start a background flush. */
  write(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fh.fd, data, offset, data.length - offset);
    this.#unsynced += data.length;
    if (this.#unsynced >= FLUSH_EVERY && this.#flushing === undefined) {
      this.#unsynced = 0;
      this.#flushing = this.fh
        .datasync()
        .catch((err: unknown) => {
          this.#error ??= err;
        })
        .finally(() => {
          this.#flushing = undefined;
        });
    }
  }

  /**
   * Waits for a background flush still running, then throws the first error
   * one of them met. Call before the final fsync, and before closing.
   */
  async settle(): Promise<void> {
    await this.#flushing;
    if (this.#error !== undefined) throw this.#error;
  }
}
