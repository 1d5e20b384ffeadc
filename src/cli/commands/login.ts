import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild login` (being implemented). */
export const loginCommand: Command = {
  name: "login",
  summary: "login",
  usage: "tsbuild login",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild login is not implemented yet");
  },
};
