import { describe, expect, test } from "vitest";
import { backoffDelay, isRetryableError, isRetryableStatus, parseRetryAfter, withRetry } from "../../../src/registry/retry.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  test("delta-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 7 ", now)).toBe(7000);
  });

  test("HTTP dates, relative to now; past dates are 0", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
  });

  test("missing or malformed values", () => {
    for (const v of [undefined, "", "  ", "-3", "1.5", "soon", "12abc"]) expect(parseRetryAfter(v, now)).toBeUndefined();
  });

  test("the first of repeated headers", () => {
    expect(parseRetryAfter(["2", "9"], now)).toBe(2000);
  });
});

describe("classification", () => {
  test("statuses", () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 405, 501].some(isRetryableStatus)).toBe(false);
  });

  test("errors, including in the cause chain", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(isRetryableError(reset)).toBe(true);
    expect(isRetryableError(Object.assign(new Error("x"), { code: "EPIPE" }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))).toBe(true);
    expect(isRetryableError(new Error("wrapped", { cause: reset }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }))).toBe(false);
    expect(isRetryableError(new Error("plain"))).toBe(false);
    expect(isRetryableError("string")).toBe(false);
  });
});

describe("backoffDelay", () => {
  test("exponential with equal jitter, capped", () => {
    const lo = { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 };
    const hi = { ...lo, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, lo))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, hi))).toEqual([100, 200, 400, 800, 1000]);
  });
});

describe("withRetry", () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2 };

  test("retries transient errors up to the attempt bound, then rethrows", async () => {
    let calls = 0;
    const err = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    await expect(
      withRetry(async () => {
        calls++;
        throw err;
      }, { ...fast, attempts: 4 }),
    ).rejects.toBe(err);
    expect(calls).toBe(4);
  });

  test("does not retry other errors", async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new Error("bad request");
      }, fast),
    ).rejects.toThrow("bad request");
    expect(calls).toBe(1);
  });

  test("retries results the check rejects, discarding them, and returns the last one", async () => {
    const discarded: number[] = [];
    let calls = 0;
    const result = await withRetry(async () => ++calls, {
      ...fast,
      attempts: 3,
      check: (n) => ({ retry: true, afterMs: 0, discard: () => void discarded.push(n) }),
    });
    expect(result).toBe(3);
    expect(discarded).toEqual([1, 2]);
  });

  test("honours a server-requested delay, bounded by maxRetryAfterMs", async () => {
    const delays: number[] = [];
    let calls = 0;
    await withRetry(async () => ++calls, {
      ...fast,
      attempts: 2,
      maxRetryAfterMs: 5,
      check: (n) => (n === 1 ? { retry: true, afterMs: 3_600_000 } : { retry: false }),
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    expect(delays).toEqual([5]);
  });

  test("an abort during the wait ends with ABORTED", async () => {
    const controller = new AbortController();
    const p = withRetry(
      async () => {
        setTimeout(() => controller.abort(), 5);
        throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
      },
      { baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    await expect(p).rejects.toMatchObject({ code: "ABORTED" });
  });

  test("an already aborted signal stops before the first attempt", async () => {
    let calls = 0;
    await expect(withRetry(async () => ++calls, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
    expect(calls).toBe(0);
  });
});
