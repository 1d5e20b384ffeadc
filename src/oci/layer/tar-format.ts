/**
 * Byte-level tar (ustar + PAX) encoding and decoding.
 *
 * Why not tar-stream's header code: tar-stream 3 reads and writes PAX values
 * as UTF-8 strings, so binary extended attributes such as
 * `security.capability` (which contain bytes >= 0x80) are corrupted; it also
 * replaces mode 0 by 0644/0755 and cannot write uids above 262143. Layers
 * must keep all three exactly, so the few header routines live here.
 * Format reference: POSIX pax(1) "ustar Interchange Format" and "pax Header
 * Block"; numeric fields may use the GNU base-256 form, as Go's archive/tar
 * (which writes most image layers in the wild) does.
 */

/** Size of a tar block. */
export const BLOCK_SIZE = 512;

/** Tar type flags used by layers. */
export const TypeFlag = {
  /** Regular file. */
  File: "0",
  /** Regular file, pre-POSIX (NUL type byte). */
  OldFile: "\0",
  /** Hard link to an earlier member. */
  Link: "1",
  /** Symbolic link. */
  Symlink: "2",
  /** Character device. */
  Char: "3",
  /** Block device. */
  Block: "4",
  /** Directory. */
  Directory: "5",
  /** FIFO. */
  Fifo: "6",
  /** Contiguous file (treated as a regular file). */
  Contiguous: "7",
  /** PAX extended header for the next member. */
  PaxHeader: "x",
  /** PAX global extended header. */
  PaxGlobal: "g",
  /** GNU long name for the next member. */
  GnuLongName: "L",
  /** GNU long link name for the next member. */
  GnuLongLink: "K",
} as const;

/** The ustar header fields tsbuild writes. */
export interface UstarFields {
  /** Member name (directories carry their trailing `/`). */
  name: string;
  /** Permission bits (`& 0o7777`). */
  mode: number;
  /** Numeric owner. */
  uid: number;
  /** Numeric group. */
  gid: number;
  /** Data size. */
  size: number;
  /** Modification time in whole seconds. */
  mtime: number;
  /** One of {@link TypeFlag}. */
  typeflag: string;
  /** Link target (symlink or hard link). */
  linkname: string;
  /** Device major. */
  devmajor: number;
  /** Device minor. */
  devminor: number;
}

const USTAR_MAGIC = Buffer.from("ustar\u000000", "latin1");
const MAX_OCTAL_UIDGID = 0o7777777; // 7 digits + NUL in an 8-byte field

function isAscii(s: string): boolean {
  return /^[\u0001-\u007f]*$/.test(s);
}

/** Writes `value` in an 8- or 12-byte numeric field: octal when it fits, base-256 otherwise. */
function putNumeric(buf: Buffer, offset: number, length: number, value: number): void {
  const octal = Math.max(0, Math.floor(value)).toString(8);
  if (octal.length <= length - 1) {
    buf.write(octal.padStart(length - 1, "0"), offset, "latin1");
    buf[offset + length - 1] = 0;
    return;
  }
  // GNU base-256: high bit of the first byte set, big-endian value after it.
  let v = BigInt(Math.floor(value));
  for (let i = length - 1; i > 0; i--) {
    buf[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[offset] = 0x80;
}

/**
 * Splits a long ASCII name into ustar prefix (<= 155 bytes) and name
 * (<= 100 bytes) at a `/`, or returns undefined when it cannot be split.
 */
function splitUstarName(name: string): [prefix: string, name: string] | undefined {
  if (name.length <= 100) return ["", name];
  // Take the last slash whose left part fits in 155 bytes; the right part
  // must then be non-empty and fit in 100 (directories end with "/", so
  // their last slash is skipped).
  for (let i = Math.min(name.length - 1, 155); i > 0; i--) {
    if (name[i] !== "/") continue;
    const rest = name.slice(i + 1);
    if (rest.length > 0 && rest.length <= 100) return [name.slice(0, i), rest];
    if (rest.length > 100) return undefined;
  }
  return undefined;
}

/**
 * Encodes one member header as ustar, preceded by a PAX header when some
 * field does not fit ustar (non-ASCII or long names, big uids) or when
 * `xattrs` are given. Deterministic: PAX records are sorted by key, and the
 * PAX header's own fields are fixed (Go's `PaxHeaders.0` naming).
 */
export function encodeHeader(fields: UstarFields, xattrs?: ReadonlyMap<string, Buffer>): Buffer {
  const pax = new Map<string, Buffer>();
  let name = fields.name;
  let prefix = "";
  const split = isAscii(name) ? splitUstarName(name) : undefined;
  if (split === undefined) {
    pax.set("path", Buffer.from(fields.name, "utf8"));
    name = asciiPlaceholder(fields.name, 100);
  } else {
    [prefix, name] = split;
  }
  let linkname = fields.linkname;
  if (!isAscii(linkname) || linkname.length > 100) {
    pax.set("linkpath", Buffer.from(linkname, "utf8"));
    linkname = asciiPlaceholder(linkname, 100);
  }
  // Big ids go to PAX for strict POSIX readers; the ustar field then holds base-256.
  if (fields.uid > MAX_OCTAL_UIDGID) pax.set("uid", Buffer.from(String(fields.uid)));
  if (fields.gid > MAX_OCTAL_UIDGID) pax.set("gid", Buffer.from(String(fields.gid)));
  if (xattrs !== undefined) {
    for (const [key, value] of xattrs) pax.set(`SCHILY.xattr.${key}`, value);
  }

  const header = ustarBlock({ ...fields, name, linkname }, prefix);
  if (pax.size === 0) return header;

  const body = encodePaxRecords(pax);
  const paxName = asciiPlaceholder(paxHeaderName(fields.name), 100);
  const paxHeader = ustarBlock(
    {
      name: paxName,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: 0,
      typeflag: TypeFlag.PaxHeader,
      linkname: "",
      devmajor: 0,
      devminor: 0,
    },
    "",
  );
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), header]);
}

