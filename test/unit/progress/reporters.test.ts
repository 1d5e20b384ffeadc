import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { JsonReporter, PlainReporter } from "../../../src/cli/progress/plain-reporter.js";
import { TtyReporter } from "../../../src/cli/progress/tty-reporter.js";
import type { ProgressEvent } from "../../../src/progress/events.js";

const t0 = 1_700_000_000_000;
const events: ProgressEvent[] = [
  { type: "phase", name: "resolve image busybox", status: "start", time: t0 },
  { type: "phase", name: "resolve image busybox", status: "done", time: t0 + 100 },
  { type: "step-cached", id: "s0.1", name: "[build 2/3] COPY a /a", time: t0 + 110 },
  { type: "step-start", id: "s0.2", name: "[build 3/3] RUN make", time: t0 + 120 },
  { type: "step-log", id: "s0.2", stream: "stdout", text: "compiling\nlin", time: t0 + 432 },
  { type: "step-log", id: "s0.2", stream: "stderr", text: "king\n", time: t0 + 500 },
  { type: "step-done", id: "s0.2", name: "[build 3/3] RUN make", duration: 1234, time: t0 + 1354 },
];

describe("plain progress (CI)", () => {
  test("BuildKit's plain format: numbered steps, timed output lines, DONE and CACHED", () => {
    let out = "";
    const r = new PlainReporter((t) => (out += t));
    events.forEach((e) => r.onEvent(e));
    expect(out).toBe(
      [
        "#1 resolve image busybox",
        "#1 DONE 0.1s",
        "",
        "#2 [build 2/3] COPY a /a",
        "#2 CACHED",
        "",
        "#3 [build 3/3] RUN make",
        "#3 0.312 compiling",
        "#3 0.380 linking",
        "#3 DONE 1.2s",
        "",
        "",
      ].join("\n"),
    );
    expect(r.counts).toEqual({ ran: 1, cached: 1 });
  });

  test("a failed step shows ERROR with its message; a cancelled one CANCELED", () => {
    let out = "";
    const r = new PlainReporter((t) => (out += t));
    r.onEvent({ type: "step-start", id: "a", name: "RUN x", time: t0 });
    r.onEvent({ type: "step-error", id: "a", name: "RUN x", message: "exit code: 2", cancelled: false, time: t0 + 5 });
    r.onEvent({ type: "step-start", id: "b", name: "RUN y", time: t0 });
    r.onEvent({ type: "step-error", id: "b", name: "RUN y", message: "", cancelled: true, time: t0 + 5 });
    expect(out).toContain("#1 ERROR: exit code: 2");
    expect(out).toContain("#2 CANCELED");
  });

  test("rawjson is one event per line", () => {
    let out = "";
    const r = new JsonReporter((t) => (out += t));
    events.forEach((e) => r.onEvent(e));
    expect(out.trim().split("\n").map((l) => JSON.parse(l))).toEqual(events);
  });
});

describe("live progress (terminal)", () => {
  test("prints finished and cached steps above the spinner and a summary with the cached count", async () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    Object.assign(stream, { isTTY: true, columns: 120, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true });
    let out = "";
    (stream as unknown as PassThrough).on("data", (d: Buffer) => (out += d.toString()));
    const r = new TtyReporter(stream);
    events.forEach((e) => r.onEvent(e));
    r.summary(true);
    await new Promise((res) => setImmediate(res));
    expect(out).toContain("[build 2/3] COPY a /a CACHED");
    expect(out).toContain("[build 3/3] RUN make 1.2s");
    expect(out).toMatch(/Built in \d+\.\ds: 2 steps, 1 cached/);
  });
});
