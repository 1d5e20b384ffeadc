import { BuildError } from "../../diagnostics/build-error.js";
import { eraseCredentials } from "../../registry/credentials.js";
import type { Command } from "../command.js";
import { loginHost } from "./login.js";

/**
 * `tsbuild logout`: removes a registry's credentials from Docker's
 * config.json and from the credential helper it names.
 */
export const logoutCommand: Command = {
  name: "logout",
  summary: "Log out from a registry (removes its stored credentials)",
  usage: "tsbuild logout [REGISTRY]",
  options: {},
  help: {},
  async run(args, io) {
    if (args.positionals.length > 1) {
      throw new BuildError("CLI_USAGE", "tsbuild logout takes at most one registry", { hint: `usage: ${logoutCommand.usage}` });
    }
    const { key } = loginHost(args.positionals[0]);
    const removed = await eraseCredentials(key, { env: io.env, signal: io.signal });
    io.out(removed ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`);
    return 0;
  },
};
