import { createHash } from "node:crypto";
import { lstatSync } from "node:fs";
import { lstat, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileHashCache, statKey } from "../../../src/copy/file-hash-cache.js";

const sha = (s: string): string => `sha256:${createHash("sha256").update(s).digest("hex")}`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-fhc-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A clock the test moves; starts at the real time. */
function clock(): { now: () => bigint; advance: (ms: number) => void } {
  let t = BigInt(Date.now()) * 1_000_000n;
  return { now: () => t, advance: (ms) => (t += BigInt(ms) * 1_000_000n) };
}

describe("FileHashCache", () => {
  it("hashes content as plain sha256 and symlinks by target", async () => {
    const f = join(dir, "f");
    await writeFile(f, "hello");
    await symlink("target/path", join(dir, "l"));
    const cache = FileHashCache.memory();
    expect(await cache.hash(f, await lstat(f, { bigint: true }))).toBe(sha("hello"));
    expect(await cache.hash(join(dir, "l"), await lstat(join(dir, "l")))).toBe(sha("target/path"));
  });

  it("hashes large files (read asynchronously in chunks) the same way", async () => {
    const f = join(dir, "big");
    const data = "0123456789abcdef".repeat(80_000); // 1.28 MB: above the synchronous-read limit
    await writeFile(f, data);
    expect(await FileHashCache.memory().hash(f, await lstat(f))).toBe(sha(data));
  });

  it("gives the same key for Stats and BigIntStats of one file", async () => {
    const f = join(dir, "f");
    await writeFile(f, "x");
    expect(statKey(await lstat(f))).toBe(statKey(await lstat(f, { bigint: true })));
  });

  it("racily clean: an edit keeping size and mtime right after hashing is detected", async () => {
    const f = join(dir, "racy");
    await writeFile(f, "AAAA");
    const c = clock();
    const cache = FileHashCache.memory({ now: c.now });
    const st = await lstat(f, { bigint: true });
    expect(await cache.hash(f, st)).toBe(sha("AAAA"));
    // Same size; we pass the *old* stat, as if the edit landed within the same
    // timestamp tick (so size, mtime and ctime all still compare equal).
    await writeFile(f, "BBBB");
    expect(cache.lookup(f, st)).toBeUndefined();
    expect(await cache.hash(f, st)).toBe(sha("BBBB"));
  });

  it("trusts an entry once the file is older than the margin when hashed, and then never reads it", async () => {
    const f = join(dir, "stable");
    await writeFile(f, "AAAA");
    const c = clock();
    c.advance(3000); // hashing happens 3 s after the last change
    const cache = FileHashCache.memory({ now: c.now });
    const st = await lstat(f, { bigint: true });
    expect(await cache.hash(f, st)).toBe(sha("AAAA"));
    expect(cache.lookup(f, st)).toBe(sha("AAAA"));
    // Proof that the file is not read: a same-stat edit goes unnoticed (that
    // is exactly what the margin rules out for real edits, which always get a
    // newer mtime/ctime than the hashing moment).
    await writeFile(f, "BBBB");
    expect(await cache.hash(f, st)).toBe(sha("AAAA"));
  });

  it("re-hashes on any change of size, mtime (touch), ctime, mode, or inode", async () => {
    const f = join(dir, "f");
    await writeFile(f, "one");
    const c = clock();
    c.advance(3000);
    const cache = FileHashCache.memory({ now: c.now });
    const st1 = await lstat(f, { bigint: true });
    await cache.hash(f, st1);
    expect(cache.lookup(f, st1)).toBeDefined();
    const variants = [
      { ...st1, size: st1.size + 1n },
      { ...st1, mtimeNs: st1.mtimeNs + 1_000n },
      { ...st1, ctimeNs: st1.ctimeNs + 1_000n },
      { ...st1, mode: st1.mode ^ 0o100n },
      { ...st1, ino: st1.ino + 1n },
    ];
    for (const v of variants) {
      // Spread drops the prototype: give the variant the methods statKey never needs but hash() does.
      expect(cache.lookup(f, Object.setPrototypeOf(v, Object.getPrototypeOf(st1)))).toBeUndefined();
    }
  });

  it("catches touch -m back to the old mtime through ctime", async () => {
    const f = join(dir, "f");
    await writeFile(f, "AAAA");
    const before = lstatSync(f, { bigint: true });
    const c = clock();
    c.advance(3000);
    const cache = FileHashCache.memory({ now: c.now });
    await cache.hash(f, before);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(f, "BBBB");
    // Restore the old mtime: ctime moves on regardless.
    const { utimes } = await import("node:fs/promises");
    await utimes(f, Number(before.atimeNs) / 1e9, Number(before.mtimeNs) / 1e9);
    const after = await lstat(f, { bigint: true });
    expect(after.size).toBe(before.size);
    expect(cache.lookup(f, after)).toBeUndefined();
    c.advance(3000);
    expect(await cache.hash(f, after)).toBe(sha("BBBB"));
  });

  it("persists atomically and reloads; a corrupt file is an empty cache", async () => {
    const f = join(dir, "f");
    await writeFile(f, "data");
    const path = join(dir, "cache", "hashes");
    const c = clock();
    c.advance(3000);
    const a = await FileHashCache.open(path, { now: c.now });
    const st = await lstat(f);
    await a.hash(f, st);
    await a.save();
    const text = await readFile(path, "utf8");
    expect(text.startsWith("tsbuild-file-hash-cache")).toBe(true);
    const b = await FileHashCache.open(path);
    expect(b.lookup(f, st)).toBe(sha("data"));
    await writeFile(path, "garbage\n");
    const corrupt = await FileHashCache.open(path);
    expect(corrupt.size).toBe(0);
  });

  it("keeps paths with tabs and newlines intact", async () => {
    const f = join(dir, "we\tird\nname\\x");
    await writeFile(f, "w");
    const path = join(dir, "hashes");
    const c = clock();
    c.advance(3000);
    const a = await FileHashCache.open(path, { now: c.now });
    const st = await lstat(f);
    await a.hash(f, st);
    await a.save();
    const b = await FileHashCache.open(path);
    expect(b.lookup(f, st)).toBe(sha("w"));
  });

  it("does not save when nothing changed", async () => {
    const path = join(dir, "hashes");
    const a = await FileHashCache.open(path);
    await a.save();
    await expect(lstat(path)).rejects.toThrow();
  });
});
