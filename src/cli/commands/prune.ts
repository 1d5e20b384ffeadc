import type { Readable } from "node:stream";
import { BuildError } from "../../diagnostics/build-error.js";
import { humanSize } from "../../image/display.js";
import { parseGoDuration } from "../../instructions/duration.js";
import type { CliIo, Command } from "../command.js";
import { binaryStdin, expectPositionals, flagOption, openCliStore, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild prune [-a] [-f] [--filter until=DURATION] [--root DIR]";

/**
 * `tsbuild prune`: Docker's `docker builder prune` (what goes is listed
 * in `build/prune.ts`). Asks before removing unless `-f`, prints the
 * removed cache records and `Total reclaimed space: …` as Docker does.
 */
export const pruneCommand: Command = {
  name: "prune",
  summary: "Remove build cache (cache records, their layers, extracted layers, cache mounts); stored images stay",
  usage: USAGE,
  options: {
    all: { type: "boolean", short: "a" },
    force: { type: "boolean", short: "f" },
    filter: { type: "string", multiple: true },
    ...STORE_OPTIONS,
  },
  help: {
    all: "Remove all build cache, not only what no stored image uses (extracted base layers too)",
    force: "Do not prompt for confirmation",
    filter: "until=DURATION (Go duration, e.g. 24h): remove only what was written at least that long ago",
    ...STORE_OPTIONS_HELP,
  },
  async run(args, io) {
    expectPositionals(args, USAGE, 0);
    const all = flagOption(args, "all");
    const olderThanMs = parseFilters(args.values["filter"]);
    if (!flagOption(args, "force")) {
      io.out(`WARNING! This will remove ${all ? "all" : "all dangling"} build cache. Are you sure you want to continue? [y/N] `);
      const answer = (await readLine(binaryStdin(io).stream, io.signal)).trim().toLowerCase();
      if (answer !== "y" && answer !== "yes") {
        io.err("prune cancelled (pass -f to prune without asking)\n");
        return 1;
      }
    }
    const store = await openCliStore(args, io, { lease: false });
    const { pruneBuildCache } = await import("../../build/prune.js");
    const result = await pruneBuildCache(store, { all, ...(olderThanMs !== undefined ? { olderThanMs } : {}), signal: io.signal });
    if (result.records.length > 0) io.out(`Deleted build cache objects:\n${result.records.map((k) => `${k.replace(/^sha256:/, "").slice(0, 12)}\n`).join("")}\n`);
    const parts = [
      [result.blobs, "blob"],
      [result.snapshots, "extracted layer"],
      [result.cacheMounts, "cache mount"],
      [result.other, "other cache file"],
    ] as const;
    const also = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}${n === 1 ? "" : "s"}`);
    if (also.length > 0) io.out(`Also removed: ${also.join(", ")}\n`);
    io.out(`Total reclaimed space: ${humanSize(result.bytes, 4)}\n`);
    return 0;
  },
};

/** `--filter` values: only `until=DURATION`, as milliseconds. */
function parseFilters(value: unknown): number | undefined {
  const filters = Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : typeof value === "string" ? [value] : [];
  let until: number | undefined;
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    if (key !== "until" || eq < 0) {
      throw new BuildError("CLI_USAGE", `--filter ${JSON.stringify(f)}: unsupported filter`, { hint: "the supported filter is until=DURATION, e.g. --filter until=24h" });
    }
    let ns: number;
    try {
      ns = parseGoDuration(f.slice(eq + 1));
    } catch (err) {
      throw new BuildError("CLI_USAGE", `--filter ${f}: ${err instanceof Error ? err.message : String(err)}`, { hint: "use a Go duration such as 24h or 90m" });
    }
    if (ns < 0) throw new BuildError("CLI_USAGE", `--filter ${f}: the duration must not be negative`);
    until = ns / 1e6;
  }
  return until;
}

/** Reads one line (without its newline) from `stream`; what came before the end when there is no newline. */
async function readLine(stream: Readable, signal: CliIo["signal"]): Promise<string> {
  let text = "";
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    if (signal.aborted) break;
    text += Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
    const nl = text.indexOf("\n");
    if (nl >= 0) return text.slice(0, nl);
  }
  return text;
}
