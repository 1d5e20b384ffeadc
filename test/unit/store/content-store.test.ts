import { chmod, mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { digestOf, type Digest } from "../../../src/oci/digest.js";
import { FsContentStore } from "../../../src/store/fs-content-store.js";
import { cleanStaleTempFiles } from "../../../src/store/temp-files.js";
import { chunks, codeOf, tempRoot } from "./helpers.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function open(): Promise<FsContentStore> {
  return FsContentStore.open(await tempRoot());
}

describe("FsContentStore.writeBlob", () => {
  it("stores bytes under blobs/sha256/<hex> and reports created", async () => {
    const store = await open();
    const data = enc("hello");
    const res = await store.writeBlob(data);
    expect(res).toEqual({ digest: digestOf(data), size: 5, created: true });
    expect(await readFile(store.blobPath(res.digest), "utf8")).toBe("hello");
    expect(store.blobPath(res.digest)).toBe(join(store.layout.root, "blobs", "sha256", res.digest.slice(7)));
    expect((await stat(store.blobPath(res.digest))).mode & 0o777).toBe(0o444);
    expect(await store.writeBlob(data)).toEqual({ digest: digestOf(data), size: 5, created: false });
  });

  it("streams from async iterables, Node Readables and web streams", async () => {
    const store = await open();
    const data = enc("x".repeat(100_000));
    const digest = digestOf(data);
    expect((await store.writeBlob(chunks(data, 4096), { digest, size: data.length })).created).toBe(true);
    await store.deleteBlob(digest);
    expect((await store.writeBlob(Readable.from([Buffer.from(data)]), { digest })).created).toBe(true);
    await store.deleteBlob(digest);
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.subarray(0, 10));
        c.enqueue(data.subarray(10));
        c.close();
      },
    });
    expect((await store.writeBlob(web, { digest })).digest).toBe(digest);
    expect(await store.readBlob(digest)).toEqual(data);
  });

  it("a mismatched digest leaves nothing under the final name nor in tmp (bytes and streams)", async () => {
    const store = await open();
    const data = enc("actual content");
    const claimed = digestOf("something else");
    expect(await codeOf(store.writeBlob(data, { digest: claimed }))).toBe("DIGEST_MISMATCH");
    expect(await codeOf(store.writeBlob(chunks(data, 3), { digest: claimed }))).toBe("DIGEST_MISMATCH");
    expect(await store.hasBlob(claimed)).toBe(false);
    expect(await store.hasBlob(digestOf(data))).toBe(false);
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("rejects wrong sizes, stopping a too-long stream early", async () => {
    const store = await open();
    const data = enc("0123456789");
    const digest = digestOf(data);
    expect(await codeOf(store.writeBlob(data, { digest, size: 9 }))).toBe("DIGEST_MISMATCH");
    expect(await codeOf(store.writeBlob(chunks(data, 2), { digest, size: 11 }))).toBe("DIGEST_MISMATCH");
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(1024);
      }
    }
    expect(await codeOf(store.writeBlob(endless(), { digest, size: 4096 }))).toBe("DIGEST_MISMATCH");
    expect(pulled).toBe(5);
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("many concurrent writers of the same blob all succeed and leave one intact file", async () => {
    const store = await open();
    const data = new Uint8Array(256 * 1024).map((_, i) => (i * 7) % 251);
    const digest = digestOf(data);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.writeBlob(i % 2 === 0 ? chunks(data, 1000 + i, 0) : data, { digest, size: data.length })),
    );
    expect(results.every((r) => r.digest === digest && r.size === data.length)).toBe(true);
    expect(results.filter((r) => r.created).length).toBeGreaterThanOrEqual(1);
    expect(await readdir(store.layout.blobsDir)).toEqual([digest.slice(7)]);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
    expect(await store.readBlob(digest)).toEqual(data);
  });

  it("aborting a write rejects with ABORTED and leaves no files", async () => {
    const store = await open();
    const data = enc("y".repeat(10_000));
    const ac = new AbortController();
    const p = store.writeBlob(chunks(data, 100, 5), undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user pressed ^C")), 30);
    expect(await codeOf(p)).toBe("ABORTED");
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
    expect(await codeOf(store.writeBlob(data, undefined, { signal: AbortSignal.abort() }))).toBe("ABORTED");
  });

  it("a source error propagates and leaves no files", async () => {
    const store = await open();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield enc("part");
      throw new Error("connection reset");
    }
    await expect(store.writeBlob(failing())).rejects.toThrow("connection reset");
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
  });

  it("rejects malformed expected digests", async () => {
    const store = await open();
    expect(await codeOf(store.writeBlob(enc("a"), { digest: "sha256:abc" as Digest }))).toBe("DIGEST_MISMATCH");
  });
});

