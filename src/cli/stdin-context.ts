/**
 * `tsbuild build -`: the build context, or the Dockerfile, on standard
 * input, as `docker build -` takes them (the Docker CLI's
 * `DetectArchiveReader`):
 *
 * - a tar archive (plain, gzip, bzip2, xz or zstd, told apart by content)
 *   is the context: it is unpacked into a temporary directory, and the
 *   Dockerfile is `-f` inside it (default `Dockerfile`);
 * - anything else is the Dockerfile itself, with an empty context (so COPY
 *   has nothing to copy).
 *
 * The archive is unpacked with ADD's extraction rules (`copy/archive.ts`):
 * no entry can land outside the directory.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { extractArchive, isArchive } from "../copy/archive.js";
import type { CliIo } from "./command.js";

/** A context read from standard input. */
export interface StdinContext {
  /** The temporary context directory (empty when standard input was a Dockerfile). */
  readonly dir: string;
  /** The Dockerfile's text when standard input was one; undefined for an archive (its Dockerfile is in `dir`). */
  readonly dockerfile?: string;
  /** Removes the temporary directory. Never throws. */
  dispose(): Promise<void>;
}

/**
 * Reads standard input as a context archive or a Dockerfile (see the
 * module comment).
 *
 * @throws BuildError CLI_USAGE when `-f -` also asks for standard input, or
 *   `-f` names a file while standard input is a Dockerfile;
 *   ADD_ARCHIVE_INVALID for a damaged archive.
 */
export async function readStdinContext(io: CliIo, fileArg: string | undefined): Promise<StdinContext> {
  if (fileArg === "-") throw new BuildError("CLI_USAGE", "invalid argument: can't use stdin for both build context and dockerfile");
  const work = await mkdtemp(join(tmpdir(), "tsbuild-stdin-"));
  const dispose = (): Promise<void> => rm(work, { recursive: true, force: true }).catch(() => undefined);
  try {
    const input = await io.readStdin();
    const dir = join(work, "context");
    await mkdir(dir);
    const archive = join(work, "input");
    await writeFile(archive, input);
    if (await isArchive(archive)) {
      await extractArchive(archive, dir, { signal: io.signal });
      await rm(archive, { force: true });
      return { dir, dispose };
    }
    if (fileArg !== undefined) {
      throw new BuildError("CLI_USAGE", `-f ${fileArg}: standard input holds a Dockerfile, not a context archive`, {
        hint: "drop -f, or send a tar archive of the context on standard input",
      });
    }
    await rm(archive, { force: true });
    return { dir, dockerfile: input.toString("utf8"), dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
