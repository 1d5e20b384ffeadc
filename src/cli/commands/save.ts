import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild save` (being implemented). */
export const saveCommand: Command = {
  name: "save",
  summary: "save",
  usage: "tsbuild save",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild save is not implemented yet");
  },
};