describe("FsContentStore reads", () => {
  async function corrupted(): Promise<{ store: FsContentStore; digest: Digest; data: Uint8Array }> {
    const store = await open();
    const data = enc("precious layer bytes");
    const { digest } = await store.writeBlob(data);
    const path = store.blobPath(digest);
    await chmod(path, 0o644);
    await writeFile(path, "precious layer byteZ"); // same size, one byte flipped
    return { store, digest, data };
  }

  it("readBlob and openBlob return verified content", async () => {
    const store = await open();
    const data = enc("some config");
    const { digest } = await store.writeBlob(data);
    expect(await store.readBlob(digest, { expectedSize: data.length })).toEqual(data);
    expect(await drain(await store.openBlob(digest, { expectedSize: data.length }))).toEqual(Buffer.from(data));
    expect(await store.blobSize(digest)).toBe(data.length);
  });

  it("readBlob detects a corrupted blob file", async () => {
    const { store, digest } = await corrupted();
    expect(await codeOf(store.readBlob(digest))).toBe("STORE_CORRUPT");
  });

  it("openBlob fails at the end of a corrupted blob; verify:false skips only the hash", async () => {
    const { store, digest } = await corrupted();
    expect(await codeOf(drain(await store.openBlob(digest)))).toBe("STORE_CORRUPT");
    expect((await drain(await store.openBlob(digest, { verify: false }))).toString()).toBe("precious layer byteZ");
  });

  it("openBlob detects truncation through the expected size", async () => {
    const { store, digest, data } = await corrupted();
    await writeFile(store.blobPath(digest), "short");
    expect(await codeOf(store.openBlob(digest, { expectedSize: data.length }))).toBe("DIGEST_MISMATCH");
    expect(await codeOf(store.readBlob(digest, { expectedSize: data.length }))).toBe("DIGEST_MISMATCH");
    expect(await codeOf(drain(await store.openBlob(digest)))).toBe("STORE_CORRUPT");
  });

  it("missing blobs are STORE_NOT_FOUND; delete and list work", async () => {
    const store = await open();
    const missing = digestOf("nope");
    expect(await store.hasBlob(missing)).toBe(false);
    expect(await codeOf(store.blobSize(missing))).toBe("STORE_NOT_FOUND");
    expect(await codeOf(store.openBlob(missing))).toBe("STORE_NOT_FOUND");
    expect(await codeOf(store.readBlob(missing))).toBe("STORE_NOT_FOUND");
    const a = (await store.writeBlob(enc("a"))).digest;
    const b = (await store.writeBlob(enc("b"))).digest;
    const listed: Digest[] = [];
    for await (const d of store.listBlobs()) listed.push(d);
    expect(listed.sort()).toEqual([a, b].sort());
    expect(await store.deleteBlob(a)).toBe(true);
    expect(await store.deleteBlob(a)).toBe(false);
    expect(await store.hasBlob(a)).toBe(false);
  });

  it("aborting a read stream errors it with ABORTED", async () => {
    const store = await open();
    const { digest } = await store.writeBlob(new Uint8Array(4 * 1024 * 1024));
    const ac = new AbortController();
    const stream = await store.openBlob(digest, { signal: ac.signal });
    ac.abort();
    expect(await codeOf(drain(stream))).toBe("ABORTED");
    expect(await codeOf(store.readBlob(digest, { signal: AbortSignal.abort() }))).toBe("ABORTED");
  });
});

describe("temp file cleanup", () => {
  it("removes entries untouched for longer than the threshold, keeps fresh ones", async () => {
    const root = await tempRoot();
    const store = await FsContentStore.open(root);
    const a = join(store.layout.tmpDir, "blob-99999-dead.tmp");
    await writeFile(a, "partial download");
    await mkdir(join(store.layout.tmpDir, "dir-1-x.tmp"));
    expect(await cleanStaleTempFiles(store.layout.tmpDir)).toBe(0);
    expect(await cleanStaleTempFiles(store.layout.tmpDir, { now: Date.now() + 2 * 60 * 60 * 1000 })).toBe(2);
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("a file renamed into tmp/ keeps an old mtime but is fresh by its ctime", async () => {
    const root = await tempRoot();
    const store = await FsContentStore.open(root);
    const f = join(store.layout.tmpDir, "untag-1-x.tmp");
    await writeFile(f, "{}");
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(f, old, old); // like rename: mtime old, ctime now
    await FsContentStore.open(root);
    expect(await readdir(store.layout.tmpDir)).toEqual(["untag-1-x.tmp"]);
    await FsContentStore.open(root, { staleTempAgeMs: 0 });
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("a missing tmp dir counts as clean", async () => {
    expect(await cleanStaleTempFiles(join(await tempRoot(), "absent"))).toBe(0);
  });
});
