/**
 * Build secrets (`--secret`), as `docker buildx build` takes them: each is
 * read once at the start of a build and handed to `RUN --mount=type=secret`
 * steps, never written into a layer, a cache key or the progress output.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";

/** Where one secret comes from. */
export interface SecretSource {
  /** The id `RUN --mount=type=secret,id=` names. */
  readonly id: string;
  /** A file to read (relative to the working directory). */
  readonly file?: string;
  /** An environment variable to read. */
  readonly env?: string;
}

/**
 * Parses a `--secret` value with buildx's rules: comma-separated
 * `id=`, `src=`/`source=`, `env=` and `type=file|env`; `type=env` with only
 * `src=` names the variable. With neither `src` nor `env`, the secret is
 * the environment variable named like the id when it is set, else the file
 * named like the id (BuildKit's secretsprovider).
 */
export function parseSecretSpec(spec: string, env: Readonly<Record<string, string | undefined>>): SecretSource {
  let id: string | undefined;
  let file: string | undefined;
  let variable: string | undefined;
  let type: string | undefined;
  for (const field of spec.split(",")) {
    const eq = field.indexOf("=");
    if (eq < 0) throw usage(`--secret ${spec}: invalid field '${field}': expected key=value`);
    const [key, value] = [field.slice(0, eq).toLowerCase(), field.slice(eq + 1)];
    switch (key) {
      case "id":
        id = value;
        break;
      case "src":
      case "source":
        file = value;
        break;
      case "env":
        variable = value;
        break;
      case "type":
        if (value !== "file" && value !== "env") throw usage(`--secret ${spec}: unsupported secret type "${value}"`);
        type = value;
        break;
      default:
        throw usage(`--secret ${spec}: unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === "env" && variable === undefined) {
    variable = file;
    file = undefined;
  }
  if (id === undefined || id === "") throw usage(`--secret ${spec}: secret ID missing`, "write --secret id=NAME,src=FILE or id=NAME,env=VAR");
  if (file !== undefined && variable !== undefined) throw usage(`--secret ${spec}: cannot specify both file path and env`);
  if (file === undefined && variable === undefined) {
    if (env[id] !== undefined) variable = id;
    else file = id;
  }
  return { id, ...(file !== undefined ? { file } : {}), ...(variable !== undefined ? { env: variable } : {}) };
}

/**
 * Reads every secret, by id (a later one of the same id wins, as in
 * buildx). A missing file or variable fails the build before anything runs.
 */
export async function loadSecrets(sources: readonly SecretSource[], env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const s of sources) {
    if (s.env !== undefined) {
      const value = env[s.env];
      if (value === undefined) throw usage(`secret ${s.id}: environment variable ${s.env} is not set`);
      out.set(s.id, Buffer.from(value));
      continue;
    }
    const path = resolve(cwd, s.file ?? s.id);
    try {
      out.set(s.id, await readFile(path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw usage(`secret ${s.id}: cannot read ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
  }
  return out;
}

function usage(message: string, hint?: string): BuildError {
  return new BuildError("CLI_USAGE", message, hint ? { hint } : {});
}
