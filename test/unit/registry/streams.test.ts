import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, test } from "vitest";
import type { Digest } from "../../../src/oci/digest.js";
import { readChunks } from "../../../src/registry/upload.js";
import { verifyingStream } from "../../../src/registry/verify.js";

const sha256 = (b: Buffer): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("verifyingStream", () => {
  const data = randomBytes(10_000);

  test("passes matching content through", async () => {
    const out = await buffer(verifyingStream(Readable.from([data.subarray(0, 3000), data.subarray(3000)]), { digest: sha256(data), size: data.length }));
    expect(out.equals(data)).toBe(true);
  });

  test("fails on a digest mismatch at the end", async () => {
    await expect(buffer(verifyingStream(Readable.from([data]), { digest: sha256(Buffer.from("x")), what: "blob X" }))).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining("blob X does not match its digest"),
    });
  });

  test("fails on short and long content", async () => {
    await expect(buffer(verifyingStream(Readable.from([data]), { digest: sha256(data), size: data.length + 1 }))).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    await expect(buffer(verifyingStream(Readable.from([data]), { digest: sha256(data), size: 10 }))).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining("larger than its declared size"),
    });
  });

  test("propagates source errors", async () => {
    const failing = new Readable({ read() { this.destroy(new Error("boom")); } });
    await expect(buffer(verifyingStream(failing, { digest: sha256(data) }))).rejects.toThrow("boom");
  });
});

describe("readChunks", () => {
  test("re-chunks a stream into fixed-size buffers", async () => {
    const data = randomBytes(2500);
    const pieces = [data.subarray(0, 7), data.subarray(7, 1800), data.subarray(1800)];
    const chunks: Buffer[] = [];
    for await (const c of readChunks(Readable.from(pieces), 1000)) chunks.push(Buffer.from(c));
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  test("yielded buffers are not overwritten by later reads", async () => {
    const data = randomBytes(3000);
    const held: Buffer[] = [];
    for await (const c of readChunks(Readable.from([data]), 1000)) held.push(c);
    expect(Buffer.concat(held).equals(data)).toBe(true);
  });

  test("empty input yields nothing", async () => {
    const chunks: Buffer[] = [];
    for await (const c of readChunks(Readable.from([]), 10)) chunks.push(c);
    expect(chunks).toEqual([]);
  });
});
