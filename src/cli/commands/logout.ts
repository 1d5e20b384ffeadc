import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild logout` (being implemented). */
export const logoutCommand: Command = {
  name: "logout",
  summary: "logout",
  usage: "tsbuild logout",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild logout is not implemented yet");
  },
};
