/**
 * The PATH a stage gets when its base sets none (scratch, or an image
 * without PATH): BuildKit's `system.DefaultPathEnvUnix`, which
 * dockerfile2llb appends to the stage's image config ("make sure that PATH
 * is always set"), so `ENV PATH=$PATH:/x` extends it and the image keeps it.
 */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The variables an instruction sees while a stage is resolved: the stage's
 * environment (base image ENV, then ENV instructions) and the ARGs declared
 * so far. ENV always wins over an ARG of the same name (Docker's rule), in
 * either order of declaration.
 */
export class Scope {
  /** ENV state in effect, in image-config order (replacing a key keeps its place). */
  readonly env: Map<string, string>;
  /** ARGs declared in this stage (or inherited), with their values; undefined = declared without value. */
  readonly args: Map<string, string | undefined>;

  constructor(env: Iterable<readonly [string, string]> = [], args: Iterable<readonly [string, string | undefined]> = []) {
    this.env = new Map(env);
    this.args = new Map(args);
  }

  /** A copy, for a stage that starts `FROM` this one. */
  clone(): Scope {
    return new Scope(this.env, this.args);
  }

  /** The value of `name` for expansion: ENV first, then a valued ARG. */
  lookup(name: string): string | undefined {
    const e = this.env.get(name);
    if (e !== undefined) return e;
    return this.args.get(name);
  }

  /** True when `name` is an ENV variable or a declared ARG (even without a value). */
  isDeclared(name: string): boolean {
    return this.env.has(name) || this.args.has(name);
  }

  /** All names in scope (for "did you mean" suggestions). */
  names(): string[] {
    return [...new Set([...this.env.keys(), ...this.args.keys()])];
  }

  /** ENV state as `KEY=value` lines (image config form). */
  envList(): string[] {
    return [...this.env].map(([k, v]) => `${k}=${v}`);
  }

  /** Parses image-config `KEY=value` lines into pairs. */
  static parseEnvList(list: readonly string[]): [string, string][] {
    return list.map((line) => {
      const eq = line.indexOf("=");
      return eq < 0 ? [line, ""] : [line.slice(0, eq), line.slice(eq + 1)];
    });
  }
}
