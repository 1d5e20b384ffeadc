/**
 * Rendering pull/push progress events (src/image/progress.ts) for people:
 *
 * - on a terminal, a live ora view: one spinner line per image with layers
 *   and bytes done, and a line per blob in flight (redrawn at most every
 *   100 ms, so a fast download does not spend its time repainting);
 * - elsewhere (CI logs, pipes), plain lines: one when a blob finishes, and
 *   while it transfers one every few seconds, e.g.
 *   `pull 127.0.0.1:5000/busybox:test: layer sha256:0123456789ab… 1.2 MB/4.3 MB`.
 *
 * Progress goes to standard error; results (digests, status) are printed by
 * the commands on standard output, so scripts can read them.
 */
import type { Ora } from "ora";
import type { Digest } from "../../oci/digest.js";
import { FINAL_BLOB_STATUSES, type BlobProgressEvent, type ImageProgressEvent, type PullPushProgress } from "../../image/progress.js";
import type { CliIo } from "../command.js";

/** `1.2 MB`: decimal units, as Docker prints sizes. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i] ?? "TB"}`;
}

/** `sha256:0123456789ab…`: enough of a digest to tell layers apart. */
export function shortDigest(d: string): string {
  return `${d.slice(0, "sha256:".length + 12)}…`;
}

/** Options of {@link createTransferRenderer}. */
export interface TransferRendererOptions {
  /** Where to write, and whether standard error is a terminal. */
  readonly io: CliIo;
  /** `pull` or `push`: the first word of every plain line. */
  readonly verb: "pull" | "push";
  /** Print nothing at all (`-q`). */
  readonly quiet?: boolean | undefined;
  /** Seconds between plain byte-progress lines per blob. Default 5. */
  readonly plainIntervalSeconds?: number | undefined;
}

/** A renderer: feed it events, then stop it once. */
export interface TransferRenderer {
  /** The `onProgress` callback to hand to pullImage/pushImage. */
  readonly onProgress: (event: PullPushProgress) => void;
  /** Ends the live view (success or not) and prints nothing more. */
  stop(): void;
}

const STATUS_WORD: Readonly<Record<string, string>> = {
  waiting: "Waiting",
  checking: "Checking",
  downloading: "Downloading",
  uploading: "Uploading",
  cached: "Already exists",
  downloaded: "Pull complete",
  exists: "Layer already exists",
  mounted: "Mounted from another repository",
  uploaded: "Pushed",
};

/** Creates the renderer for this CLI invocation; see the module comment. */
export function createTransferRenderer(options: TransferRendererOptions): TransferRenderer {
  if (options.quiet === true) return { onProgress: () => {}, stop: () => {} };
  // A terminal that reports no size (a pty nobody sized, as under `script`)
  // cannot be redrawn in place: ora divides by the width to count lines.
  const columns = process.stderr.columns ?? 0;
  const rows = process.stderr.rows ?? 0;
  return options.io.isTTY && columns > 0 && rows > 2 ? liveRenderer(options, rows) : plainRenderer(options);
}

function plainRenderer(options: TransferRendererOptions): TransferRenderer {
  const { io, verb } = options;
  const intervalMs = (options.plainIntervalSeconds ?? 5) * 1000;
  const lastPrinted = new Map<Digest, number>();
  const lastStatus = new Map<Digest, string>();
  const onProgress = (e: PullPushProgress): void => {
    if (e.type === "phase") {
      if (e.phase === "resolved" && e.digest !== undefined) io.err(`${verb} ${e.image}: manifest ${e.digest}\n`);
      return;
    }
    if (e.type !== "blob") return;
    const prev = lastStatus.get(e.digest);
    lastStatus.set(e.digest, e.status);
    const what = `${verb} ${e.image}: ${e.role} ${shortDigest(e.digest)}`;
    if (FINAL_BLOB_STATUSES.has(e.status)) {
      if (prev !== e.status) io.err(`${what} ${STATUS_WORD[e.status] ?? e.status} (${formatBytes(e.total)})\n`);
      return;
    }
    if ((e.status !== "downloading" && e.status !== "uploading") || e.done === 0) return;
    const now = Date.now();
    const last = lastPrinted.get(e.digest);
    // First bytes, then every few seconds: enough to see a transfer move in
    // a log without thousands of lines.
    if (last !== undefined && now - last < intervalMs) return;
    lastPrinted.set(e.digest, now);
    io.err(`${what} ${formatBytes(e.done)}/${formatBytes(e.total)}\n`);
  };
  return { onProgress, stop: () => {} };
}

function liveRenderer(options: TransferRendererOptions, rows: number): TransferRenderer {
  const { verb } = options;
  const blobs = new Map<Digest, BlobProgressEvent>();
  const images = new Map<string, ImageProgressEvent>();
  let spinner: Ora | undefined;
  let dirty = false;
  let stopped = false;

  const render = (): string => {
    const lines: string[] = [];
    for (const img of images.values()) {
      lines.push(
        `${verb === "pull" ? "Pulling" : "Pushing"} ${img.image}: ${img.layersDone}/${img.layersTotal} layers, ${formatBytes(img.bytesDone)}/${formatBytes(img.bytesTotal)}`,
      );
    }
    // Lines that scroll off the screen cannot be redrawn, so when blobs do
    // not fit, finished ones give way to those still in flight.
    const room = Math.max(1, rows - 2 - lines.length);
    const all = [...blobs.values()];
    const shown = all.length <= room ? all : all.filter((b) => !FINAL_BLOB_STATUSES.has(b.status)).slice(0, room - 1);
    for (const b of shown) {
      const bytes = b.status === "downloading" || b.status === "uploading" ? ` ${formatBytes(b.done)}/${formatBytes(b.total)}` : "";
      lines.push(`  ${b.role} ${shortDigest(b.digest)} ${STATUS_WORD[b.status] ?? b.status}${bytes}`);
    }
    if (shown.length < all.length) lines.push(`  (${all.length - shown.length} more)`);
    return lines.length === 0 ? `${verb === "pull" ? "Resolving" : "Preparing"}...` : lines.join("\n");
  };
  const timer = setInterval(() => {
    if (!dirty || spinner === undefined) return;
    dirty = false;
    spinner.text = render();
  }, 100);
  timer.unref();

  // ora (and its dependencies) load only when a terminal will show them.
  void import("ora").then(({ default: ora }) => {
    if (stopped) return;
    spinner = ora({ text: `${verb === "pull" ? "Resolving" : "Preparing"}...`, stream: process.stderr, discardStdin: false }).start();
    dirty = true;
  });

  const onProgress = (e: PullPushProgress): void => {
    if (stopped) return;
    if (e.type === "phase") return;
    if (e.type === "blob") blobs.set(e.digest, e);
    else images.set(e.image, e);
    dirty = true;
  };
  return {
    onProgress,
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (spinner !== undefined) {
        // Leave a final summary behind rather than an erased screen.
        spinner.stopAndPersist({ symbol: " ", text: render() });
      }
    },
  };
}
