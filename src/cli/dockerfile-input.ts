import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import type { SourceFile } from "../diagnostics/source.js";
import type { CliIo } from "./command.js";

/** Where the Dockerfile and context are, as `docker build` decides from `-f` and PATH. */
export interface DockerfileLocation {
  /** Absolute context directory. */
  readonly contextDir: string;
  /** Absolute Dockerfile path, or `-` for standard input. */
  readonly dockerfilePath: string;
  /** The file, read. `path` is what messages show (relative when possible). */
  readonly source: SourceFile;
  /**
   * Set when the context came on standard input (`PATH` is `-`): it lives in
   * a temporary directory that this removes once the command is done.
   */
  readonly dispose?: () => Promise<void>;
}

/**
 * Reads the Dockerfile like `docker build`: `-f` is relative to the working
 * directory (`-` reads standard input); without `-f` it is `PATH/Dockerfile`,
 * falling back to `PATH/dockerfile`. The context need not exist for reading.
 * A PATH of `-` takes the context (a tar archive) or the Dockerfile from
 * standard input; the location then has a `dispose`.
 */
export async function readDockerfile(io: CliIo, contextArg: string | undefined, fileArg: string | undefined): Promise<DockerfileLocation> {
  if (contextArg === "-") return readFromStdin(io, fileArg);
  const contextDir = resolve(io.cwd, contextArg ?? ".");
  if (fileArg === "-") {
    const text = (await io.readStdin()).toString("utf8");
    return { contextDir, dockerfilePath: "-", source: { path: "Dockerfile", text } };
  }
  let path: string;
  if (fileArg !== undefined) {
    path = resolve(io.cwd, fileArg);
  } else {
    path = join(contextDir, "Dockerfile");
    if (!(await exists(path)) && (await exists(join(contextDir, "dockerfile")))) path = join(contextDir, "dockerfile");
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BuildError("IO_READ", `cannot read Dockerfile ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(code)}`, {
      cause: err,
      hint: fileArg === undefined ? "name it with -f, or run in the directory that has it" : undefined,
    });
  }
  const rel = relative(io.cwd, path);
  return { contextDir, dockerfilePath: path, source: { path: rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path, text } };
}

/** PATH `-`: a context archive or a Dockerfile on standard input (`stdin-context.ts`). */
async function readFromStdin(io: CliIo, fileArg: string | undefined): Promise<DockerfileLocation> {
  const { readStdinContext } = await import("./stdin-context.js");
  const ctx = await readStdinContext(io, fileArg);
  if (ctx.dockerfile !== undefined) {
    return { contextDir: ctx.dir, dockerfilePath: "-", source: { path: "Dockerfile", text: ctx.dockerfile }, dispose: ctx.dispose };
  }
  try {
    // Inside the archive, -f names a path relative to its root, as the daemon reads it.
    const inner = await readDockerfile({ ...io, cwd: ctx.dir }, ctx.dir, fileArg === undefined ? undefined : join(ctx.dir, fileArg));
    const shown = fileArg ?? relative(ctx.dir, inner.dockerfilePath);
    return { ...inner, source: { ...inner.source, path: shown }, dispose: ctx.dispose };
  } catch (err) {
    await ctx.dispose();
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Parses `--build-arg` values: `K=V` sets K; a bare `K` takes the value of
 * the environment variable K, and is left out when the environment has none
 * (as the Docker CLI does).
 */
export function parseBuildArgs(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq === 0) throw new BuildError("CLI_USAGE", `invalid --build-arg "${v}": the name is empty`, { hint: "write --build-arg NAME=value" });
    if (eq > 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else if (env[v] !== undefined) out[v] = env[v]!;
  }
  return out;
}

/** The values of a repeatable option as strings. */
export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}
