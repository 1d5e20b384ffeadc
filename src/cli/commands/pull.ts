import { BuildError } from "../../diagnostics/build-error.js";
import type { RegistryClientOptions } from "../../registry/client.js";
import { DockerConfigCredentials } from "../../registry/credentials.js";
import { insecureRegistriesFrom } from "../../registry/endpoint.js";
import type { CliIo, Command, CommandOptions, ParsedArgs } from "../command.js";
import { createTransferRenderer } from "../progress/transfer-renderer.js";
import { openCliStore, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

/** The options every registry command shares: `--root` (store-options.ts) and `--insecure-registry`. */
export const REGISTRY_COMMAND_OPTIONS: CommandOptions = {
  ...STORE_OPTIONS,
  "insecure-registry": { type: "string", multiple: true },
};

/** Help for {@link REGISTRY_COMMAND_OPTIONS}. */
export const REGISTRY_COMMAND_HELP: Readonly<Record<string, string>> = {
  ...STORE_OPTIONS_HELP,
  "insecure-registry": "Talk plain HTTP to this registry host[:port] (repeatable; also TSBUILD_INSECURE_REGISTRIES=h1,h2); loopback hosts always are",
};

/** The list values of a repeatable string option. */
export function stringValues(v: ParsedArgs["values"][string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
}

/** Registry client options from the command line and environment: Docker credentials and the insecure-registry list. */
export function registryClientOptions(args: ParsedArgs, io: CliIo): Omit<RegistryClientOptions, "host"> {
  return {
    credentials: new DockerConfigCredentials({ env: io.env, signal: io.signal }),
    insecureRegistries: insecureRegistriesFrom({ flags: stringValues(args.values["insecure-registry"]), env: io.env }),
  };
}

/** The single positional argument a command needs, or a usage error. */
export function onePositional(args: ParsedArgs, command: Pick<Command, "name" | "usage">, what: string): string {
  const [first, ...rest] = args.positionals;
  if (first === undefined || rest.length > 0) {
    throw new BuildError("CLI_USAGE", `tsbuild ${command.name} requires exactly one ${what}`, { hint: `usage: ${command.usage}` });
  }
  return first;
}

/**
 * `tsbuild pull`: downloads an image (the host's platform from a
 * multi-platform image, or `--platform`) into the local store, and prints
 * `Digest:` and `Status:` lines as Docker does.
 */
export const pullCommand: Command = {
  name: "pull",
  summary: "Download an image from a registry into the local store",
  usage: "tsbuild pull [--platform os/arch[/variant]] [--root DIR] [--insecure-registry HOST]... [-q] NAME[:TAG|@DIGEST]",
  options: {
    platform: { type: "string" },
    quiet: { type: "boolean", short: "q" },
    ...REGISTRY_COMMAND_OPTIONS,
  },
  help: {
    platform: "Platform to pull from a multi-platform image (default: this machine's, e.g. linux/amd64)",
    quiet: "Print only the image name, no progress",
    ...REGISTRY_COMMAND_HELP,
  },
  async run(args, io) {
    const ref = onePositional(args, pullCommand, "image reference");
    const platform = args.values["platform"];
    const quiet = args.values["quiet"] === true;
    const store = await openCliStore(args, io);
    // Loaded on use: every command module is imported at start-up, and the
    // transfer code brings undici with it.
    const { pullImage } = await import("../../image/pull.js");
    const renderer = createTransferRenderer({ io, verb: "pull", quiet });
    let result;
    try {
      result = await pullImage({
        ref,
        platform: typeof platform === "string" ? platform : undefined,
        store,
        clientOptions: registryClientOptions(args, io),
        onProgress: renderer.onProgress,
        signal: io.signal,
      });
    } finally {
      renderer.stop();
    }
    if (quiet) {
      io.out(`${result.name.toString()}\n`);
      return 0;
    }
    for (const w of result.warnings) io.err(`WARNING: ${w}\n`);
    io.out(`Digest: ${result.digest}\n`);
    io.out(
      result.status === "up-to-date"
        ? `Status: Image is up to date for ${result.name.familiar()}\n`
        : `Status: Downloaded newer image for ${result.name.familiar()}\n`,
    );
    io.out(`${result.name.toString()}\n`);
    return 0;
  },
};
