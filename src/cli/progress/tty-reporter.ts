import ora, { type Ora } from "ora";
import type { BuildReporter, ProgressEvent } from "../../progress/events.js";
import { secs } from "./plain-reporter.js";

interface Running {
  readonly name: string;
  readonly start: number;
  lastLine: string;
}

/**
 * Whether `stream` is a terminal the live view can draw on. A terminal of
 * zero columns (a pseudo-terminal nobody sized, as `script` or an editor's
 * shell make) is not: ora divides by the width to count the lines it must
 * erase, and then erases forever (77 MB of escape codes in a few seconds).
 */
export function canDrawLive(stream: { readonly isTTY?: boolean; readonly columns?: number }): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0;
}

/**
 * The live view on a terminal: one ora spinner listing every running step
 * (several when stages run in parallel) with its elapsed time and the last
 * line of its output; finished and cached steps are printed above it as
 * they complete. `summary()` prints the total time and the cached count.
 */
export class TtyReporter implements BuildReporter {
  private readonly spinner: Ora;
  private readonly running = new Map<string, Running>();
  private readonly timer: NodeJS.Timeout;
  private readonly began = Date.now();
  /** Steps counted at the end. */
  readonly counts = { ran: 0, cached: 0 };

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.spinner = ora({ stream, discardStdin: false, text: "starting" }).start();
    // Elapsed times tick even when no event arrives.
    this.timer = setInterval(() => this.render(), 100);
    this.timer.unref();
  }

  onEvent(e: ProgressEvent): void {
    switch (e.type) {
      case "phase":
        if (e.status === "start") this.running.set(`phase:${e.name}`, { name: e.name, start: e.time, lastLine: "" });
        else this.finish(`phase:${e.name}`, `✔ ${e.name}`);
        break;
      case "step-start":
        this.running.set(e.id, { name: e.name, start: e.time, lastLine: "" });
        break;
      case "step-log": {
        const r = this.running.get(e.id);
        const line = e.text.split(/\r?\n|\r/).filter((l) => l.trim() !== "").pop();
        if (r && line) r.lastLine = line.slice(0, 120);
        break;
      }
      case "step-cached":
        this.counts.cached++;
        this.print(`✔ ${e.name} CACHED`);
        break;
      case "step-done":
        this.counts.ran++;
        this.finish(e.id, `✔ ${e.name} ${secs(e.duration)}`);
        break;
      case "step-error":
        this.finish(e.id, `${e.cancelled ? "⊘" : "✖"} ${e.name} ${e.cancelled ? "CANCELED" : "ERROR"}`);
        break;
    }
    this.render();
  }

  private finish(id: string, line: string): void {
    this.running.delete(id);
    this.print(line);
  }

  private print(line: string): void {
    this.spinner.clear();
    this.stream.write(`${line}\n`);
  }

  private render(): void {
    const now = Date.now();
    const lines = [...this.running.values()].map((r) => `${r.name} ${secs(now - r.start)}${r.lastLine ? `\n    ${r.lastLine}` : ""}`);
    this.spinner.text = lines.length ? lines.join("\n  ") : `building ${secs(now - this.began)}`;
  }

  /** Stops the live view and prints the summary line. */
  summary(ok: boolean): void {
    clearInterval(this.timer);
    const total = this.counts.ran + this.counts.cached;
    const text = `${ok ? "Built" : "Failed"} in ${secs(Date.now() - this.began)}: ${total} steps, ${this.counts.cached} cached`;
    if (ok) this.spinner.succeed(text);
    else this.spinner.fail(text);
  }
}