/** The name Go's archive/tar gives a PAX header: `dir/PaxHeaders.0/base`. */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf("/");
  return slash < 0 ? `PaxHeaders.0/${trimmed}` : `${trimmed.slice(0, slash)}/PaxHeaders.0/${trimmed.slice(slash + 1)}`;
}

/** Replaces non-ASCII characters by `_` and truncates, for the ustar field shadowed by a PAX record. */
function asciiPlaceholder(s: string, max: number): string {
  return s.replace(/[^\u0001-\u007f]/g, "_").slice(0, max);
}

function ustarBlock(fields: UstarFields, prefix: string): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  buf.write(fields.name, 0, 100, "latin1");
  putNumeric(buf, 100, 8, fields.mode & 0o7777);
  putNumeric(buf, 108, 8, fields.uid);
  putNumeric(buf, 116, 8, fields.gid);
  putNumeric(buf, 124, 12, fields.size);
  putNumeric(buf, 136, 12, fields.mtime);
  buf.write(fields.typeflag, 156, 1, "latin1");
  buf.write(fields.linkname, 157, 100, "latin1");
  USTAR_MAGIC.copy(buf, 257);
  // uname (265) and gname (297) stay empty: ids are numeric and reproducible.
  putNumeric(buf, 329, 8, fields.devmajor);
  putNumeric(buf, 337, 8, fields.devminor);
  if (prefix !== "") buf.write(prefix, 345, 155, "latin1");
  // Checksum: sum of all bytes with the checksum field as spaces; written as
  // 6 octal digits, NUL, space (the traditional layout, as Go writes it).
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, "0"), 148, 6, "latin1");
  buf[154] = 0;
  buf[155] = 0x20;
  return buf;
}

/**
 * Encodes PAX records (`"<len> <key>=<value>\n"`), sorted by key, with raw
 * byte values. The length prefix counts itself, hence the fix-point loop.
 */
