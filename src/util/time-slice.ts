import { setImmediate as yieldToLoop } from "node:timers/promises";

/**
 * Cooperative scheduling for long runs of synchronous system calls (tree
 * walks, copies, hashing small files): the caller asks {@link yieldIfDue}
 * after each unit of work, and the event loop gets a turn once the current
 * slice has lasted {@link sliceMs} milliseconds.
 *
 * Why: synchronous calls avoid libuv's thread-pool hand-off (two thread
 * wake-ups per call, which on a small virtual machine cost more than the
 * call itself), but an event loop held for seconds would freeze progress
 * output, timers, abort signals and the other stages of a parallel build.
 */
export class TimeSlice {
  #start = performance.now();

  /** @param sliceMs how long synchronous work may hold the event loop (ms). */
  constructor(readonly sliceMs = 10) {}

  /** Whether the current slice is used up. */
  due(): boolean {
    return performance.now() - this.#start >= this.sliceMs;
  }

  /** Yields to the event loop (one `setImmediate` turn) and starts a new slice. */
  async yield(): Promise<void> {
    await yieldToLoop();
    this.#start = performance.now();
  }

  /** Yields if the current slice is used up; otherwise returns at once. */
  async yieldIfDue(): Promise<void> {
    if (this.due()) await this.yield();
  }
}
