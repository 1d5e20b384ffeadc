import { BuildError } from "../diagnostics/build-error.js";
import { suggest } from "../diagnostics/suggest.js";
import type { RunMount } from "./types.js";

const MOUNT_TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"] as const;
const MOUNT_KEYS = ["type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro", "readwrite", "rw", "required", "sharing", "id", "size", "mode", "uid", "gid", "env"];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Parses one `--mount=...` value as BuildKit's `parseMount` does: a CSV
 * record of `key=value` fields (`ro`, `rw`, `required` may stand alone),
 * each value passed through `expand` (the stage's variables, at build
 * time), then validated per mount type. `index` numbers ssh mounts for
 * their default target. Errors are DF_FLAG BuildErrors without location;
 * the caller adds the flag's range.
 */
export function parseMount(value: string, expand: (word: string) => string = (w) => w, index = 0): RunMount {
  const m: Mutable<Partial<RunMount>> & { type: RunMount["type"] } = { type: "bind" };
  let roAuto = true;
  for (const field of splitCsv(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro") {
        m.readonly = true;
        roAuto = false;
      } else if (key === "readwrite" || key === "rw") {
        m.readonly = false;
        roAuto = false;
      } else if (key === "required" && (m.type === "secret" || m.type === "ssh")) {
        m.required = true;
      } else if (key === "required") {
        throw fail(`unexpected key 'required' for mount type '${m.type}'`);
      } else {
        throw fail(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    const v = expand(field.slice(eq + 1));
    switch (key) {
      case "type": {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          const close = suggest(t, MOUNT_TYPES);
          throw fail(`unsupported mount type "${v}"`, close ? `did you mean type=${close}?` : `types are ${MOUNT_TYPES.join(", ")}`);
        }
        m.type = t as RunMount["type"];
        break;
      }
      case "from":
        m.from = v;
        break;
      case "source":
      case "src":
        m.source = v;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = v;
        break;
      case "readonly":
      case "ro":
        m.readonly = parseBool(v, key);
        roAuto = false;
        break;
      case "readwrite":
      case "rw":
        m.readonly = !parseBool(v, key);
        roAuto = false;
        break;
      case "required":
        if (m.type !== "secret" && m.type !== "ssh") throw fail(`unexpected key 'required' for mount type '${m.type}'`);
        m.required = parseBool(v, key);
        break;
      case "sharing": {
        if (m.type !== "cache") throw fail(`invalid cache sharing set for ${m.type} mount`);
        const s = v.toLowerCase();
        if (s !== "shared" && s !== "private" && s !== "locked") throw fail(`unsupported sharing value "${v}"`, "use shared, private or locked");
        m.sharing = s;
        break;
      }
      case "id":
        m.id = v;
        break;
      case "size":
        if (m.type !== "tmpfs") throw fail(`size is only supported for tmpfs mounts, not ${m.type}`);
        m.size = parseSize(v);
        break;
      case "mode": {
        if (!/^[0-7]+$/.test(v)) throw fail(`invalid value ${v} for mode`, "mode is an octal number such as 0755");
        m.mode = Number.parseInt(v, 8);
        break;
      }
      case "uid":
      case "gid": {
        if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw fail(`invalid value ${v} for ${key}`);
        m[key] = Number(v);
        break;
      }
      case "env":
        m.env = v;
        break;
      default: {
        const close = suggest(key, MOUNT_KEYS);
        throw fail(`unexpected key '${key}' in '${field}'`, close ? `did you mean ${close}?` : undefined);
      }
    }
  }
  const fileInfoAllowed = m.type === "secret" || m.type === "ssh" || m.type === "cache";
  if (!fileInfoAllowed) {
    for (const k of ["mode", "uid", "gid"] as const) {
      if (m[k] !== undefined) throw fail(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (roAuto) m.readonly = !(m.type === "cache" || m.type === "tmpfs");
  if (m.type === "secret") {
    if (m.from !== undefined) throw fail("secret mount should not have a from");
    if (!m.source && !m.target && !m.id) throw fail("invalid secret mount. one of source, target required");
    if (m.source && m.id) throw fail("both source and id can't be set");
    // BuildKit: the id defaults to the source's base name, or the target's.
    m.id ??= basename(m.source || m.target || "");
    if (!m.target && m.env === undefined) m.target = `/run/secrets/${m.id}`;
  }
  if (m.type === "ssh") {
    if (m.from !== undefined) throw fail("ssh mount should not have a from");
    m.id ??= "default";
    m.target ??= `/run/buildkit/ssh_agent.${index}`;
  }
  // No target is not an error here: BuildKit resolves an empty or relative
  // target against WORKDIR when it runs the step (and refuses only "/"); a
  // cache id defaults to that resolved target (see the planner).
  return { ...m, target: m.target ?? "", readonly: m.readonly ?? false } as RunMount;
}

function fail(message: string, hint?: string): BuildError {
  return new BuildError("DF_FLAG", `--mount: ${message}`, hint ? { hint } : {});
}

/** Go's `strconv.ParseBool`. */
export function parseBool(v: string, key: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw fail(`invalid value "${v}" for ${key}: expected true or false`);
}

/** docker/go-units `RAMInBytes`: `64m`, `1g`, `512` (binary multipliers). */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) throw fail(`invalid size: '${v}'`, "use a number with an optional unit, e.g. 64m");
  const mult = { k: 1, m: 2, g: 3, t: 4, p: 5 }[(m[2] ?? "").toLowerCase()] ?? 0;
  return Math.floor(Number.parseFloat(m[1]!) * 1024 ** mult);
}

/** Go's `encoding/csv` for one record: commas separate, double quotes group, `""` is a quote. */
export function splitCsv(s: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= s.length) {
    let field = "";
    if (s[i] === '"') {
      i++;
      while (i < s.length) {
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++]!;
      }
      while (i < s.length && s[i] !== ",") field += s[i++]!;
    } else {
      const comma = s.indexOf(",", i);
      const end = comma < 0 ? s.length : comma;
      field = s.slice(i, end);
      i = end;
    }
    fields.push(field);
    i++; // skip the comma (or step past the end)
  }
  return fields;
}

function basename(p: string): string {
  const parts = p.split("/").filter(Boolean);
  return parts[parts.length - 1] ?? "";
}
