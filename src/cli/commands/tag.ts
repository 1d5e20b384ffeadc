import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild tag` (being implemented). */
export const tagCommand: Command = {
  name: "tag",
  summary: "tag",
  usage: "tsbuild tag",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild tag is not implemented yet");
  },
};
