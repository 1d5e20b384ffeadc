import type { KeyValueNode } from "./ast.js";
import { goQuote, isGoSpaceCode, splitWhitespace } from "./chars.js";
import { parseWords } from "./words.js";

/** How an instruction's argument text was split (BuildKit's per-keyword line parsers). */
export interface SplitArguments {
  /** Arguments as BuildKit's AST holds them. */
  readonly args: string[];
  /** True when they came from a JSON string array. */
  readonly json: boolean;
  /** ENV/LABEL pairs. */
  readonly keyValues: KeyValueNode[];
  /** A syntax error in the arguments, if any. */
  readonly error?: string;
  /** The `[start, end)` offsets in the argument text the error is about; absent for all of it. */
  readonly errorSpan?: readonly [number, number];
}

const NONE: SplitArguments = { args: [], json: false, keyValues: [] };

/** BuildKit's message for a JSON array with a non-string element. */
export const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

/**
 * Splits the argument text `rest` (after flags, trimmed) for `keyword`
 * (upper-case) exactly as BuildKit's dispatch table does. ONBUILD and
 * unknown keywords are handled by the caller.
 */
export function splitArguments(keyword: string, rest: string, escape: string): SplitArguments {
  switch (keyword) {
    case "RUN":
    case "CMD":
    case "ENTRYPOINT":
    case "SHELL":
      return maybeJson(rest);
    case "ADD":
    case "COPY":
    case "VOLUME":
      return maybeJsonToList(rest);
    case "FROM":
    case "EXPOSE":
      return whitespaceDelimited(rest);
    case "ENV":
    case "LABEL":
      return nameValues(rest, keyword, escape);
    case "ARG": {
      const words = parseWords(rest, escape);
      return { args: words, json: false, keyValues: [] };
    }
    case "HEALTHCHECK":
      return healthcheck(rest);
    case "MAINTAINER":
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL":
      return rest === "" ? NONE : { args: [rest], json: false, keyValues: [] };
    default:
      return NONE;
  }
}

type JsonOutcome = { kind: "ok"; values: string[] } | { kind: "not-json" } | { kind: "not-strings"; span?: [number, number] };

/** BuildKit's `parseJSON`: a JSON array of strings, or why not. */
function parseJsonArray(rest: string): JsonOutcome {
  let i = 0;
  while (i < rest.length && isGoSpaceCode(rest.charCodeAt(i))) i++;
  if (rest[i] !== "[") return { kind: "not-json" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest.slice(i));
  } catch {
    return { kind: "not-json" };
  }
  if (!Array.isArray(parsed)) return { kind: "not-json" };
  if (!parsed.every((v): v is string => typeof v === "string")) {
    // Go's decoder fails on a number beyond float64 (1e999) anywhere in the
    // value: that is "not JSON" (shell form), not "not strings".
    if (hasHugeNumber(parsed)) return { kind: "not-json" };
    const span = elementSpan(rest, i, parsed.findIndex((v) => typeof v !== "string"));
    return span ? { kind: "not-strings", span } : { kind: "not-strings" };
  }
  // Go decodes an unpaired surrogate escape (\ud800) as U+FFFD.
  return { kind: "ok", values: parsed.map((v) => (LONE_SURROGATE.test(v) ? v.replace(LONE_SURROGATE_G, "\ufffd") : v)) };
}

const LONE_SURROGATE_SOURCE = "[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
const LONE_SURROGATE = new RegExp(LONE_SURROGATE_SOURCE);
const LONE_SURROGATE_G = new RegExp(LONE_SURROGATE_SOURCE, "g");

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Offsets `[start, end)` in `s` of element `index` of the valid JSON array
 * whose `[` is at `open` (for an error that points at the element).
 */
function elementSpan(s: string, open: number, index: number): [number, number] | undefined {
  const n = s.length;
  let p = open + 1;
  for (let k = 0; k <= index; k++) {
    while (p < n && isJsonSpace(s.charCodeAt(p))) p++;
    const start = p;
    let depth = 0;
    while (p < n) {
      const c = s[p]!;
      if (c === '"') {
        for (p++; p < n && s[p] !== '"'; p++) if (s[p] === "\\") p++;
        p++;
        if (depth === 0) break;
      } else if (c === "[" || c === "{") {
        depth++;
        p++;
      } else if (c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
        p++;
        if (depth === 0) break;
      } else if (depth === 0 && (c === "," || isJsonSpace(s.charCodeAt(p)))) {
        break;
      } else {
        p++;
      }
    }
    if (k === index) return p > start ? [start, p] : undefined;
    while (p < n && isJsonSpace(s.charCodeAt(p))) p++;
    if (s[p] !== ",") return undefined;
    p++;
  }
  return undefined;
}

/** True when a non-finite number sits anywhere in `root` (iterative: the nesting can be deep). */
function hasHugeNumber(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === "object") {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return false;
}

/** The error for a JSON array with a non-string element, pointing at that element when it can. */
function notStrings(j: { span?: [number, number] }): SplitArguments {
  return j.span ? { ...NONE, error: NOT_STRING_ARRAY, errorSpan: j.span } : { ...NONE, error: NOT_STRING_ARRAY };
}

function maybeJson(rest: string): SplitArguments {
  if (rest === "") return NONE;
  const j = parseJsonArray(rest);
  if (j.kind === "ok") return { args: j.values, json: true, keyValues: [] };
  if (j.kind === "not-strings") return notStrings(j);
  return { args: [rest], json: false, keyValues: [] };
}

function maybeJsonToList(rest: string): SplitArguments {
  const j = parseJsonArray(rest);
  if (j.kind === "ok") return { args: j.values, json: true, keyValues: [] };
  if (j.kind === "not-strings") return notStrings(j);
  return whitespaceDelimited(rest);
}

function whitespaceDelimited(rest: string): SplitArguments {
  if (rest === "") return NONE;
  return { args: splitWhitespace(rest), json: false, keyValues: [] };
}

function healthcheck(rest: string): SplitArguments {
  let sep = 0;
  while (sep < rest.length && !isGoSpaceCode(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isGoSpaceCode(rest.charCodeAt(next))) next++;
  const cmd = maybeJson(rest.slice(next));
  if (cmd.error) return cmd.errorSpan ? { ...cmd, errorSpan: [cmd.errorSpan[0] + next, cmd.errorSpan[1] + next] } : cmd;
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json, keyValues: [] };
}

/** BuildKit's `parseNameVal`: `k=v k2=v2` or the legacy `k the value`. */
function nameValues(rest: string, keyword: string, escape: string): SplitArguments {
  const spans: [number, number][] = [];
  const words = parseWords(rest, escape, spans);
  if (words.length === 0) return NONE;
  if (!words[0]!.includes("=")) {
    const m = /[\t\v\f\r ]+/.exec(rest);
    if (!m) return { ...NONE, error: `${keyword} must have two arguments` };
    const key = rest.slice(0, m.index);
    const value = rest.slice(m.index + m[0].length);
    return { args: [key, value, ""], json: false, keyValues: [{ key, value, separator: "" }] };
  }
  const keyValues: KeyValueNode[] = [];
  const args: string[] = [];
  for (const [i, word] of words.entries()) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      return { ...NONE, error: `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`, errorSpan: spans[i] };
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    keyValues.push({ key, value, separator: "=" });
    args.push(key, value, "=");
  }
  return { args, json: false, keyValues };
}
