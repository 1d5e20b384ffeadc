import { posix } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { heredocMarker } from "../syntax/heredoc.js";
import { chompHeredoc } from "../syntax/heredoc.js";
import type { RunInstruction } from "../instructions/types.js";
import type { ContainerConfig } from "../oci/types.js";
import { PROXY_ARGS } from "../instructions/platform.js";
import { DEFAULT_PATH, DEFAULT_SHELL, envMap } from "./image-config.js";

/** What a RUN step executes: argv, environment, and an executable file to mount for shebang heredocs. */
export interface RunCommand {
  /** argv of the process. */
  readonly args: readonly string[];
  /** Environment, `KEY=value`, in a stable order. */
  readonly env: readonly string[];
  /** A heredoc with a shebang, run as a file mounted at `/dev/pipes/NAME` (BuildKit's way). */
  readonly script?: { readonly name: string; readonly content: string };
}

/**
 * The process a RUN starts, as BuildKit's `dispatchRun` builds it:
 * - shell form goes through the stage's SHELL; exec form runs as is;
 * - `RUN <<EOF` alone: a body starting with `#!` is written to
 *   `/dev/pipes/EOF` and executed; any other body is passed to the shell as
 *   the script; several heredocs or text around them: the whole line and
 *   bodies are passed to the shell, which handles the heredocs itself;
 * - environment: the image's ENV, then every ARG in scope that ENV does not
 *   shadow, then proxy build args (which BuildKit passes without a
 *   declaration), and PATH defaulted when unset.
 */
export function runCommand(
  inst: RunInstruction,
  config: ContainerConfig,
  args: readonly (readonly [string, string | undefined])[],
  buildArgs: Readonly<Record<string, string>>,
): RunCommand {
  const shell = config.Shell ?? DEFAULT_SHELL;
  let argv: string[];
  let script: RunCommand["script"];
  if (inst.command.form === "exec") {
    argv = [...inst.command.args];
  } else if (inst.heredocs.length > 0) {
    const text = inst.command.script;
    const marker = heredocMarker(text.trim());
    const first = inst.heredocs[0]!;
    if (marker && inst.heredocs.length === 1) {
      const data = first.chomp ? chompHeredoc(first.content) : first.content;
      if (data.startsWith("#!")) {
        // BuildKit writes the file with Mkfile(name) in a scratch mount at /dev/pipes and runs path.Join("/dev/pipes/", name):
        // the name is cleaned, so `..` cannot climb out of the mount (nor, here, out of the directory it is written in).
        const name = posix.join("/", first.name).slice(1);
        if (name === "") throw new BuildError("DF_ARGS", `invalid heredoc name ${JSON.stringify(first.name)} for a script`, { locations: [inst.range], hint: "name the heredoc, e.g. RUN <<EOF" });
        script = { name, content: data };
        argv = [posix.join("/dev/pipes/", first.name)];
      } else {
        argv = [...shell, data];
      }
    } else {
      let full = text;
      for (const h of inst.heredocs) full += `\n${h.content}${h.name}`;
      argv = [...shell, full];
    }
  } else {
    argv = [...shell, inst.command.script];
  }
  const env = envMap(config.Env);
  for (const [k, v] of args) if (v !== undefined && !env.has(k)) env.set(k, v);
  for (const k of PROXY_ARGS) if (buildArgs[k] !== undefined && !env.has(k)) env.set(k, buildArgs[k]);
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  return { args: argv, env: [...env].map(([k, v]) => `${k}=${v}`), ...(script ? { script } : {}) };
}
