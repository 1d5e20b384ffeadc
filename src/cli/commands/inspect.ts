import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild inspect` (being implemented). */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "inspect",
  usage: "tsbuild inspect",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild inspect is not implemented yet");
  },
};
