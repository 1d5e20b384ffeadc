import { isBuildError } from "../../diagnostics/build-error.js";
import { removeImage } from "../../image/remove.js";
import type { Command } from "../command.js";
import { exitCodeFor, renderError } from "../render-error.js";
import { expectPositionals, flagOption, openCliStore, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild rmi [-f] [--root DIR] IMAGE [IMAGE...]";

/**
 * `tsbuild rmi`: removes names, printing `Untagged: NAME` for each, as
 * Docker. Like the Docker CLI it goes on after a failure and reports every
 * one; with `-f`, unknown images are reported but do not fail the command.
 */
export const rmiCommand: Command = {
  name: "rmi",
  summary: "Remove image names from the local store (blobs are kept)",
  usage: USAGE,
  options: { force: { type: "boolean", short: "f" }, ...STORE_OPTIONS },
  help: {
    force: "Remove every name of an image given by ID, even across repositories; ignore unknown images",
    ...STORE_OPTIONS_HELP,
  },
  async run(args, io) {
    const queries = expectPositionals(args, USAGE, 1, Infinity);
    const force = flagOption(args, "force");
    const store = await openCliStore(args, io);
    let status = 0;
    for (const query of queries) {
      try {
        const { untagged } = await removeImage(store.images, query, { force, signal: io.signal });
        io.out(untagged.map((n) => `Untagged: ${n.familiar()}\n`).join(""));
      } catch (err) {
        if (isBuildError(err, "ABORTED")) throw err;
        io.err(renderError(err));
        if (!(force && isBuildError(err, "STORE_NOT_FOUND")) && status === 0) status = exitCodeFor(err);
      }
    }
    return status;
  },
};
