import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild push` (being implemented). */
export const pushCommand: Command = {
  name: "push",
  summary: "push",
  usage: "tsbuild push",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild push is not implemented yet");
  },
};
