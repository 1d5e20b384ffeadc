import {
  BLOCK_SIZE,
  TarFormatError,
  TypeFlag,
  decodeHeader,
  decodePaxRecords,
  isZeroBlock,
  padding,
} from "./tar-format.js";

/** The kind of a tar member, after PAX / GNU meta headers have been folded in. */
export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "char-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "unsupported";

/** A tar member header, with PAX and GNU long-name overrides applied. */
export interface TarHeader {
  /** Member name as written (may be absolute or contain `..`: the caller validates). */
  readonly name: string;
  /** Member kind. */
  readonly type: TarEntryType;
  /** The raw type flag character (useful in error messages for `unsupported`). */
  readonly typeflag: string;
  /** Permission bits (`& 0o7777`). */
  readonly mode: number;
  /** Numeric owner. */
  readonly uid: number;
  /** Numeric group. */
  readonly gid: number;
  /** Data size (0 for header-only types). */
  readonly size: number;
  /** Modification time in seconds (fractional when a PAX `mtime` gave it). */
  readonly mtime: number;
  /** Link target for `link` / `symlink`. */
  readonly linkname: string;
  /** Device major. */
  readonly devmajor: number;
  /** Device minor. */
  readonly devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records, raw values. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

/** One member: its header and a reader for its data (read it or let the reader skip it). */
export interface TarEntry {
  /** The header. */
  readonly header: TarHeader;
  /** The member's data, in chunks; may be consumed at most once. */
  readonly body: AsyncIterable<Buffer>;
}

/** Upper bound on PAX / GNU long-name bodies, so a hostile layer cannot make us buffer gigabytes. */
const MAX_META_SIZE = 1 << 20;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeName(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Node paths are strings: a non-UTF-8 name could not be recreated byte-exact.
    throw new TarFormatError(`${what} is not valid UTF-8 (${bytes.toString("latin1")})`);
  }
}

/**
 * Pull-based byte reader over an async iterable of chunks, so a whole layer
 * is never held in memory.
 */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private done = false;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done === true) {
      this.done = true;
      return false;
    }
    const v = r.value;
    if (v.byteLength > 0) {
      this.chunks.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      this.buffered += v.byteLength;
    }
    return true;
  }

  /** Up to `max` bytes (at least 1), or undefined at end of input. */
  async readSome(max: number): Promise<Buffer | undefined> {
    while (this.buffered === 0) {
      if (!(await this.fill())) return undefined;
    }
    const first = this.chunks[0]!;
    const avail = first.length - this.head;
    const n = Math.min(avail, max);
    const out = first.subarray(this.head, this.head + n);
    this.head += n;
    this.buffered -= n;
    if (this.head === first.length) {
      this.chunks.shift();
      this.head = 0;
    }
    return out;
  }

  /** Exactly `n` bytes; undefined when the input ended before any of them; throws when it ended in between. */
  async readExact(n: number): Promise<Buffer | undefined> {
    if (n === 0) return Buffer.alloc(0);
    while (this.buffered < n) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return undefined;
        throw new TarFormatError("unexpected end of tar stream");
      }
    }
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return (await this.readSome(n))!;
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const part = (await this.readSome(left))!;
      parts.push(part);
      left -= part.length;
    }
    return Buffer.concat(parts, n);
  }

  /** Discards `n` bytes; throws if the input ends first. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const part = await this.readSome(left);
      if (part === undefined) throw new TarFormatError("unexpected end of tar stream");
      left -= part.length;
    }
  }

  /** Stops reading: closes the underlying iterator (and the file or stream behind it). */
  async close(): Promise<void> {
    this.done = true;
    await this.it.return?.();
  }

  /** Reads and discards everything that is left. */
  async drain(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    this.head = 0;
    while (await this.fill()) {
      this.chunks.length = 0;
      this.buffered = 0;
    }
  }
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case TypeFlag.File:
    case TypeFlag.OldFile:
    case TypeFlag.Contiguous:
      return "file";
    case TypeFlag.Link:
      return "link";
    case TypeFlag.Symlink:
      return "symlink";
    case TypeFlag.Char:
      return "char-device";
    case TypeFlag.Block:
      return "block-device";
    case TypeFlag.Directory:
      return "directory";
    case TypeFlag.Fifo:
      return "fifo";
    default:
      return "unsupported";
  }
}

function paxNumber(pax: Map<string, Buffer>, key: string, fallback: number, fractional = false): number {
  const v = pax.get(key);
  if (v === undefined) return fallback;
  const text = v.toString("latin1");
  const re = fractional ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!re.test(text)) throw new TarFormatError(`invalid PAX ${key} "${text}"`);
  const n = Number(text);
  if (!Number.isFinite(n) || (!fractional && !Number.isSafeInteger(n))) {
    throw new TarFormatError(`invalid PAX ${key} "${text}"`);
  }
  return n;
}

