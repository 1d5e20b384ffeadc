import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { OffThreadHash } from "../../../src/oci/layer/off-thread-hash.js";
import { writeLayer } from "../../../src/oci/layer/writer.js";

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("OffThreadHash", () => {
  it("gives the same digest as an inline SHA-256, whatever the chunking (empty, partial, exact and multiple batches)", async () => {
    const data = randomBytes(3 * (1 << 20) + 12345);
    for (const sizes of [[0], [1], [1 << 20], [65_536, 1 << 20, 7], [3 * (1 << 20) + 12345]]) {
      const hash = new OffThreadHash();
      let offset = 0;
      const parts: Buffer[] = [];
      for (const size of sizes) {
        const part = data.subarray(offset, offset + size);
        parts.push(part);
        await hash.update(part);
        offset += size;
      }
      expect((await hash.digest()).sha256).toBe(sha256(Buffer.concat(parts)));
    }
  });

  it("copies what it is given: the caller may overwrite its buffer at once", async () => {
    const buf = Buffer.alloc(4096, 1);
    const hash = new OffThreadHash();
    await hash.update(buf);
    buf.fill(2);
    await hash.update(buf);
    expect((await hash.digest()).sha256).toBe(sha256(Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(4096, 2)])));
  });

  it("computes zlib's CRC-32 of the same bytes when asked, across batches", async () => {
    const data = randomBytes(2 * (1 << 20) + 777);
    const hash = new OffThreadHash({ crc32: true });
    for (let i = 0; i < data.length; i += 300_000) await hash.update(data.subarray(i, i + 300_000));
    const result = await hash.digest();
    expect(result.sha256).toBe(sha256(data));
    expect(result.crc32).toBe(crc32(data));
    expect(result.crc32).not.toBe(0);
  });

  it("hashes bytes in shared memory where they are, in order with copied parts, and says when their buffer is free again", async () => {
    const shared = Buffer.from(new SharedArrayBuffer(3 << 20));
    randomBytes(shared.length).copy(shared);
    const small = Buffer.from("header");
    const large = randomBytes((1 << 20) + 5);
    const parts = [small, shared.subarray(0, 70_000), small, shared.subarray(70_000, 2 << 20), large, shared.subarray(2 << 20), small];
    const hash = new OffThreadHash({ crc32: true });
    hash.add(parts);
    // The worker has not acknowledged yet: the shared buffer is still in use.
    expect(hash.isFree(shared.buffer)).toBe(false);
    expect(hash.isFree(new ArrayBuffer(8))).toBe(true);
    await hash.updateAll([small]);
    const result = await hash.digest();
    const all = Buffer.concat([...parts, small]);
    expect(result.sha256).toBe(sha256(all));
    expect(result.crc32).toBe(crc32(all));
    // Every message was acknowledged before the digest came back.
    expect(hash.isFree(shared.buffer)).toBe(true);
  });
});

describe("writeLayer of a big layer (compressed bytes hashed on a worker thread)", () => {
  it("gets both digests right when stored and deflated blocks alternate (shared blocks, recycled only once hashed)", async () => {
    const base = await mkdtemp(join(tmpdir(), "tsbuild-bighash-"));
    try {
      const MiB = 1 << 20;
      const text = Buffer.from("a line of text that deflate shrinks well\n".repeat(Math.ceil((3 * MiB) / 41))).subarray(0, 3 * MiB);
      const parts: Buffer[] = [];
      for (let i = 0; i < 11; i++) parts.push(randomBytes(3 * MiB), text);
      const src = join(base, "mixed");
      await writeFile(src, Buffer.concat(parts));
      const size = 66 * MiB;
      const out = join(base, "layer.tgz");
      const result = await writeLayer({ entries: [{ path: "mixed", type: "file", mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size, sourcePath: src }] }, out);
      const bytes = await readFile(out);
      expect(result.size).toBe(bytes.length);
      expect(result.digest).toBe(`sha256:${sha256(bytes)}`);
      const tar = gunzipSync(bytes);
      expect(result.diffId).toBe(`sha256:${sha256(tar)}`);
      // The text halves were deflated, the random ones stored.
      expect(bytes.length).toBeLessThan(size * 0.6);
      expect(bytes.length).toBeGreaterThan(size * 0.5);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it("reports the digest of the bytes it wrote", async () => {
    const base = await mkdtemp(join(tmpdir(), "tsbuild-bighash-"));
    try {
      // Over the 64 MiB threshold; random, so mostly stored blocks.
      const src = join(base, "big");
      await writeFile(src, randomBytes(65 << 20));
      const out = join(base, "layer.tgz");
      const result = await writeLayer({ entries: [{ path: "big", type: "file", mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: 65 << 20, sourcePath: src }] }, out);
      const bytes = await readFile(out);
      expect(result.size).toBe(bytes.length);
      expect(result.digest).toBe(`sha256:${sha256(bytes)}`);
      expect(result.diffId).not.toBe(result.digest);
      // The tar side (hashed with its CRC-32 on a second worker) matches the decompressed bytes.
      const tar = gunzipSync(bytes);
      expect(result.diffId).toBe(`sha256:${sha256(tar)}`);
      expect(result.uncompressedSize).toBe(tar.length);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
