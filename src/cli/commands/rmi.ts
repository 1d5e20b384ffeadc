import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild rmi` (being implemented). */
export const rmiCommand: Command = {
  name: "rmi",
  summary: "rmi",
  usage: "tsbuild rmi",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild rmi is not implemented yet");
  },
};
