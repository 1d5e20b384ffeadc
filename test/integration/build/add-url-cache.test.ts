import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ProgressEvent } from "../../../src/progress/events.js";
import { makeContext, runTsbuild, stepsBy } from "../../helpers/tsbuild-process.js";

// BuildKit's HTTP source keys `ADD <URL>` by the filename, the digest of the
// body and its Last-Modified time (source/http/httpsource.go, formatCacheKey):
// a changed body reruns the step, an unchanged one is a cache hit.
describe("ADD <URL> in the cache", () => {
  let server: Server;
  let url: string;
  const served = { body: "v1\n", lastModified: "Wed, 21 Oct 2015 07:28:00 GMT", etags: true, requests: 0, full: 0 };
  beforeAll(async () => {
    server = createServer((req, res) => {
      served.requests++;
      const etag = `"${createHash("sha256").update(served.body + served.lastModified).digest("hex").slice(0, 16)}"`;
      res.setHeader("Last-Modified", served.lastModified);
      if (served.etags) res.setHeader("ETag", etag);
      const fresh = served.etags ? req.headers["if-none-match"] === etag : req.headers["if-modified-since"] === served.lastModified;
      if (fresh) {
        res.statusCode = 304;
        res.end();
        return;
      }
      served.full++;
      res.end(served.body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test("an unchanged URL is a cache hit, a changed body or Last-Modified reruns the ADD, and each run downloads once", async () => {
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD ${url}/data.txt /data.txt\nADD ${url}/other.txt /other.txt\n` });
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    let lastEvents: ProgressEvent[] = [];
    const build = async (out: string, extra: string[] = []) => {
      const [before, full] = [served.requests, served.full];
      const r = await runTsbuild(["build", "--progress=rawjson", ...extra, "-o", `type=local,dest=${out}`, "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
      expect(r.code, r.stderr).toBe(0);
      lastEvents = r.events;
      return { ...stepsBy(r.events), requests: served.requests - before, downloads: served.full - full };
    };

    const first = await build("out1");
    // Each fetch shows as a progress phase before its step (a big download is not a silent pause).
    expect(lastEvents.filter((e) => e.type === "phase" && e.name === `fetch ${url}/data.txt`).map((e) => (e as { status: string }).status)).toEqual(["start", "done"]);
    expect(first).toEqual({ ran: [expect.stringContaining("/data.txt"), expect.stringContaining("/other.txt")], cached: [], requests: 2, downloads: 2 });
    expect(readFileSync(join(ctx, "out1/data.txt"), "utf8")).toBe("v1\n");

    // Asked again (as BuildKit does), with the cached ETag: 304, nothing downloaded or rerun.
    const second = await build("out2");
    expect(second).toEqual({ ran: [], cached: [expect.stringContaining("/data.txt"), expect.stringContaining("/other.txt")], requests: 2, downloads: 0 });

    // A step that runs on a 304 copies the cached body.
    const rerun = await build("out2b", ["--no-cache"]);
    expect(rerun).toMatchObject({ requests: 2, downloads: 0 });
    expect(rerun.ran).toHaveLength(2);
    expect(readFileSync(join(ctx, "out2b/data.txt"), "utf8")).toBe("v1\n");

    served.body = "v2\n";
    const third = await build("out3");
    expect(third.ran).toHaveLength(2);
    expect(readFileSync(join(ctx, "out3/data.txt"), "utf8")).toBe("v2\n");

    // Same bytes, another modification time: the file's mtime in the layer changes, so the key does too.
    served.lastModified = "Thu, 22 Oct 2015 07:28:00 GMT";
    const fourth = await build("out4");
    expect(fourth.ran).toHaveLength(2);
    expect(statSync(join(ctx, "out4/data.txt")).mtime.toISOString()).toBe("2015-10-22T07:28:00.000Z");

    // A server that stops sending ETags answers the If-None-Match with the
    // body (same bytes: nothing reruns); the next build asks with If-Modified-Since.
    served.etags = false;
    expect(await build("out5")).toMatchObject({ ran: [], requests: 2, downloads: 2 });
    expect(await build("out6")).toMatchObject({ ran: [], requests: 2, downloads: 0 });
    served.etags = true;
  });

  test("ADD --checksum is keyed by the checksum: a cached step fetches nothing", async () => {
    served.body = "pinned\n";
    const digest = `sha256:${createHash("sha256").update("pinned\n").digest("hex")}`;
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD --checksum=${digest} ${url}/pinned.txt /pinned.txt\n` });
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const run = () => runTsbuild(["build", "--progress=rawjson", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    const before = served.requests;
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(served.requests - before).toBe(1);
    const second = await run();
    expect(stepsBy(second.events).cached).toHaveLength(1);
    expect(served.requests - before).toBe(1);
  });

  test("a URL ending in .git is a Git repository, asked for with git (not downloaded as a file)", async () => {
    // This server is no Git server: git's ls-remote fails, and the error says so (add-git.test.ts has a real one).
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD ${url}/repo.git /src\n` });
    const r = await runTsbuild(["build", "."], { cwd: ctx, env: { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read Git remote ${url}/repo.git`);
    expect(r.stderr).toContain("Dockerfile:2");
  });
});
