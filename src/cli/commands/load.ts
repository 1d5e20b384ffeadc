import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild load` (being implemented). */
export const loadCommand: Command = {
  name: "load",
  summary: "load",
  usage: "tsbuild load",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild load is not implemented yet");
  },
};
