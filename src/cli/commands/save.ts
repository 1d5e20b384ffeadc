import { resolve } from "node:path";
import { BuildError } from "../../diagnostics/build-error.js";
import { ARCHIVE_FORMATS, imageArchive, selectImagesToSave, writeArchiveFile, writeArchiveStream, type ArchiveFormat } from "../../image/save.js";
import type { Command } from "../command.js";
import { binaryStdout, expectPositionals, openCliStore, stringOption, STORE_OPTIONS, STORE_OPTIONS_HELP } from "../store-options.js";

const USAGE = "tsbuild save [-o FILE] [--format oci|docker] [--root DIR] IMAGE [IMAGE...]";

function isArchiveFormat(s: string): s is ArchiveFormat {
  return (ARCHIVE_FORMATS as readonly string[]).includes(s);
}

/**
 * `tsbuild save`: images as one tar archive, to a file (written aside and
 * renamed into place when complete) or to standard output.
 */
export const saveCommand: Command = {
  name: "save",
  summary: "Write stored images to a tar archive (OCI layout, or Docker's format)",
  usage: USAGE,
  options: {
    output: { type: "string", short: "o" },
    format: { type: "string" },
    ...STORE_OPTIONS,
  },
  help: {
    output: "Write to this file; - or no -o writes to standard output (when it is not a terminal)",
    format: "oci (default): an OCI image layout; docker: that plus manifest.json, for docker load",
    ...STORE_OPTIONS_HELP,
  },
  async run(args, io) {
    const queries = expectPositionals(args, USAGE, 1, Infinity);
    const format = stringOption(args, "format") ?? "oci";
    if (!isArchiveFormat(format)) {
      throw new BuildError("CLI_USAGE", `unsupported --format "${format}"`, { hint: `use one of: ${ARCHIVE_FORMATS.join(", ")}` });
    }
    const output = stringOption(args, "output");
    const stdout = output === undefined || output === "-" ? binaryStdout(io) : undefined;
    if (output === undefined && stdout?.isTTY === true) {
      throw new BuildError("CLI_USAGE", "cowardly refusing to save to a terminal", { hint: "use the -o flag or redirect" });
    }
    const store = await openCliStore(args, io);
    const images = await selectImagesToSave(store, queries, { signal: io.signal });
    const chunks = imageArchive(store.content, images, { format, signal: io.signal });
    if (stdout !== undefined) await writeArchiveStream(stdout.stream, chunks, { signal: io.signal });
    else await writeArchiveFile(resolve(io.cwd, output!), chunks, { signal: io.signal });
    return 0;
  },
};
