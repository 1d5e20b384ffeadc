/**
 * What a build reports while it runs. The engine emits these; the CLI's
 * reporters (live on a terminal, plain lines in CI, JSON lines for
 * `--progress=rawjson`) render them. No terminal code lives here.
 */
export type ProgressEvent =
  | {
      /** A step began executing. */
      readonly type: "step-start";
      /** Step id (stable within a build). */
      readonly id: string;
      /** BuildKit-style display name, e.g. `[build 2/4] RUN make`. */
      readonly name: string;
      /** Milliseconds since the epoch. */
      readonly time: number;
    }
  | {
      /** A step's result was found in the cache: it will not run. */
      readonly type: "step-cached";
      readonly id: string;
      readonly name: string;
      readonly time: number;
    }
  | {
      /** Output of a running step. */
      readonly type: "step-log";
      readonly id: string;
      /** Which stream. */
      readonly stream: "stdout" | "stderr";
      /** The bytes, as text. */
      readonly text: string;
      readonly time: number;
    }
  | {
      /** A step finished successfully (and was recorded in the cache). */
      readonly type: "step-done";
      readonly id: string;
      readonly name: string;
      /** Milliseconds it took. */
      readonly duration: number;
      readonly time: number;
    }
  | {
      /** A step failed or was cancelled. */
      readonly type: "step-error";
      readonly id: string;
      readonly name: string;
      /** Short reason. */
      readonly message: string;
      /** True when it was cancelled rather than failed. */
      readonly cancelled: boolean;
      readonly time: number;
    }
  | {
      /** Something outside the steps: resolving base images, exporting, pushing. */
      readonly type: "phase";
      /** e.g. `resolve image busybox:latest`, `exporting to image`. */
      readonly name: string;
      /** `start` or `done`. */
      readonly status: "start" | "done";
      readonly time: number;
    };

/** Receives progress events. */
export interface BuildReporter {
  /** Called for each event, in order. Must not throw. */
  onEvent(event: ProgressEvent): void;
}

/** A reporter that drops everything. */
export const silentReporter: BuildReporter = { onEvent: () => undefined };
