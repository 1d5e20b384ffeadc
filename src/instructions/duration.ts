import { BuildError } from "../diagnostics/build-error.js";

const UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's `time.ParseDuration` (`300ms`, `1m30s`, `1.5h`), returning
 * nanoseconds. HEALTHCHECK durations are stored in nanoseconds in the image
 * config, so the units must match Go's exactly.
 */
export function parseGoDuration(text: string): number {
  const fail = (): BuildError => new BuildError("DF_FLAG", `time: invalid duration "${text}"`, { hint: "use Go durations such as 30s, 1m30s or 500ms" });
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw fail();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw fail();
    const unit = UNITS[m[3]!];
    if (unit === undefined) throw fail();
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    s = s.slice(m[0].length);
  }
  return Math.round(sign * total);
}
