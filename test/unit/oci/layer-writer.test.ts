import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, lchown, link, lutimes, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { constants, crc32, deflateRawSync, gunzipSync } from "node:zlib";
import { getAttributeSync, setAttributeSync } from "@napi-rs/xattr";
import { extract, type Header } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import type { LayerEntry } from "../../../src/oci/layer/entry.js";
import { ParallelGzip } from "../../../src/oci/layer/gzip.js";
import { writeLayer } from "../../../src/oci/layer/writer.js";
import { extractLayer } from "../../../src/snapshot/extract.js";
import { describeTree } from "../snapshot/helpers.js";

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "tsbuild-writer-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const sh = (cmd: string): string => execFileSync("sh", ["-c", cmd]).toString();
const sha256sum = (path: string): string => `sha256:${sh(`sha256sum '${path}'`).split(" ")[0]}`;

/** A small tree exercising every entry kind; all mtimes set to `mtime` (seconds). */
async function makeTree(dir: string, mtime: number): Promise<void> {
  await mkdir(join(dir, "usr/bin"), { recursive: true });
  await mkdir(join(dir, "usr/share/doc"), { recursive: true });
  await writeFile(join(dir, "usr/bin/tool"), "#!/bin/sh\necho hi\n");
  await chmod(join(dir, "usr/bin/tool"), 0o4755);
  await link(join(dir, "usr/bin/tool"), join(dir, "usr/bin/tool-alias"));
  await symlink("tool", join(dir, "usr/bin/link"));
  await writeFile(join(dir, "usr/share/doc/" + "long-".repeat(30) + "name"), "long");
  await writeFile(join(dir, "usr/share/doc/café"), "unicode");
  await writeFile(join(dir, "a.txt"), "a");
  await mkdir(join(dir, "a"));
  await writeFile(join(dir, "a/b"), "b");
  await writeFile(join(dir, "B"), "B");
  await writeFile(join(dir, "big-uid"), "x");
  await lchown(join(dir, "big-uid"), 3_000_000, 42);
  execFileSync("setcap", ["cap_setuid,cap_net_raw+ep", join(dir, "usr/bin/tool")]);
  setAttributeSync(join(dir, "a/b"), "user.comment", Buffer.from([0xff, 0x00, 0x80]));
  setAttributeSync(join(dir, "a/b"), "trusted.overlay.origin", "not in layers");
  execFileSync("mkfifo", [join(dir, "fifo")]);
  for (const p of sh(`cd '${dir}' && find . -mindepth 1 -depth`).trim().split("\n")) {
    await lutimes(join(dir, p), mtime, mtime);
  }
}

/** Member headers of a tar, read by tar-stream (an independent parser). */
async function listTar(tar: Buffer): Promise<Header[]> {
  const x = extract();
  const headers: Header[] = [];
  const done = new Promise<void>((resolve, reject) => {
    x.on("entry", (h, stream, next) => {
      headers.push(h);
      stream.on("end", next);
      stream.resume();
    });
    x.on("finish", resolve);
    x.on("error", reject);
  });
  x.end(tar);
  await done;
  return headers;
}

