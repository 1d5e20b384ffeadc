import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild pull` (being implemented). */
export const pullCommand: Command = {
  name: "pull",
  summary: "pull",
  usage: "tsbuild pull",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild pull is not implemented yet");
  },
};
