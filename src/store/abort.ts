/**
 * Cancellation helpers for the store. Every long-running store call takes an
 * optional `AbortSignal`; when it fires, the call stops at the next safe
 * point, removes its temporary files, and rejects with an ABORTED
 * {@link BuildError} whose cause is the signal's reason.
 */
import { BuildError } from "../diagnostics/build-error.js";

/** The ABORTED error for a cancelled store operation. */
export function storeAbortedError(signal: AbortSignal | undefined, what: string): BuildError {
  return new BuildError("ABORTED", `${what} cancelled`, { cause: signal?.reason });
}

/** Throws ABORTED when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw storeAbortedError(signal, what);
}

/**
 * Settles like `promise`, or rejects with ABORTED as soon as `signal` fires
 * (the promise itself keeps running; callers clean up after it).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(storeAbortedError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(storeAbortedError(signal, what));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
