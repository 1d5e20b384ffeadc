import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { BuildError } from "../../diagnostics/build-error.js";
import { loadImageArchive } from "../../image/load.js";
import type { Command } from "../command.js";
import { binaryStdin, expectPositionals, openCliStore, stringOption, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild load [-i FILE] [--root DIR]";

function errnoText(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return undefined;
  return code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : code;
}

/** Opens `-i FILE`, reporting a missing or unreadable file as IO_READ before anything is read. */
async function openInput(path: string): Promise<Readable> {
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  } catch (err) {
    throw new BuildError("IO_READ", `cannot read ${path}: ${errnoText(err) ?? String(err)}`, { cause: err });
  }
  return createReadStream(path);
}

/**
 * `tsbuild load`: imports an archive written by `tsbuild save`, `docker
 * save` or skopeo (OCI layout or Docker format, plain or gzip), printing
 * `Loaded image: NAME` for every name recorded, as Docker.
 */
export const loadCommand: Command = {
  name: "load",
  summary: "Load images from a tar archive (OCI layout or Docker's format) into the local store",
  usage: USAGE,
  options: { input: { type: "string", short: "i" }, ...STORE_OPTIONS },
  help: {
    input: "Read from this file instead of standard input (- is standard input)",
    ...STORE_OPTIONS_HELP,
  },
  async run(args, io) {
    expectPositionals(args, USAGE, 0);
    const input = stringOption(args, "input");
    let source: Readable;
    let label = "standard input";
    if (input === undefined || input === "-") {
      const stdin = binaryStdin(io);
      if (stdin.isTTY) {
        throw new BuildError("CLI_USAGE", "requested load from stdin, but stdin is a terminal", { hint: "use -i FILE, or redirect: tsbuild load < image.tar" });
      }
      source = stdin.stream;
    } else {
      label = resolve(io.cwd, input);
      source = await openInput(label);
    }
    const store = await openCliStore(args, io);
    try {
      const loaded = await loadImageArchive(store, source, { signal: io.signal });
      io.out(loaded.map((l) => `Loaded image: ${l.name.familiar()}\n`).join(""));
    } catch (err) {
      const text = err instanceof BuildError ? undefined : errnoText(err);
      if (text !== undefined) throw new BuildError("IO_READ", `cannot read ${label}: ${text}`, { cause: err });
      throw err;
    } finally {
      if (source !== binaryStdin(io).stream) source.destroy();
    }
    return 0;
  },
};
