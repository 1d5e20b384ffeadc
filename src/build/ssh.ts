/**
 * SSH agents to forward (`--ssh`), as `docker buildx build` names them:
 * `default` (the agent of `$SSH_AUTH_SOCK`), `ID` (the same agent under
 * another id), or `ID=SOCKET`. RUN steps reach them through
 * `RUN --mount=type=ssh[,id=ID]`.
 *
 * Only agent sockets are forwarded. buildx also takes key files, which
 * BuildKit loads into an agent of its own; tsbuild refuses them with a
 * clear error rather than forwarding nothing.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";

/**
 * Parses the `--ssh` values and checks each names an agent socket. Returns
 * the socket path by id (a later value of the same id wins).
 */
export async function loadSshAgents(specs: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const id = eq < 0 ? spec : spec.slice(0, eq);
    if (id === "") throw usage(`--ssh ${spec}: missing id`, "write --ssh default, or --ssh ID=SOCKET");
    let paths = eq < 0 ? [] : spec.slice(eq + 1).split(",").filter((p) => p !== "");
    if (paths.length === 0) {
      const sock = env["SSH_AUTH_SOCK"];
      if (sock === undefined || sock === "") throw usage(`--ssh ${spec}: SSH_AUTH_SOCK is not set`, "start an agent (eval $(ssh-agent); ssh-add), or pass --ssh ID=SOCKET");
      paths = [sock];
    }
    if (paths.length > 1) throw usage(`--ssh ${spec}: several paths for one id are key files, which tsbuild cannot load yet`, "pass an agent socket instead: ssh-add the keys to an agent, then --ssh ID=$SSH_AUTH_SOCK");
    const path = resolve(cwd, paths[0]!);
    let isSocket: boolean;
    try {
      isSocket = (await stat(path)).isSocket();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw usage(`--ssh ${spec}: cannot use ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    if (!isSocket) {
      throw usage(`--ssh ${spec}: ${path} is not an agent socket (key files are not supported yet)`, "ssh-add the key to an agent, then pass --ssh ID=$SSH_AUTH_SOCK");
    }
    out.set(id, path);
  }
  return out;
}

function usage(message: string, hint?: string): BuildError {
  return new BuildError("CLI_USAGE", message, hint ? { hint } : {});
}
