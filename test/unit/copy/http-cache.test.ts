import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { HttpCache } from "../../../src/copy/http-cache.js";

const URL_A = "https://example.test/a.tar.gz";

async function download(cache: HttpCache, body: string): Promise<{ file: string; digest: string }> {
  await mkdir(cache.tmpDir, { recursive: true });
  const file = join(cache.tmpDir, `dl-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, body);
  return { file, digest: `sha256:${createHash("sha256").update(body).digest("hex")}` };
}

describe("HttpCache", () => {
  it("keeps a URL's body with its ETag and Last-Modified, and finds it again", async () => {
    const cache = new HttpCache(mkdtempSync(join(tmpdir(), "tsb-httpcache-")));
    expect(await cache.lookup(URL_A)).toBeUndefined();
    const { file, digest } = await download(cache, "one");
    const stored = await cache.store(URL_A, file, { digest, etag: '"e1"', lastModified: "Wed, 21 Oct 2015 07:28:00 GMT" });
    expect(readFileSync(stored.path, "utf8")).toBe("one");
    expect(await cache.lookup(URL_A)).toEqual(stored);
    expect(await cache.lookup("https://example.test/other")).toBeUndefined();
  });

  it("ignores a record that is unreadable, names another URL, or whose body is gone", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-httpcache-"));
    const cache = new HttpCache(root);
    const { file, digest } = await download(cache, "one");
    const stored = await cache.store(URL_A, file, { digest });
    const record = readdirSync(cache.dir).find((n) => n.endsWith(".json"))!;
    const text = readFileSync(join(cache.dir, record), "utf8");
    writeFileSync(join(cache.dir, record), "{not json");
    expect(await cache.lookup(URL_A)).toBeUndefined();
    writeFileSync(join(cache.dir, record), text.replace(URL_A, "https://example.test/b"));
    expect(await cache.lookup(URL_A)).toBeUndefined();
    writeFileSync(join(cache.dir, record), text);
    expect(await cache.lookup(URL_A)).toEqual(stored);
    writeFileSync(join(cache.dir, record), text.replace(digest, `sha256:${"0".repeat(64)}`));
    expect(await cache.lookup(URL_A)).toBeUndefined();
  });

  it("keeps a replaced body for its grace period, then removes it", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-httpcache-"));
    const keep = new HttpCache(root);
    const bodies = (): string[] => readdirSync(keep.dir).filter((n) => !n.endsWith(".json"));
    for (const body of ["v1", "v2"]) {
      const { file, digest } = await download(keep, body);
      await keep.store(URL_A, file, { digest });
    }
    expect(bodies()).toHaveLength(2);
    await delay(20);
    const eager = new HttpCache(root, { oldBodyGraceMs: 10 });
    const { file, digest } = await download(eager, "v3");
    const v3 = await eager.store(URL_A, file, { digest });
    // v1 was replaced 20 ms ago: gone; v2 was replaced just now: kept.
    expect(bodies().sort()).toEqual([v3.path, (await keepPath(keep, "v2"))].map((p) => p.slice(keep.dir.length + 1)).sort());
    expect((await eager.lookup(URL_A))?.digest).toBe(digest);
  });
});

async function keepPath(cache: HttpCache, body: string): Promise<string> {
  const hex = createHash("sha256").update(body).digest("hex");
  return join(cache.dir, readdirSync(cache.dir).find((n) => n.endsWith(`-${hex}`))!);
}
