/**
 * A bounded set of concurrent async tasks. `run` waits while the pool is
 * full, so a producer walking a large tree never queues more than `limit`
 * operations; the first failure is kept and rethrown by `run` and `drain`,
 * after which no new task starts.
 */
export class TaskPool {
  readonly #limit: number;
  readonly #active = new Set<Promise<void>>();
  #error: { err: unknown } | undefined;

  /** @param limit most tasks in flight at once (at least 1). */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Starts `task` once a slot is free. Rejects with the first task failure, if any. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.#active.size >= this.#limit) await Promise.race(this.#active);
    this.#rethrow();
    const p: Promise<void> = task().then(
      () => {
        this.#active.delete(p);
      },
      (err: unknown) => {
        this.#active.delete(p);
        this.#error ??= { err };
      },
    );
    this.#active.add(p);
  }

  /** Waits for every started task; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.#active.size > 0) await Promise.race(this.#active);
    this.#rethrow();
  }

  /** Waits for every started task, ignoring failures. */
  async settle(): Promise<void> {
    while (this.#active.size > 0) await Promise.race(this.#active);
  }

  #rethrow(): void {
    if (this.#error !== undefined) throw this.#error.err;
  }
}
