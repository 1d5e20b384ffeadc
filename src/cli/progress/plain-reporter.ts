import type { BuildReporter, ProgressEvent } from "../../progress/events.js";

/**
 * Plain progress for CI logs, in BuildKit's `--progress=plain` style:
 * `#5 [build 2/4] RUN make`, its output prefixed with `#5 0.312`, then
 * `#5 DONE 1.2s`; a step reused from the cache is `#3 CACHED`.
 */
export class PlainReporter implements BuildReporter {
  private readonly numbers = new Map<string, number>();
  private readonly starts = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private next = 1;
  /** Steps counted at the end. */
  readonly counts = { ran: 0, cached: 0 };

  constructor(private readonly write: (text: string) => void) {}

  private number(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.next++;
      this.numbers.set(id, n);
    }
    return n;
  }

  onEvent(e: ProgressEvent): void {
    switch (e.type) {
      case "phase": {
        const n = this.number(`phase:${e.name}`);
        if (e.status === "start") {
          this.starts.set(`phase:${e.name}`, e.time);
          this.write(`#${n} ${e.name}\n`);
        } else {
          this.write(`#${n} DONE ${secs(e.time - (this.starts.get(`phase:${e.name}`) ?? e.time))}\n\n`);
        }
        return;
      }
      case "step-cached": {
        const n = this.number(e.id);
        this.counts.cached++;
        this.write(`#${n} ${e.name}\n#${n} CACHED\n\n`);
        return;
      }
      case "step-start":
        this.starts.set(e.id, e.time);
        this.write(`#${this.number(e.id)} ${e.name}\n`);
        return;
      case "step-log": {
        const n = this.number(e.id);
        const t = secs(e.time - (this.starts.get(e.id) ?? e.time), 3);
        const text = (this.partial.get(e.id) ?? "") + e.text;
        const lines = text.split("\n");
        this.partial.set(e.id, lines.pop() ?? "");
        for (const line of lines) this.write(`#${n} ${t} ${line}\n`);
        return;
      }
      case "step-done": {
        const n = this.number(e.id);
        this.flush(e.id, n);
        this.counts.ran++;
        this.write(`#${n} DONE ${secs(e.duration)}\n\n`);
        return;
      }
      case "step-error": {
        const n = this.number(e.id);
        this.flush(e.id, n);
        this.write(`#${n} ${e.cancelled ? "CANCELED" : `ERROR: ${e.message}`}\n\n`);
        return;
      }
    }
  }

  private flush(id: string, n: number): void {
    const rest = this.partial.get(id);
    if (rest) this.write(`#${n} ${rest}\n`);
    this.partial.delete(id);
  }
}

/** Seconds with one (or `digits`) decimals, as BuildKit prints durations. */
export function secs(ms: number, digits = 1): string {
  return `${(ms / 1000).toFixed(digits)}${digits === 1 ? "s" : ""}`;
}

/** `--progress=rawjson`: one JSON object per event. */
export class JsonReporter implements BuildReporter {
  constructor(private readonly write: (text: string) => void) {}
  onEvent(e: ProgressEvent): void {
    this.write(JSON.stringify(e) + "\n");
  }
}
