import type { Command } from "../command.js";
import { createTransferRenderer } from "../progress/transfer-renderer.js";
import { openCliStore } from "../store-options.js";
import { onePositional, REGISTRY_COMMAND_HELP, REGISTRY_COMMAND_OPTIONS, registryClientOptions } from "./pull.js";

/**
 * `tsbuild push`: uploads a local image to the registry its name points at
 * (blobs the repository has are skipped, blobs another repository of the
 * same registry has are mounted), then prints `NAME: digest: sha256:… size: N`.
 * A name with a digest (`repo@sha256:…`) pushes the manifest by digest.
 */
export const pushCommand: Command = {
  name: "push",
  summary: "Upload an image from the local store to a registry",
  usage: "tsbuild push [--root DIR] [--insecure-registry HOST]... [-q] NAME[:TAG|@DIGEST]",
  options: {
    quiet: { type: "boolean", short: "q" },
    ...REGISTRY_COMMAND_OPTIONS,
  },
  help: {
    quiet: "Print only the pushed digest line, no progress",
    ...REGISTRY_COMMAND_HELP,
  },
  async run(args, io) {
    const ref = onePositional(args, pushCommand, "image reference");
    const quiet = args.values["quiet"] === true;
    const store = await openCliStore(args, io);
    // Loaded on use, like pull's: start-up imports every command module.
    const { pushImage } = await import("../../image/push.js");
    const renderer = createTransferRenderer({ io, verb: "push", quiet });
    let result;
    try {
      result = await pushImage({
        source: ref,
        store,
        clientOptions: registryClientOptions(args, io),
        onProgress: renderer.onProgress,
        signal: io.signal,
      });
    } finally {
      renderer.stop();
    }
    io.out(`${result.name.familiar()}: digest: ${result.digest} size: ${result.size}\n`);
    return 0;
  },
};
