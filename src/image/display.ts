/**
 * Docker's display forms for image listings: sizes (`4.26MB`), ages
 * (`2 hours ago`) and short digests. The rules are those of
 * github.com/docker/go-units (`HumanSizeWithPrecision`, `HumanDuration`),
 * which the Docker CLI uses, so scripts comparing output keep working.
 */
import type { Digest } from "../oci/digest.js";

/** go-units' decimal unit abbreviations. */
const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"] as const;

/**
 * Go's `fmt.Sprintf("%.*g", precision, x)` for finite non-negative `x`:
 * `precision` significant digits, trailing zeros removed, exponent form
 * (`1e+03`) when the exponent is below -4 or at least `precision`.
 */
export function formatGoG(x: number, precision: number): string {
  if (x === 0) return "0";
  const [mantissa = "0", expText = "0"] = x.toExponential(precision - 1).split("e");
  const exponent = Number(expText);
  const trim = (s: string): string => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (exponent < -4 || exponent >= precision) {
    return `${trim(mantissa)}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return trim(x.toFixed(Math.max(0, precision - 1 - exponent)));
}

/**
 * A byte count as Docker shows it: powers of 1000 and `precision`
 * significant digits (`4.26MB`, `850kB`, `12B`): 3 as `docker images`
 * shows sizes, 4 as go-units' `HumanSize` (`docker builder prune`'s total).
 */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${formatGoG(size, precision)}${DECIMAL_UNITS[unit]}`;
}

/** A duration in milliseconds as Docker words it (`Less than a second`, `About an hour`, `3 days`). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** `2 hours ago`, or `N/A` for an unknown time (Docker's CREATED column). */
export function createdSince(created: Date | undefined, now: Date = new Date()): string {
  if (created === undefined || Number.isNaN(created.getTime())) return "N/A";
  return `${humanDuration(now.getTime() - created.getTime())} ago`;
}

/** The 12 hex digits Docker shows for an image ID (`0123456789ab`). */
export function shortId(digest: Digest): string {
  return digest.slice("sha256:".length, "sha256:".length + 12);
}

/** A digest cut to 12 hex digits, keeping the algorithm (`sha256:0123456789ab`). */
export function shortDigest(digest: Digest): string {
  return `sha256:${shortId(digest)}`;
}

/** Parses an RFC 3339 time; undefined when absent or unparseable. */
export function parseCreated(text: string | undefined): Date | undefined {
  if (text === undefined || text === "") return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
