import { BuildError } from "../diagnostics/build-error.js";
import { suggest } from "../diagnostics/suggest.js";
import type { FlagNode, InstructionNode } from "../syntax/ast.js";

/** How a flag takes values: one string, a boolean, or a repeatable string. */
export type FlagKind = "string" | "bool" | "strings";

/**
 * The flags each instruction accepts, as BuildKit's Dockerfile frontend
 * (syntax 1.x, stable features) defines them. Instructions not listed
 * accept no flags at all.
 */
export const INSTRUCTION_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  FROM: { platform: "string" },
  RUN: { mount: "strings", network: "string", security: "string" },
  COPY: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  ADD: {
    chown: "string",
    chmod: "string",
    link: "bool",
    "keep-git-dir": "bool",
    checksum: "string",
    unpack: "bool",
    exclude: "strings",
  },
  HEALTHCHECK: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

/** Parsed flag values by name; absent when not given. */
export class FlagValues {
  private readonly values = new Map<string, { value: string | boolean | string[]; node: FlagNode }>();

  /** Records a value (internal to {@link parseFlags}). */
  set(name: string, value: string | boolean | string[], node: FlagNode): void {
    this.values.set(name, { value, node });
  }

  /** A string flag's value. */
  string(name: string): string | undefined {
    const v = this.values.get(name)?.value;
    return typeof v === "string" ? v : undefined;
  }

  /** A boolean flag's value (`--link` alone is true). */
  bool(name: string): boolean | undefined {
    const v = this.values.get(name)?.value;
    return typeof v === "boolean" ? v : undefined;
  }

  /** A repeatable flag's values, in order. */
  strings(name: string): string[] {
    const v = this.values.get(name)?.value;
    return Array.isArray(v) ? v : [];
  }

  /** The flag node of a flag that was given (for error locations). */
  node(name: string): FlagNode | undefined {
    return this.values.get(name)?.node;
  }
}

/**
 * Validates `node`'s flags against {@link INSTRUCTION_FLAGS} the way
 * BuildKit's `BFlags` does: unknown flags, missing values, duplicates of
 * single-valued flags and non-boolean values of boolean flags are errors
 * naming the flag and the instruction.
 */
export function parseFlags(node: InstructionNode, keyword: string = node.keyword): FlagValues {
  const spec = INSTRUCTION_FLAGS[keyword] ?? {};
  const out = new FlagValues();
  for (const flag of node.flags) {
    const kind = spec[flag.name];
    const where = { locations: [flag.range] };
    if (!kind) {
      const known = Object.keys(spec);
      const close = suggest(flag.name, known);
      throw new BuildError("DF_FLAG", `unknown flag --${flag.name} for ${keyword}`, {
        ...where,
        hint: close
          ? `did you mean --${close}?`
          : known.length
            ? `${keyword} accepts ${known.map((k) => `--${k}`).join(", ")}`
            : `${keyword} accepts no flags`,
      });
    }
    if (kind === "bool") {
      const v = flag.value === undefined ? "true" : flag.value.toLowerCase();
      if (v !== "true" && v !== "false") {
        throw new BuildError("DF_FLAG", `expecting boolean value for flag --${flag.name}, not: ${flag.value}`, where);
      }
      if (out.bool(flag.name) !== undefined) throw duplicate(flag, keyword);
      out.set(flag.name, v === "true", flag);
      continue;
    }
    if (flag.value === undefined) {
      throw new BuildError("DF_FLAG", `missing a value on flag --${flag.name} of ${keyword}`, { ...where, hint: `write --${flag.name}=VALUE` });
    }
    if (kind === "strings") {
      out.set(flag.name, [...out.strings(flag.name), flag.value], flag);
      continue;
    }
    if (out.string(flag.name) !== undefined) throw duplicate(flag, keyword);
    out.set(flag.name, flag.value, flag);
  }
  return out;
}

function duplicate(flag: FlagNode, keyword: string): BuildError {
  return new BuildError("DF_FLAG", `duplicate flag --${flag.name} for ${keyword}`, { locations: [flag.range] });
}
