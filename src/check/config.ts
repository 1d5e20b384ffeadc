/** Which rules run and how findings are reported, from `# check=` or the BUILDKIT_DOCKERFILE_CHECK build arg. */
export interface CheckConfig {
  /** Rule names to skip. */
  readonly skip: ReadonlySet<string>;
  /** True for `skip=all`. */
  readonly skipAll: boolean;
  /** Report findings as errors (`error=true`): the check and the build fail. */
  readonly error: boolean;
  /** Problems in the directive itself. */
  readonly problems: readonly string[];
}

/**
 * Parses BuildKit's check options: `skip=Rule1,Rule2;error=true`,
 * `skip=all`, keys case-insensitive, `;`-separated. `experimental=` is
 * accepted and ignored (no experimental rule is implemented).
 */
export function parseCheckConfig(value: string | undefined): CheckConfig {
  const skip = new Set<string>();
  let skipAll = false;
  let error = false;
  const problems: string[] = [];
  for (const part of (value ?? "").split(";")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    const key = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? "" : trimmed.slice(eq + 1).trim();
    if (key === "skip") {
      for (const name of v.split(",").map((s) => s.trim()).filter(Boolean)) {
        if (name.toLowerCase() === "all") skipAll = true;
        else skip.add(name);
      }
    } else if (key === "error") {
      if (!/^(true|false|1|0)$/i.test(v)) problems.push(`invalid value "${v}" for check option error: expected true or false`);
      error = /^(true|1)$/i.test(v);
    } else if (key === "experimental") {
      // No experimental rules are implemented; accepting the key keeps BuildKit files valid.
    } else {
      problems.push(`unknown check option "${key}"`);
    }
  }
  return { skip, skipAll, error, problems };
}
