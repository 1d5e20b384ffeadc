/**
 * Writing the outer tar of an image archive (the one `docker save` makes):
 * directories, small files from memory, and blobs streamed from the store
 * without holding them in memory.
 *
 * Headers come from the layer code's ustar/PAX encoder, which writes
 * deterministic headers (fixed owner, mode and time here) and switches to
 * PAX or base-256 for long names and sizes above 8 GiB, as Go's
 * archive/tar does. Output is an async generator of chunks, so the consumer
 * (a file or stdout, through `stream.pipeline`) drives the pace: a blob is
 * read only as fast as the output is written.
 */
import { BuildError } from "../diagnostics/build-error.js";
import { END_OF_ARCHIVE, TypeFlag, encodeHeader, padding } from "../oci/layer/tar-format.js";
import { throwIfAborted } from "../store/abort.js";

/** One member of an archive. */
export type ArchiveMember =
  | {
      /** A directory; `name` ends with `/`. */
      readonly kind: "directory";
      readonly name: string;
    }
  | {
      /** A small file whose bytes are in memory. */
      readonly kind: "bytes";
      readonly name: string;
      readonly data: Uint8Array;
    }
  | {
      /** A file streamed from elsewhere; it must yield exactly `size` bytes. */
      readonly kind: "stream";
      readonly name: string;
      readonly size: number;
      /** Opens the content when the member is reached (so only one is open at a time). */
      readonly open: () => Promise<AsyncIterable<Uint8Array>>;
    };

/** Options for {@link tarArchive}. */
export interface TarArchiveOptions {
  /** Modification time of every member, in seconds. Default 0 (reproducible archives). */
  readonly mtime?: number | undefined;
  /** Stops between chunks with ABORTED. */
  readonly signal?: AbortSignal | undefined;
}

function header(name: string, typeflag: string, size: number, mtime: number): Buffer {
  return encodeHeader({
    name,
    mode: typeflag === TypeFlag.Directory ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime,
    typeflag,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
}

/**
 * The bytes of a tar archive holding `members`, in order, ended by the
 * end-of-archive marker.
 *
 * @throws BuildError INTERNAL when a streamed member yields more or fewer
 *   bytes than its size; whatever its source throws (e.g. STORE_CORRUPT).
 */
export async function* tarArchive(members: Iterable<ArchiveMember> | AsyncIterable<ArchiveMember>, options: TarArchiveOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const mtime = options.mtime ?? 0;
  const signal = options.signal;
  for await (const member of members) {
    throwIfAborted(signal, "writing the image archive");
    if (member.kind === "directory") {
      yield header(member.name, TypeFlag.Directory, 0, mtime);
      continue;
    }
    if (member.kind === "bytes") {
      const data = Buffer.from(member.data.buffer, member.data.byteOffset, member.data.byteLength);
      yield Buffer.concat([header(member.name, TypeFlag.File, data.length, mtime), data, Buffer.alloc(padding(data.length))]);
      continue;
    }
    yield header(member.name, TypeFlag.File, member.size, mtime);
    let written = 0;
    for await (const chunk of await member.open()) {
      throwIfAborted(signal, "writing the image archive");
      written += chunk.byteLength;
      if (written > member.size) break;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    if (written !== member.size) {
      throw new BuildError("INTERNAL", `archive member ${member.name} has ${written > member.size ? "more" : "fewer"} bytes than its size ${member.size}`);
    }
    yield Buffer.alloc(padding(member.size));
  }
  yield END_OF_ARCHIVE;
}