/**
 * Reads a tar stream member by member. Follows Go's archive/tar (the writer
 * of most image layers) where readers differ: header-only types (links,
 * devices, directories, fifos) carry no data whatever their size field says,
 * PAX records override ustar fields, global PAX headers are ignored (as
 * Docker and containerd do), and GNU sparse files are refused. After the
 * end-of-archive marker the rest of the input is read and discarded, so a
 * digest computed over the input covers every byte.
 *
 * Throws {@link TarFormatError} on malformed input.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry, void, undefined> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  try {
    yield* members(reader);
  } finally {
    // Also on early exit (the consumer refused a member): release the input.
    await reader.close();
  }
}

async function* members(reader: ByteReader): AsyncGenerator<TarEntry, void, undefined> {
  let pax: Map<string, Buffer> | undefined;
  let longName: Buffer | undefined;
  let longLink: Buffer | undefined;

  for (;;) {
    const block = await reader.readExact(BLOCK_SIZE);
    if (block === undefined) {
      // Go accepts a stream that ends without the end-of-archive marker only
      // when nothing is pending; so do we.
      if (pax !== undefined || longName !== undefined || longLink !== undefined) {
        throw new TarFormatError("tar stream ends after a meta header");
      }
      return;
    }
    if (isZeroBlock(block)) {
      await reader.drain();
      return;
    }
    const raw = decodeHeader(block);

    if (
      raw.typeflag === TypeFlag.PaxHeader ||
      raw.typeflag === TypeFlag.PaxGlobal ||
      raw.typeflag === TypeFlag.GnuLongName ||
      raw.typeflag === TypeFlag.GnuLongLink
    ) {
      if (raw.size > MAX_META_SIZE) throw new TarFormatError(`tar meta header of ${raw.size} bytes is too large`);
      const data = (await reader.readExact(raw.size)) ?? Buffer.alloc(0);
      if (data.length !== raw.size) throw new TarFormatError("unexpected end of tar stream");
      await reader.skip(padding(raw.size));
      if (raw.typeflag === TypeFlag.PaxHeader) {
        pax = new Map([...(pax ?? []), ...decodePaxRecords(data)]);
      } else if (raw.typeflag === TypeFlag.GnuLongName) {
        longName = cstrOf(data);
      } else if (raw.typeflag === TypeFlag.GnuLongLink) {
        longLink = cstrOf(data);
      }
      // PaxGlobal: ignored on purpose (see above).
      continue;
    }

    const records = pax ?? new Map<string, Buffer>();
    pax = undefined;
    for (const key of records.keys()) {
      if (key.startsWith("GNU.sparse.")) throw new TarFormatError("GNU sparse files are not supported");
    }
    const nameBytes = records.get("path") ?? longName ?? raw.name;
    // Pre-POSIX archives mark directories by a trailing slash on a NUL-type
    // member (Go does the same conversion).
    const type =
      raw.typeflag === TypeFlag.OldFile && nameBytes[nameBytes.length - 1] === 0x2f
        ? "directory"
        : entryType(raw.typeflag);
    const linkBytes = records.get("linkpath") ?? longLink ?? raw.linkname;
    longName = undefined;
    longLink = undefined;

    const headerOnly = type !== "file" && type !== "unsupported";
    const dataSize = headerOnly ? 0 : paxNumber(records, "size", raw.size);
    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of records) {
      if (key.startsWith("SCHILY.xattr.")) xattrs.set(key.slice("SCHILY.xattr.".length), value);
    }
    const header: TarHeader = {
      name: decodeName(nameBytes, "tar member name"),
      type,
      typeflag: raw.typeflag,
      mode: raw.mode & 0o7777,
      uid: paxNumber(records, "uid", raw.uid),
      gid: paxNumber(records, "gid", raw.gid),
      size: dataSize,
      mtime: paxNumber(records, "mtime", raw.mtime, true),
      linkname: decodeName(linkBytes, "tar link name"),
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs,
    };

    let remaining = dataSize;
    let started = false;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: async function* () {
        if (started) throw new TarFormatError("tar member body read twice");
        started = true;
        while (remaining > 0) {
          const part = await reader.readSome(Math.min(remaining, 1 << 20));
          if (part === undefined) throw new TarFormatError("unexpected end of tar stream");
          remaining -= part.length;
          yield part;
        }
      },
    };
    yield { header, body };
    // Skip whatever the consumer did not read, then the block padding.
    await reader.skip(remaining);
    remaining = 0;
    await reader.skip(padding(dataSize));
  }
}

function cstrOf(data: Buffer): Buffer {
  const nul = data.indexOf(0);
  return nul < 0 ? data : data.subarray(0, nul);
}
