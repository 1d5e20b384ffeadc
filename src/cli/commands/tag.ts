import { tagImage } from "../../image/tag.js";
import type { Command } from "../command.js";
import { expectPositionals, openCliStore, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild tag [--root DIR] SOURCE TARGET";

/** `tsbuild tag`: another name for a stored image. Prints nothing, as Docker. */
export const tagCommand: Command = {
  name: "tag",
  summary: "Give a stored image another name (SOURCE by name, digest or ID prefix)",
  usage: USAGE,
  options: { ...STORE_OPTIONS },
  help: { ...STORE_OPTIONS_HELP },
  async run(args, io) {
    const [source, target] = expectPositionals(args, USAGE, 2);
    const store = await openCliStore(args, io);
    await tagImage(store.images, source!, target!, { signal: io.signal });
    return 0;
  },
};
