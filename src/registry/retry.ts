/**
 * Retrying registry requests: which failures are transient, how long to wait
 * between attempts, and the loop that does it.
 *
 * Registries (and the CDNs in front of them) shed load with 429/503 and drop
 * idle keep-alive connections; a build must ride over that instead of failing
 * a twenty-minute push on one reset socket. Attempts are bounded so a broken
 * registry still fails in reasonable time, and every wait honours the
 * caller's AbortSignal.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BuildError } from "../diagnostics/build-error.js";

/** Tuning of {@link withRetry}. All fields are optional; defaults suit registries. */
export interface RetryPolicy {
  /** Total attempts including the first one. Default 5; 1 disables retrying. */
  readonly attempts?: number;
  /** Delay before the first retry, in ms; doubled for each further one. Default 250. */
  readonly baseDelayMs?: number;
  /** Upper bound of the computed backoff delay, in ms. Default 10 000. */
  readonly maxDelayMs?: number;
  /**
   * Upper bound of a server-requested `Retry-After` delay, in ms. Default
   * 60 000. A registry asking for an hour would otherwise hang the build
   * silently; past this bound we wait the bound and let the next attempt
   * (or the final error) speak.
   */
  readonly maxRetryAfterMs?: number;
  /** Source of randomness for jitter, in [0, 1). Injected by tests. */
  readonly random?: () => number;
}

/** The verdict of a {@link RetryOptions.check} on a completed attempt. */
export type RetryVerdict =
  | { readonly retry: false }
  | {
      readonly retry: true;
      /** Server-requested delay (from `Retry-After`), in ms. */
      readonly afterMs?: number;
      /** Releases the discarded result (e.g. dumps a response body) before waiting. */
      readonly discard?: () => Promise<void> | void;
    };

/** Options of {@link withRetry}. */
export interface RetryOptions<T> extends RetryPolicy {
  /** Cancels waiting and further attempts; the loop then throws ABORTED. */
  readonly signal?: AbortSignal;
  /**
   * Inspects a successful attempt's result (e.g. an HTTP response) and says
   * whether it is a transient failure worth another attempt. The result of
   * the last attempt is returned whatever the verdict, so the caller can
   * build its error from the real response.
   */
  readonly check?: (result: T) => RetryVerdict;
  /** Decides whether a thrown error is transient. Default {@link isRetryableError}. */
  readonly retryableError?: (err: unknown) => boolean;
  /** A server-requested delay carried by a thrown transient error, in ms (e.g. its `Retry-After`). */
  readonly errorDelay?: (err: unknown) => number | undefined;
  /** Called before each wait, e.g. for `--debug` logging. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

const DEFAULTS = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
} as const;

/** HTTP statuses that mean "try again later" rather than "you are wrong". */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** True for an HTTP status worth retrying: 429, 500, 502, 503 and 504. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Error codes of transient network failures: Node's socket errnos and
 * undici's socket-level errors. Connection refused is included because a
 * registry restarting behind a load balancer refuses for a moment; DNS
 * failures (ENOTFOUND) are not, since they rarely heal within seconds.
 */
const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** True when `err` (or an error in its `cause` chain) is a transient network failure. */
export function isRetryableError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current !== "object") return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && RETRYABLE_ERROR_CODES.has(code)) return true;
    if (current instanceof Error && /socket hang up|other side closed/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Parses an HTTP `Retry-After` value into a delay in ms: either delta-seconds
 * (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), relative to
 * `now`. Returns undefined for a missing or malformed value; a date in the
 * past yields 0.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== "string") return undefined;
  const text = raw.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10) * 1000;
  // Only accept things that look like an HTTP date: Date.parse is lenient
  // and would otherwise read "1.5" or "-3" as a date.
  if (!/[a-z]/i.test(text)) return undefined;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/**
 * The backoff delay before retry number `retry` (1 for the first retry):
 * exponential from `baseDelayMs`, capped at `maxDelayMs`, with "equal
 * jitter" (half fixed, half random) so that many clients hit by the same
 * outage do not retry in lockstep, while each still waits a minimum.
 */
export function backoffDelay(retry: number, policy: RetryPolicy = {}): number {
  const base = policy.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const max = policy.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const random = policy.random ?? Math.random;
  const exp = Math.min(max, base * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** The ABORTED error for a cancelled operation, keeping the abort reason as cause. */
export function abortedError(signal: AbortSignal | undefined, what = "registry operation"): BuildError {
  return new BuildError("ABORTED", `${what} cancelled`, { cause: signal?.reason });
}

/**
 * Runs `op` until it succeeds, a non-transient failure happens, or the
 * attempts run out. `op` gets the 1-based attempt number; it must build a
 * fresh request each time (request bodies are stream factories for this
 * reason: a consumed stream cannot be sent again).
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions<T> = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? DEFAULTS.attempts);
  const maxRetryAfter = options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
  const retryableError = options.retryableError ?? isRetryableError;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal);
    let delayMs: number;
    let reason: string;
    try {
      const result = await op(attempt);
      const verdict = options.check?.(result) ?? { retry: false };
      if (!verdict.retry || attempt >= attempts) return result;
      await verdict.discard?.();
      delayMs =
        verdict.afterMs === undefined ? backoffDelay(attempt, options) : Math.min(verdict.afterMs, maxRetryAfter);
      reason = "transient response";
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal);
      if (attempt >= attempts || !retryableError(err)) throw err;
      const requested = options.errorDelay?.(err);
      delayMs = requested === undefined ? backoffDelay(attempt, options) : Math.min(requested, maxRetryAfter);
      reason = err instanceof Error ? err.message : String(err);
    }
    options.onRetry?.({ attempt, delayMs, reason });
    try {
      await sleep(delayMs, undefined, signal === undefined ? undefined : { signal });
    } catch {
      throw abortedError(signal);
    }
  }
}
