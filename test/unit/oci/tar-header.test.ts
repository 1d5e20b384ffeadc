import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeHeader, headerChecksums, TarFormatError } from "../../../src/oci/layer/tar-format.js";

/** The definition: every byte summed, unsigned and signed, the checksum field read as spaces. */
function naive(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  return { unsigned, signed };
}

describe("headerChecksums", () => {
  it("equals the byte-by-byte sums on aligned and unaligned blocks, extremes included", () => {
    const blocks = [Buffer.alloc(512), Buffer.alloc(512, 0xff), Buffer.alloc(512, 0x80), Buffer.alloc(512, 0x7f)];
    for (let i = 0; i < 200; i++) blocks.push(randomBytes(512));
    for (const block of blocks) {
      expect(headerChecksums(block)).toEqual(naive(block));
      // The same bytes at an odd offset take the byte loop.
      const shifted = Buffer.alloc(513);
      block.copy(shifted, 1);
      const unaligned = shifted.subarray(1);
      expect(unaligned.byteOffset % 4).not.toBe(0);
      expect(headerChecksums(unaligned)).toEqual(naive(block));
    }
  });
});

/** A ustar header with the given raw fields, its checksum filled in (octal, as GNU tar writes it). */
function header(fields: { name?: string; prefix?: string; mode?: string; size?: Buffer | string; uname?: string; linkname?: string; typeflag?: string }): Buffer {
  const b = Buffer.alloc(512);
  b.write(fields.name ?? "file", 0, "utf8");
  b.write(fields.mode ?? "0000644\0", 100, "latin1");
  b.write("0000000\0", 108, "latin1");
  b.write("0000000\0", 116, "latin1");
  if (Buffer.isBuffer(fields.size)) fields.size.copy(b, 124);
  else b.write(fields.size ?? "00000000012\0", 124, "latin1");
  b.write("14741457335\0", 136, "latin1");
  b.write(fields.typeflag ?? "0", 156, "latin1");
  b.write(fields.linkname ?? "", 157, "utf8");
  b.write("ustar\0" + "00", 257, "latin1");
  b.write(fields.uname ?? "", 265, "utf8");
  b.write(fields.prefix ?? "", 345, "utf8");
  const { unsigned } = headerChecksums(b);
  b.write(`${unsigned.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

describe("decodeHeader", () => {
  it("reads octal fields padded with spaces or NULs on either side, names with their ustar prefix", () => {
    const h = decodeHeader(header({ name: "name.txt", prefix: "some/dir", mode: " 755 \0\0\0", uname: "jürgen", linkname: "target" }));
    expect(h.name.toString()).toBe("some/dir/name.txt");
    expect(h.mode).toBe(0o755);
    expect(h.size).toBe(0o12);
    expect(h.mtime).toBe(0o14741457335);
    expect(h.uname).toBe("jürgen");
    expect(h.gname).toBe("");
    expect(h.linkname.toString()).toBe("target");
  });

  it("reads GNU base-256 sizes and refuses negative or oversized ones", () => {
    const size = Buffer.alloc(12);
    size[0] = 0x80;
    size.writeUIntBE(2 ** 40 + 5, 6, 6);
    expect(decodeHeader(header({ size })).size).toBe(2 ** 40 + 5);
    expect(() => decodeHeader(header({ size: Buffer.alloc(12, 0xff) }))).toThrow("negative size in tar header");
    const huge = Buffer.alloc(12, 0x7f);
    huge[0] = 0x80;
    expect(() => decodeHeader(header({ size: huge }))).toThrow("size too large in tar header");
  });

  it("names a field that is not octal, and refuses a wrong checksum", () => {
    expect(() => decodeHeader(header({ mode: "0006x4\0" }))).toThrow(new TarFormatError('invalid mode field "0006x4" in tar header'));
    expect(() => decodeHeader(header({ mode: "12\u0000 34\0" }))).toThrow(/invalid mode field/);
    const bad = header({});
    bad[0] = bad[0]! ^ 1;
    expect(() => decodeHeader(bad)).toThrow(/checksum mismatch/);
  });
});

