import { inspectImage } from "../../image/inspect.js";
import type { Command } from "../command.js";
import { expectPositionals, openCliStore, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild inspect [--root DIR] IMAGE";

/** `tsbuild inspect`: `{ manifest, config, digest, name }` of a stored image, as indented JSON. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "Show a stored image's manifest, config, digest and name as JSON",
  usage: USAGE,
  options: { ...STORE_OPTIONS },
  help: { ...STORE_OPTIONS_HELP },
  async run(args, io) {
    const [query] = expectPositionals(args, USAGE, 1);
    const store = await openCliStore(args, io);
    const result = await inspectImage(store, query!, { signal: io.signal });
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  },
};