export function encodePaxRecords(records: ReadonlyMap<string, Buffer>): Buffer {
  const keys = [...records.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [];
  for (const key of keys) {
    const value = records.get(key)!;
    const rest = Buffer.byteLength(key, "utf8") + value.length + 3; // ' ' '=' '\n'
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`, "utf8"), value, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** Bytes of zero padding after `size` bytes of data, to the next block. */
export function padding(size: number): number {
  const rem = size % BLOCK_SIZE;
  return rem === 0 ? 0 : BLOCK_SIZE - rem;
}

/** The end-of-archive marker: two zero blocks (what Go writes; no record padding). */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

// ---------------------------------------------------------------------------
// Decoding

/** Raised for bytes that are not a well-formed tar stream. */
export class TarFormatError extends Error {
  /** @param message what is wrong with the bytes. */
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

/** A header block as read, before PAX / GNU overrides are applied. */
export interface RawHeader {
  /** Member name bytes (prefix joined for ustar). */
  name: Buffer;
  /** Mode field, including any type bits the writer put there. */
  mode: number;
  /** Numeric owner. */
  uid: number;
  /** Numeric group. */
  gid: number;
  /** Data size field. */
  size: number;
  /** Modification time, seconds. */
  mtime: number;
  /** Type flag character. */
  typeflag: string;
  /** Link name bytes. */
  linkname: Buffer;
  /** Owner name. */
  uname: string;
  /** Group name. */
  gname: string;
  /** Device major. */
  devmajor: number;
  /** Device minor. */
  devminor: number;
}

/**
 * A NUL-terminated field. The NUL is found with a plain loop: fields are
 * short, and `Buffer#indexOf` (a native call on a fresh subarray) was most
 * of a header's decoding time in a process that decodes a few hundred.
 */
function cstr(buf: Buffer, offset: number, length: number): Buffer {
  return buf.subarray(offset, cstrEnd(buf, offset, length));
}

/** {@link cstr} as UTF-8 text, without the intermediate subarray. */
function cstrText(buf: Buffer, offset: number, length: number): string {
  const end = cstrEnd(buf, offset, length);
  return end === offset ? "" : buf.toString("utf8", offset, end);
}

function cstrEnd(buf: Buffer, offset: number, length: number): number {
  let end = offset;
  const limit = offset + length;
  while (end < limit && buf[end] !== 0) end++;
  return end;
}

/**
 * A numeric header field: octal text padded with spaces or NULs on either
 * side, or GNU's base-256 form (high bit set). Read from the bytes in place:
 * the string and regular-expression version cost ~2 µs per field, nine
 * fields per header, before V8 optimised it.
 */
function parseNumeric(buf: Buffer, offset: number, length: number, what: string): number {
  const first = buf[offset]!;
  if ((first & 0x80) !== 0) {
    if (first === 0xff) throw new TarFormatError(`negative ${what} in tar header`);
    let v = BigInt(first & 0x7f);
    for (let i = offset + 1; i < offset + length; i++) v = (v << 8n) | BigInt(buf[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${what} too large in tar header`);
    return Number(v);
  }
  let start = offset;
  let end = offset + length;
  while (start < end && (buf[start] === 0x20 || buf[start] === 0)) start++;
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0)) end--;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`invalid ${what} field "${buf.toString("latin1", start, end)}" in tar header`);
    // At most 12 octal digits (2^36): exact in a double.
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/** True when the block is all zeros (end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one 512-byte header block, verifying its checksum. */
export function decodeHeader(block: Buffer): RawHeader {
  const { unsigned, signed } = headerChecksums(block);
  const stored = parseNumeric(block, 148, 8, "checksum");
  // Some old writers summed signed bytes; Go and GNU tar accept both.
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError("tar header checksum mismatch (corrupt or not a tar stream)");
  }
  const magic = block.subarray(257, 263).toString("latin1");
  let name = cstr(block, 0, 100);
  if (magic === "ustar\0") {
    const prefix = cstr(block, 345, 155);
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from("/"), name]);
  }
  const flagByte = block[156]!;
  return {
    name,
    mode: parseNumeric(block, 100, 8, "mode"),
    uid: parseNumeric(block, 108, 8, "uid"),
    gid: parseNumeric(block, 116, 8, "gid"),
    size: parseNumeric(block, 124, 12, "size"),
    mtime: parseNumeric(block, 136, 12, "mtime"),
    typeflag: String.fromCharCode(flagByte),
    linkname: cstr(block, 157, 100),
    uname: cstrText(block, 265, 32),
    gname: cstrText(block, 297, 32),
    devmajor: parseNumeric(block, 329, 8, "devmajor"),
    devminor: parseNumeric(block, 337, 8, "devminor"),
  };
}

/**
 * The two checksums a header may carry: the sum of its 512 bytes as
 * unsigned and as signed values, the checksum field (bytes 148-155)
 * counted as spaces.
 *
 * Why word by word: a byte loop ran ~35 µs per header, mostly in the
 * interpreter (an image pull decodes a few hundred headers, once each,
 * before V8 optimises anything): ~10 ms of extracting a busybox layer.
 * Reading 32-bit words, two bytes are summed per 16-bit lane (128 words
 * × 510 fit a lane), and the bytes of 0x80 or more are counted per 8-bit
 * lane; the signed sum is the unsigned one minus 256 per such byte.
 */
export function headerChecksums(block: Buffer): { unsigned: number; signed: number } {
  let unsigned: number;
  let high: number;
  if (block.byteOffset % 4 === 0 && block.length >= BLOCK_SIZE) {
    const words = new Uint32Array(block.buffer, block.byteOffset, BLOCK_SIZE / 4);
    let pairs = 0;
    let highs = 0;
    for (let i = 0; i < words.length; i++) {
      const x = words[i]!;
      pairs += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
      highs += (x >>> 7) & 0x01010101;
    }
    unsigned = (pairs & 0xffff) + (pairs >>> 16);
    high = (highs & 0xff) + ((highs >>> 8) & 0xff) + ((highs >>> 16) & 0xff) + (highs >>> 24);
  } else {
    unsigned = 0;
    high = 0;
    for (let i = 0; i < BLOCK_SIZE; i++) {
      const b = block[i]!;
      unsigned += b;
      if (b >= 0x80) high++;
    }
  }
  // The checksum field itself counts as eight spaces.
  for (let i = 148; i < 156; i++) {
    const b = block[i]!;
    unsigned -= b;
    if (b >= 0x80) high--;
  }
  unsigned += 8 * 0x20;
  return { unsigned, signed: unsigned - 256 * high };
}

/**
 * Parses PAX records with raw byte values (xattr values are binary).
 * Later duplicates win, as in Go's archive/tar.
 */
export function decodePaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // Trailing NUL padding is tolerated (some writers pad the PAX body).
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw new TarFormatError("malformed PAX record length");
    const lenText = data.subarray(pos, space).toString("latin1");
    if (!/^[0-9]+$/.test(lenText)) throw new TarFormatError("malformed PAX record length");
    const len = parseInt(lenText, 10);
    const end = pos + len;
    if (len <= space - pos + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw new TarFormatError("malformed PAX record");
    }
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError("malformed PAX record (no key)");
    out.set(record.subarray(0, eq).toString("utf8"), Buffer.from(record.subarray(eq + 1)));
    pos = end;
  }
  return out;
}