describe("writeLayer", () => {
  it("is deterministic: same input, same bytes", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const a = await writeLayer({ dir: src }, join(base, "a.tgz"));
    const b = await writeLayer({ dir: src }, join(base, "b.tgz"));
    expect(a).toEqual(b);
    expect(Buffer.compare(await readFile(join(base, "a.tgz")), await readFile(join(base, "b.tgz")))).toBe(0);
  });

  it("gives the same digest for different on-disk mtimes clamped by SOURCE_DATE_EPOCH", async () => {
    const epoch = 1_600_000_000;
    await makeTree(join(base, "one"), 1_700_000_000);
    await makeTree(join(base, "two"), 1_710_000_000);
    const one = await writeLayer({ dir: join(base, "one") }, join(base, "one.tgz"), { sourceDateEpoch: epoch });
    const two = await writeLayer({ dir: join(base, "two") }, join(base, "two.tgz"), { sourceDateEpoch: epoch });
    expect(one.digest).toBe(two.digest);
    expect(one.diffId).toBe(two.diffId);
    const unclamped = await writeLayer({ dir: join(base, "one") }, join(base, "u1.tgz"));
    const unclamped2 = await writeLayer({ dir: join(base, "two") }, join(base, "u2.tgz"));
    expect(unclamped.digest).not.toBe(unclamped2.digest);
    // Every entry got the epoch...
    const headers = await listTar(gunzipSync(await readFile(join(base, "one.tgz"))));
    expect(new Set(headers.map((h) => h.mtime!.getTime() / 1000))).toEqual(new Set([epoch]));
  });

  it("keeps mtimes older than SOURCE_DATE_EPOCH", async () => {
    const src = join(base, "old");
    await mkdir(src);
    await writeFile(join(src, "old"), "o");
    await writeFile(join(src, "new"), "n");
    await utimes(join(src, "old"), 1_000_000_000, 1_000_000_000);
    await utimes(join(src, "new"), 1_900_000_000, 1_900_000_000);
    await writeLayer({ dir: src }, join(base, "l.tar"), { compression: "none", sourceDateEpoch: 1_500_000_000 });
    const headers = await listTar(await readFile(join(base, "l.tar")));
    expect(headers.map((h) => [h.name, h.mtime!.getTime() / 1000])).toEqual([
      ["new", 1_500_000_000],
      ["old", 1_000_000_000],
    ]);
  });

  it("sorts entries by path bytes with parents first, and hashes like sha256sum and gunzip -c", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const out = join(base, "layer.tgz");
    const result = await writeLayer({ dir: src }, out);
    expect(result.digest).toBe(sha256sum(out));
    expect(result.diffId).toBe(`sha256:${sh(`gunzip -c '${out}' | sha256sum`).split(" ")[0]}`);
    expect(result.size).toBe((await readFile(out)).length);
    expect(result.uncompressedSize).toBe(Number(sh(`gunzip -c '${out}' | wc -c`).trim()));
    expect(result.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");

    const names = (await listTar(gunzipSync(await readFile(out)))).map((h) => h.name);
    const bare = names.map((n) => n.replace(/\/$/, ""));
    const sorted = [...bare].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(bare).toEqual(sorted);
    expect(bare.slice(0, 4)).toEqual(["B", "a", "a.txt", "a/b"]);
    for (const [i, n] of bare.entries()) {
      const parent = n.includes("/") ? n.slice(0, n.lastIndexOf("/")) : undefined;
      if (parent !== undefined) expect(bare.indexOf(parent)).toBeLessThan(i);
    }
  });

  it("is listed by GNU tar as expected (numeric ids, modes, links, long and UTF-8 names)", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const out = join(base, "layer.tgz");
    await writeLayer({ dir: src }, out);
    const listing = sh(`TZ=UTC tar --numeric-owner -tvzf '${out}'`).trim().split("\n");
    const long = "long-".repeat(30) + "name";
    const expected: Array<[string, RegExp]> = [
      ["B", /^-rw-r--r-- 0\/0 +1 2022-04-15 05:20 B$/],
      ["a/", /^drwxr-xr-x 0\/0 +0 .* a\/$/],
      ["a.txt", /^-rw-r--r-- 0\/0 +1 .* a\.txt$/],
      ["a/b", /^-rw-r--r-- 0\/0 +1 .* a\/b$/],
      ["big-uid", /^-rw-r--r-- 3000000\/42 +1 .* big-uid$/],
      ["fifo", /^prw-r--r-- 0\/0 +0 .* fifo$/],
      ["usr/bin/link", /^lrwxrwxrwx 0\/0 +0 .* usr\/bin\/link -> tool$/],
      ["usr/bin/tool", /^-rwsr-xr-x 0\/0 +18 .* usr\/bin\/tool$/],
      ["usr/bin/tool-alias", /^hrwsr-xr-x 0\/0 +0 .* usr\/bin\/tool-alias link to usr\/bin\/tool$/],
      ["usr/share/doc/café", /^-rw-r--r-- 0\/0 +7 .* usr\/share\/doc\/café$/],
      [`usr/share/doc/${long}`, new RegExp(`^-rw-r--r-- 0/0 +4 .* usr/share/doc/${long}$`)],
    ];
    for (const [name, re] of expected) {
      const line = listing.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `));
      expect(line, name).toBeDefined();
      expect(line).toMatch(re);
    }
    expect(listing).toHaveLength(15);
  });

  it("stores binary xattrs as PAX records GNU tar restores (security.capability, user.*)", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const out = join(base, "layer.tgz");
    await writeLayer({ dir: src }, out);
    const dest = join(base, "gnu");
    await mkdir(dest);
    sh(`tar --xattrs --xattrs-include='*' --numeric-owner -xpzf '${out}' -C '${dest}'`);
    expect(getAttributeSync(join(dest, "usr/bin/tool"), "security.capability")).toEqual(
      getAttributeSync(join(src, "usr/bin/tool"), "security.capability"),
    );
    expect(getAttributeSync(join(dest, "a/b"), "user.comment")).toEqual(Buffer.from([0xff, 0x00, 0x80]));
    // Overlay's private attributes are not part of a layer.
    expect(getAttributeSync(join(dest, "a/b"), "trusted.overlay.origin")).toBeNull();
  });

  it("round-trips through extractLayer to the same tree", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const out = join(base, "layer.tgz");
    const written = await writeLayer({ dir: src }, out);
    const dest = join(base, "dest");
    await mkdir(dest);
    const read = await extractLayer(out, dest, { expectedDiffId: written.diffId, expectedDigest: written.digest });
    expect(read.diffId).toBe(written.diffId);
    const strip = (t: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.replace(/,?trusted\.overlay\.origin=[0-9a-f]*/, "")]));
    expect(await describeTree(dest, { mtimes: true })).toEqual(strip(await describeTree(src, { mtimes: true })));
  });

  it("writes whiteouts and opaque markers from entries, with fixed metadata", async () => {
    const entries: LayerEntry[] = [
      { path: "etc", type: "directory", mode: 0o755, uid: 0, gid: 0, mtimeMs: 1e12, size: 0 },
      { path: "etc/gone", type: "whiteout", mode: 0o644, uid: 5, gid: 5, mtimeMs: 1e12, size: 0 },
      { path: "etc", type: "opaque", mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 },
      { path: "top", type: "whiteout", mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 },
    ];
    const out = join(base, "wh.tar");
    const r = await writeLayer({ entries }, out, { compression: "none" });
    expect(r.digest).toBe(r.diffId);
    expect(r.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    const headers = await listTar(await readFile(out));
    expect(headers.map((h) => [h.name, h.type, h.mode, h.uid, h.mtime!.getTime()])).toEqual([
      [".wh.top", "file", 0, 0, 0],
      ["etc/", "directory", 0o755, 0, 1e12],
      ["etc/.wh..wh..opq", "file", 0, 0, 0],
      ["etc/.wh.gone", "file", 0, 0, 0],
    ]);
  });

  it("refuses entry lists without parents, with duplicates or dangling hard links", async () => {
    const file = (path: string): LayerEntry => ({ path, type: "file", mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
    const cases: LayerEntry[][] = [
      [file("no/parent")],
      [file("dup"), file("dup")],
      [{ path: "h", type: "hardlink", mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0, linkTarget: "missing" }],
      [file("/abs")],
      [file("a/../b")],
    ];
    for (const entries of cases) {
      const err = await writeLayer({ entries }, join(base, "x.tgz")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BuildError);
      expect((err as BuildError).code).toBe("INTERNAL");
    }
  });

  it("reports a file that changed or vanished after the walk as a BuildError", async () => {
    const src = join(base, "src");
    await mkdir(src);
    await writeFile(join(src, "f"), "12345");
    const entry: LayerEntry = {
      path: "f",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtimeMs: 0,
      size: 5,
      sourcePath: join(src, "f"),
    };
    await writeFile(join(src, "f"), "123");
    const changed = await writeLayer({ entries: [entry] }, join(base, "c.tgz")).catch((e: unknown) => e);
    expect((changed as BuildError).code).toBe("INTERNAL");
    expect((changed as BuildError).message).toMatch(/"f" changed/);
    await rm(join(src, "f"));
    const gone = await writeLayer({ entries: [entry] }, join(base, "g.tgz")).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BuildError);
    expect(sh(`ls -A '${base}'`).trim()).toBe("src");
  });

  it("writes to a stream and honours the gzip level", async () => {
    const src = join(base, "src");
    await mkdir(src);
    await writeFile(join(src, "text"), "hello world\n".repeat(100_000));
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on("data", (c: Buffer) => chunks.push(c));
    const fast = await writeLayer({ dir: src }, sink, { level: 1 });
    const bytes = Buffer.concat(chunks);
    expect(fast.size).toBe(bytes.length);
    expect(fast.digest).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
    const best = await writeLayer({ dir: src }, join(base, "best.tgz"), { level: 9 });
    expect(best.diffId).toBe(fast.diffId);
    expect(best.size).toBeLessThan(fast.size);
  });

  it("stops with ABORTED and leaves no file behind", async () => {
    const src = join(base, "src");
    await makeTree(src, 1_650_000_000);
    const controller = new AbortController();
    controller.abort();
    const err = await writeLayer({ dir: src }, join(base, "x.tgz"), { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("ABORTED");
    expect(sh(`ls -A '${base}'`).trim()).toBe("src");
  });
});

describe("ParallelGzip", () => {
  it("produces one valid gzip stream across many blocks, identical on every run", async () => {
    const data = Buffer.concat([randomBytes(1_500_000), Buffer.alloc(2_000_000, "abc"), randomBytes(123)]);
    const run = async (concurrency: number): Promise<Buffer> => {
      const gz = new ParallelGzip({ concurrency });
      const out: Buffer[] = [];
      for (let i = 0; i < data.length; i += 65_537) out.push(...(await gz.write(data.subarray(i, i + 65_537))));
      out.push(...(await gz.end()));
      return Buffer.concat(out);
    };
    const a = await run(2);
    const b = await run(4);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(gunzipSync(a), data)).toBe(0);
    const path = join(base, "p.gz");
    await writeFile(path, a);
    expect(sh(`gunzip -c '${path}' | sha256sum`).split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("stores incompressible blocks (including the last one) as valid stored deflate blocks", async () => {
    const data = randomBytes(1_300_000);
    const gz = new ParallelGzip();
    const out = Buffer.concat([...(await gz.write(data)), ...(await gz.end())]);
    expect(Buffer.compare(gunzipSync(out), data)).toBe(0);
    // Stored: 5 bytes per 64 KiB plus the gzip header and trailer.
    expect(out.length).toBeLessThan(data.length + 200);
    const path = join(base, "r.gz");
    await writeFile(path, out);
    expect(sh(`gzip -t '${path}' && echo ok`).trim()).toBe("ok");
  });

  it("after a random block, looks at the next block's tail: random stays stored, text that follows random data is deflated", async () => {
    const MiB = 1 << 20;
    const text = (n: number): Buffer => Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(Math.ceil(n / 44))).subarray(0, n);
    // Block 2 is random for 300 KiB, then text to its end; blocks 3-5 are random.
    const data = Buffer.concat([randomBytes(MiB), randomBytes(300 * 1024), text(MiB - 300 * 1024), randomBytes(3 * MiB)]);
    const gz = new ParallelGzip();
    const out = Buffer.concat([...(await gz.write(data)), ...(await gz.end())]);
    expect(Buffer.compare(gunzipSync(out), data)).toBe(0);
    // The 724 KiB of text shrank to almost nothing (stored, it would add ~5
    // bytes per 64 KiB), and the 4.3 MiB of random data stayed stored: at
    // most gzip's framing over it.
    expect(out.length).toBeLessThan(data.length - 700 * 1024);
    expect(out.length).toBeGreaterThan(data.length - 724 * 1024);
  });

  it("deflates random data with zero runs between (a tar of compressed files) with run-length matches only, text normally", async () => {
    // 3 KiB random, 1 KiB zeros, repeated: level-1 samples shrink by ~20%.
    const tarLike = Buffer.concat(Array.from({ length: 200 }, () => Buffer.concat([randomBytes(3072), Buffer.alloc(1024)])));
    const text = Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(20_000));
    for (const [data, strategy] of [
      [tarLike, constants.Z_RLE],
      [text, constants.Z_DEFAULT_STRATEGY],
    ] as const) {
      const gz = new ParallelGzip();
      const out = Buffer.concat([...(await gz.write(data)), ...(await gz.end())]);
      expect(Buffer.compare(gunzipSync(out), data)).toBe(0);
      // One block (under 1 MiB): the body is exactly zlib's raw deflate with that strategy.
      const body = deflateRawSync(data, { level: 6, strategy, chunkSize: 1 << 21 });
      expect(Buffer.compare(out.subarray(10, out.length - 8), body)).toBe(0);
    }
    const gz = new ParallelGzip();
    const packed = Buffer.concat([...(await gz.write(tarLike)), ...(await gz.end())]);
    // The zero runs still shrink: 1/4 of the input is zeros.
    expect(packed.length).toBeLessThan(tarLike.length * 0.8);
  });

  it("with externalCrc, writes the CRC it is given into the trailer: the same bytes as computing it itself", async () => {
    const data = Buffer.concat([randomBytes(1_200_000), Buffer.alloc(900_000, "xyz")]);
    const own = new ParallelGzip();
    const a = Buffer.concat([...(await own.write(data)), ...(await own.end())]);
    const ext = new ParallelGzip({ externalCrc: true });
    const b = Buffer.concat([...(await ext.write(data)), ...(await ext.end(crc32(data)))]);
    expect(Buffer.compare(a, b)).toBe(0);
    // A wrong CRC lands in the trailer (so gunzip rejects it); a missing one is a programming error.
    const bad = new ParallelGzip({ externalCrc: true });
    const c = Buffer.concat([...(await bad.write(data)), ...(await bad.end((crc32(data) + 1) >>> 0))]);
    expect(() => gunzipSync(c)).toThrow();
    const none = new ParallelGzip({ externalCrc: true });
    await none.write(data);
    await expect(none.end()).rejects.toThrow(/CRC-32/);
  });

  it("with reuseBlocks, refills its input blocks yet gives the same bytes when each call's chunks are consumed before the next", async () => {
    // Random blocks (stored: the chunks are slices of the input blocks) and
    // text blocks (deflated on the pool with the previous block's tail as
    // dictionary), interleaved, fed in odd-sized pieces.
    const parts: Buffer[] = [];
    for (let i = 0; i < 6; i++) parts.push(randomBytes(1_100_000), Buffer.from(`block ${i} of text\n`.repeat(60_000)));
    const data = Buffer.concat(parts);
    const run = async (reuseBlocks: boolean): Promise<{ bytes: Buffer; firstStored: Buffer; firstStoredCopy: Buffer }> => {
      const gz = new ParallelGzip({ concurrency: 4, reuseBlocks });
      const copies: Buffer[] = [];
      let firstStored: Buffer | undefined;
      let firstStoredCopy: Buffer | undefined;
      const take = (chunks: Buffer[]): void => {
        for (const c of chunks) {
          copies.push(Buffer.from(c));
          if (firstStored === undefined && c.length === 0xffff) {
            firstStored = c;
            firstStoredCopy = Buffer.from(c);
          }
        }
      };
      for (let i = 0; i < data.length; i += 300_001) take(await gz.write(data.subarray(i, i + 300_001)));
      take(await gz.end());
      return { bytes: Buffer.concat(copies), firstStored: firstStored!, firstStoredCopy: firstStoredCopy! };
    };
    const fresh = await run(false);
    const reused = await run(true);
    expect(Buffer.compare(reused.bytes, fresh.bytes)).toBe(0);
    expect(Buffer.compare(gunzipSync(reused.bytes), data)).toBe(0);
    // Without reuse a returned chunk stays as it was; with it, the block it
    // is a slice of was refilled by later input (the contract callers rely on).
    expect(Buffer.compare(fresh.firstStored, fresh.firstStoredCopy)).toBe(0);
    expect(Buffer.compare(reused.firstStored, reused.firstStoredCopy)).not.toBe(0);
  });

  it("with sharedBlocks, hands every input block to onBlock in shared memory, and refills none that canReuse holds back", async () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 4; i++) parts.push(randomBytes(1_100_000), Buffer.from(`block ${i} of text\n`.repeat(60_000)));
    const data = Buffer.concat(parts);
    const seen: Buffer[] = [];
    const copies: Buffer[] = [];
    const held = new Set<ArrayBufferLike>();
    const gz = new ParallelGzip({
      reuseBlocks: true,
      sharedBlocks: true,
      onBlock: (input) => {
        expect(input.buffer).toBeInstanceOf(SharedArrayBuffer);
        seen.push(input);
        copies.push(Buffer.from(input));
        // The first two blocks stay held until the end.
        if (seen.length <= 2) held.add(input.buffer);
      },
      canReuse: (block) => !held.has(block.buffer),
    });
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; i += 300_001) for (const c of await gz.write(data.subarray(i, i + 300_001))) out.push(Buffer.from(c));
    for (const c of await gz.end()) out.push(Buffer.from(c));
    expect(Buffer.compare(Buffer.concat(copies), data)).toBe(0);
    expect(Buffer.compare(gunzipSync(Buffer.concat(out)), data)).toBe(0);
    // Held blocks kept their bytes; the others were refilled (so reuse happened).
    expect(Buffer.compare(seen[0]!, copies[0]!)).toBe(0);
    expect(Buffer.compare(seen[1]!, copies[1]!)).toBe(0);
    expect(seen.slice(2, -2).some((b, i) => Buffer.compare(b, copies[i + 2]!) !== 0)).toBe(true);
  });

  it("handles empty input", async () => {
    const gz = new ParallelGzip();
    const out = Buffer.concat([...(await gz.write(Buffer.alloc(0))), ...(await gz.end())]);
    expect(gunzipSync(out).length).toBe(0);
  });
});
