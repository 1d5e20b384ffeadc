import { BuildError } from "../../diagnostics/build-error.js";
import type { Command } from "../command.js";

/** `tsbuild images` (being implemented). */
export const imagesCommand: Command = {
  name: "images",
  summary: "images",
  usage: "tsbuild images",
  options: {},
  help: {},
  async run() {
    throw new BuildError("INTERNAL", "tsbuild images is not implemented yet");
  },
};
