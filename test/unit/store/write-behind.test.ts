import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WriteBehind } from "../../../src/store/write-behind.js";

describe("WriteBehind", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-wb-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes every byte in order, starting background flushes along the way", async () => {
    const fh = await open(join(dir, "f"), "wx");
    let flushes = 0;
    const datasync = fh.datasync.bind(fh);
    fh.datasync = async () => {
      flushes++;
      return datasync();
    };
    const chunks = Array.from({ length: 80 }, () => randomBytes(1 << 20));
    const out = new WriteBehind(fh);
    for (const c of chunks) out.write(c);
    await out.settle();
    await fh.close();
    expect((await readFile(join(dir, "f"))).equals(Buffer.concat(chunks))).toBe(true);
    // 80 MiB at one flush per 32 MiB written (none started while one runs): one or two.
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(2);
  });

  it("throws the error of a background flush at settle: the final fsync might not report it again", async () => {
    const fh = await open(join(dir, "g"), "wx");
    const failure = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    fh.datasync = () => Promise.reject(failure);
    const out = new WriteBehind(fh);
    out.write(Buffer.alloc(33 << 20));
    await expect(out.settle()).rejects.toBe(failure);
    await fh.close();
  });

  it("writeAll writes many parts (more than one writev batch) in order, and counts them toward flushes", async () => {
    const fh = await open(join(dir, "v"), "wx");
    let flushes = 0;
    const datasync = fh.datasync.bind(fh);
    fh.datasync = async () => {
      flushes++;
      return datasync();
    };
    // 5-byte headers between 64 KiB slices, as stored deflate blocks come: 1,200 parts, 39 MiB.
    const parts: Buffer[] = [];
    for (let i = 0; i < 600; i++) parts.push(Buffer.from([i & 0xff, 1, 2, 3, 4]), randomBytes(65_535));
    const out = new WriteBehind(fh);
    out.writeAll(parts);
    out.writeAll([]);
    await out.settle();
    await fh.close();
    expect((await readFile(join(dir, "v"))).equals(Buffer.concat(parts))).toBe(true);
    expect(flushes).toBe(1);
  });

  it("a small write never flushes", async () => {
    const fh = await open(join(dir, "h"), "wx");
    let flushes = 0;
    fh.datasync = async () => {
      flushes++;
    };
    const out = new WriteBehind(fh);
    out.write(Buffer.from("small"));
    await out.settle();
    await fh.close();
    expect(flushes).toBe(0);
    expect(await readFile(join(dir, "h"), "utf8")).toBe("small");
  });
});
