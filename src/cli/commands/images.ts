import { BuildError } from "../../diagnostics/build-error.js";
import { createdSince, humanSize, shortDigest, shortId } from "../../image/display.js";
import { listImageSummaries, type ImageSummary } from "../../image/list.js";
import type { Command } from "../command.js";
import { expectPositionals, flagOption, openCliStore, stringOption, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild images [--digests] [-q] [--format json] [--root DIR] [REPOSITORY[:TAG]]";

/**
 * Lays rows out as Docker's tabwriter does (minimum cell width 10, padding
 * 3): every column but the last padded to its widest cell plus 3.
 */
function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(Math.max(10, (widths[i] ?? 0) + 3)))).join(""))
    .map((line) => `${line}\n`)
    .join("");
}

/** Docker's `--format json` keys, one object per line. */
function jsonRow(s: ImageSummary, now: Date): string {
  return JSON.stringify({
    Repository: s.repository,
    Tag: s.tag ?? "<none>",
    Digest: s.digest,
    ID: s.id,
    CreatedAt: s.created?.toISOString() ?? "N/A",
    CreatedSince: createdSince(s.created, now),
    Size: s.size === undefined ? "N/A" : humanSize(s.size),
  });
}

/** `tsbuild images`: the images in the local store, one row per name. */
export const imagesCommand: Command = {
  name: "images",
  summary: "List the images in the local store",
  usage: USAGE,
  options: {
    digests: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    format: { type: "string" },
    ...STORE_OPTIONS,
  },
  help: {
    digests: "Show full digests (and full IDs with -q)",
    quiet: "Only show image IDs",
    format: "Output format: table (default) or json (one JSON object per line)",
    ...STORE_OPTIONS_HELP,
  },
  async run(args, io) {
    const [filter] = expectPositionals(args, USAGE, 0, 1);
    const format = stringOption(args, "format") ?? "table";
    if (format !== "table" && format !== "json") {
      throw new BuildError("CLI_USAGE", `unsupported --format "${format}"`, { hint: "use --format json, or no --format for a table" });
    }
    const store = await openCliStore(args, io);
    const rows = await listImageSummaries(store, { filter, signal: io.signal });
    const full = flagOption(args, "digests");
    const now = new Date();
    if (flagOption(args, "quiet")) {
      io.out(rows.map((r) => `${full ? r.id : shortId(r.id)}\n`).join(""));
      return 0;
    }
    if (format === "json") {
      io.out(rows.map((r) => `${jsonRow(r, now)}\n`).join(""));
      return 0;
    }
    const table = [["REPOSITORY", "TAG", "DIGEST", "SIZE", "CREATED"]];
    for (const r of rows) {
      table.push([
        r.repository,
        r.tag ?? "<none>",
        full ? r.digest : shortDigest(r.digest),
        r.size === undefined ? "N/A" : humanSize(r.size),
        createdSince(r.created, now),
      ]);
    }
    io.out(renderTable(table));
    return 0;
  },
};
