/**
 * Running transfers in parallel with a bound, and failing as a group: the
 * first failure cancels the rest (through a shared AbortSignal) and is the
 * error reported, once every task has settled, so no transfer keeps
 * writing after the caller has been told the operation failed.
 */
import { setMaxListeners } from "node:events";
import { abortedError } from "./retry.js";

/** Options of {@link runBounded}. */
export interface RunBoundedOptions {
  /** Most tasks running at once. Values below 1 mean 1. */
  readonly concurrency: number;
  /** Cancels the whole group: running tasks see it through their signal, queued ones never start. */
  readonly signal?: AbortSignal | undefined;
  /** Names the work in the ABORTED error, e.g. `pull of 127.0.0.1:5000/busybox:test`. */
  readonly what?: string | undefined;
}

/**
 * Calls `task` for every item, at most `concurrency` at a time, in item
 * order. Each call gets a signal that fires when the caller's signal does
 * or when another task failed. Resolves with the results in item order;
 * rejects with the first error (a cancellation caused by that error does
 * not replace it) after all started tasks have settled.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  task: (item: T, signal: AbortSignal, index: number) => Promise<R>,
  options: RunBoundedOptions,
): Promise<R[]> {
  const group = new AbortController();
  const limit = Math.max(1, Math.min(Math.floor(options.concurrency) || 1, items.length));
  // Every running task listens on the shared signal (its requests, the
  // store's writes), so more than a handful of tasks would trip Node's
  // "possible EventTarget memory leak" warning for listeners that are in
  // fact removed as each step ends.
  setMaxListeners(Math.max(10, limit * 8), group.signal);
  const outer = options.signal;
  const onAbort = (): void => group.abort(outer?.reason);
  if (outer?.aborted === true) group.abort(outer.reason);
  else outer?.addEventListener("abort", onAbort, { once: true });

  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!group.signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      try {
        results[i] = await task(items[i] as T, group.signal, i);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
          group.abort(err);
        }
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: limit }, worker));
  } finally {
    outer?.removeEventListener("abort", onAbort);
  }
  if (failed) throw firstError;
  if (group.signal.aborted) throw abortedError(outer, options.what);
  return results;
}
