/**
 * Behaviour a well-behaved distribution registry never shows, against a
 * scripted fake registry on 127.0.0.1 (node:http): redirects to another
 * origin (storage) must not carry our Authorization header; 429/503 with
 * Retry-After, 500s and reset connections are retried; a failed chunk
 * resumes from the registry's offset; a rejected upload style falls back to
 * the other; a stream that does not match its digest fails.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { RegistryClient } from "../../../src/registry/client.js";
import { StaticCredentials } from "../../../src/registry/credentials.js";

const sha256 = (b: Buffer | string): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  contentRange: string | undefined;
}

type Hook = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean;

/** A tiny scripted registry: blobs and uploads in memory, optional Bearer auth, injectable failures. */
class FakeRegistry {
  server!: Server;
  storage!: Server;
  host = "";
  storageOrigin = "";
  readonly requests: Recorded[] = [];
  readonly storageRequests: Recorded[] = [];
  readonly blobs = new Map<string, Buffer>();
  readonly uploads = new Map<string, Buffer>();
  /** One-shot hooks run before normal handling; a hook returning true has answered. */
  hooks: Hook[] = [];
  requireAuth = false;
  redirectBlobs = false;
  rejectPatch: number | undefined;
  rejectMonolithic: number | undefined;
  /** The n-th PATCH (1-based) is applied, but its connection is cut instead of answered. */
  dropPatchAnswer: number | undefined;
  patches = 0;
  tokenRequests = 0;
  #nextId = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.storage = createServer((req, res) => {
      this.storageRequests.push(record(req));
      const digest = new URL(req.url ?? "/", "http://x").pathname.slice(1);
      const blob = this.blobs.get(digest);
      if (blob === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-length": String(blob.length) }).end(blob);
    });
    for (const s of [this.server, this.storage]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.storageOrigin = `http://127.0.0.1:${(this.storage.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of [this.server, this.storage]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    if (url.pathname === "/token") {
      this.tokenRequests++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "tok-123", expires_in: 300 }));
      return;
    }
    this.requests.push(record(req));
    const hook = this.hooks.shift();
    if (hook !== undefined && hook(req, res, body)) return;
    if (this.requireAuth && req.headers.authorization !== "Bearer tok-123") {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://${this.host}/token",service="fake"`,
          "content-type": "application/json",
        })
        .end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (path === "/v2/") {
      res.writeHead(200).end("{}");
    } else if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path)) !== null) {
      const blob = this.blobs.get(m[2]!);
      if (blob === undefined) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }));
      } else if (this.redirectBlobs && req.method === "GET") {
        res.writeHead(307, { location: `${this.storageOrigin}/${m[2]}?X-Signature=secret-signature` }).end();
      } else {
        res.writeHead(200, { "content-length": String(blob.length), "docker-content-digest": m[2]! });
        res.end(req.method === "HEAD" ? undefined : blob);
      }
    } else if (/^\/v2\/(.+)\/blobs\/uploads\/$/.test(path) && req.method === "POST") {
      const id = `u${this.#nextId++}`;
      this.uploads.set(id, Buffer.alloc(0));
      res.writeHead(202, { location: `/upload/${id}?_state=abc%3D%3D`, range: "0-0", "content-length": "0" }).end();
    } else if ((m = /^\/upload\/(u\d+)$/.exec(path)) !== null) {
      const id = m[1]!;
      const have = this.uploads.get(id);
      if (have === undefined) {
        res.writeHead(404).end(JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_UNKNOWN", message: "upload unknown" }] }));
        return;
      }
      if (url.searchParams.get("_state") !== "abc==") {
        res.writeHead(400).end("state lost");
        return;
      }
      if (req.method === "PATCH") {
        if (this.rejectPatch !== undefined) {
          res.writeHead(this.rejectPatch).end();
          return;
        }
        const range = /^(\d+)-(\d+)$/.exec(req.headers["content-range"] ?? "");
        if (range === null || Number(range[1]) !== have.length || Number(range[2]) - Number(range[1]) + 1 !== body.length) {
          res.writeHead(416).end();
          return;
        }
        const next = Buffer.concat([have, body]);
        this.uploads.set(id, next);
        if (++this.patches === this.dropPatchAnswer) {
          req.socket.destroy();
          return;
        }
        res.writeHead(202, { location: `/upload/${id}?_state=abc%3D%3D`, range: `0-${next.length - 1}` }).end();
      } else if (req.method === "GET") {
        res.writeHead(204, { location: `/upload/${id}?_state=abc%3D%3D`, range: `0-${Math.max(0, have.length - 1)}` }).end();
      } else if (req.method === "PUT") {
        if (body.length > 0 && this.rejectMonolithic !== undefined) {
          res.writeHead(this.rejectMonolithic).end();
          return;
        }
        const all = Buffer.concat([have, body]);
        const digest = url.searchParams.get("digest") ?? "";
        if (sha256(all) !== digest) {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "DIGEST_INVALID", message: "provided digest did not match uploaded content" }] }));
          return;
        }
        this.uploads.delete(id);
        this.blobs.set(digest, all);
        res.writeHead(201, { "docker-content-digest": digest, location: `/v2/x/blobs/${digest}` }).end();
      } else if (req.method === "DELETE") {
        this.uploads.delete(id);
        res.writeHead(204).end();
      }
    } else {
      res.writeHead(404).end();
    }
  }
}

function record(req: IncomingMessage): Recorded {
  return {
    method: req.method ?? "",
    path: req.url ?? "",
    authorization: req.headers.authorization,
    contentRange: req.headers["content-range"],
  };
}

const fake = new FakeRegistry();
let client: RegistryClient;

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
afterEach(async () => {
  await client?.close();
  fake.hooks = [];
  fake.requests.length = 0;
  fake.storageRequests.length = 0;
  fake.requireAuth = false;
  fake.redirectBlobs = false;
  fake.rejectPatch = undefined;
  fake.rejectMonolithic = undefined;
  fake.dropPatchAnswer = undefined;
  fake.patches = 0;
});

function newClient(options: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  client = new RegistryClient({ host: fake.host, retry: { baseDelayMs: 1 }, ...options });
  return client;
}

describe("redirects", () => {
  test("a blob redirect to another origin is followed without our Authorization header", async () => {
    const bytes = randomBytes(5000);
    fake.blobs.set(sha256(bytes), bytes);
    fake.requireAuth = true;
    fake.redirectBlobs = true;
    const c = newClient({ credentials: new StaticCredentials({ [fake.host]: { kind: "basic", username: "u", password: "p" } }) });
    const got = await buffer(await c.getVerifiedBlob("repo", sha256(bytes), { size: bytes.length }));
    expect(got.equals(bytes)).toBe(true);
    expect(fake.requests.at(-1)?.authorization).toBe("Bearer tok-123");
    expect(fake.storageRequests).toHaveLength(1);
    expect(fake.storageRequests[0]?.authorization).toBeUndefined();
  });

  test("a verified download fails when the bytes do not match", async () => {
    const bytes = randomBytes(100);
    const claimed = sha256("other");
    fake.blobs.set(claimed, bytes);
    const c = newClient();
    await expect(buffer(await c.getVerifiedBlob("repo", claimed))).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    await expect(buffer(await c.getVerifiedBlob("repo", claimed, { size: 50 }))).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
  });
});

describe("retries", () => {
  test("429 and 503 with Retry-After, 500, and reset connections are retried", async () => {
    const bytes = randomBytes(10);
    fake.blobs.set(sha256(bytes), bytes);
    fake.hooks = [
      (_req, res) => (res.writeHead(429, { "retry-after": "0" }).end(), true),
      (_req, res) => (res.writeHead(503, { "retry-after": new Date(Date.now() - 1000).toUTCString() }).end(), true),
      (_req, res) => (res.writeHead(500).end(), true),
      (req) => (req.socket.destroy(), true),
    ];
    const c = newClient();
    expect(await c.hasBlob("repo", sha256(bytes))).toBe(true);
    expect(fake.requests).toHaveLength(5);
  });

  test("attempts are bounded, and the last answer is reported", async () => {
    fake.hooks = Array.from({ length: 10 }, (): Hook => (_req, res) => (res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "try later" }] })), true));
    const c = newClient({ retry: { attempts: 3, baseDelayMs: 1 } });
    await expect(c.getManifest("repo", "latest")).rejects.toMatchObject({
      code: "REGISTRY_ERROR",
      message: `pulling manifest ${fake.host}/repo:latest: 503 Service Unavailable: UNAVAILABLE: try later`,
    });
    expect(fake.requests).toHaveLength(3);
  });

  test("a chunk that fails resumes from the offset the registry reports", async () => {
    const bytes = randomBytes(3000);
    const digest = sha256(bytes);
    // The second PATCH reaches the registry's state, but its answer is lost.
    fake.dropPatchAnswer = 2;
    const c = newClient({ chunkSize: 1000, monolithicThreshold: 100 });
    const result = await c.pushBlob("repo", { digest, size: bytes.length, open: () => Readable.from([bytes]) });
    expect(result).toEqual({ digest, status: "uploaded", style: "chunked" });
    expect(fake.blobs.get(digest)?.equals(bytes)).toBe(true);
    const methods = fake.requests.map((r) => `${r.method} ${r.contentRange ?? ""}`.trim());
    // The status GET after the lost answer shows the chunk arrived; it is not sent again.
    expect(methods).toEqual(["HEAD", "POST", "PATCH 0-999", "PATCH 1000-1999", "GET", "PATCH 2000-2999", "PUT"]);
  });
});

describe("upload sources", () => {
  test("a failing source is IO_READ, not a network error, and is not retried", async () => {
    let opened = 0;
    const c = newClient();
    const failing = (): Readable => {
      opened++;
      return new Readable({
        read() {
          this.destroy(Object.assign(new Error("ENOENT: no such file or directory, open '/gone'"), { code: "ENOENT" }));
        },
      });
    };
    await expect(c.pushBlob("repo", { digest: sha256("x"), size: 100, open: failing })).rejects.toMatchObject({
      code: "IO_READ",
      message: expect.stringContaining("ENOENT"),
    });
    await expect(c.pushBlob("repo", { digest: sha256("x"), size: 100, open: failing }, { style: "chunked" })).rejects.toMatchObject({
      code: "IO_READ",
      message: expect.stringContaining("ENOENT"),
    });
    expect(opened).toBe(2);
  });

  test("a factory that throws is reported as is", async () => {
    const c = newClient();
    await expect(c.pushBlob("repo", { digest: sha256("x"), size: 1, open: () => Promise.reject(new Error("no data")) })).rejects.toMatchObject({
      code: "IO_READ",
      message: expect.stringContaining("no data"),
    });
  });
});

describe("upload style fallback", () => {
  test("a registry refusing PATCH gets a monolithic upload", async () => {
    fake.rejectPatch = 405;
    const bytes = randomBytes(3000);
    const c = newClient({ chunkSize: 1000, monolithicThreshold: 100 });
    const result = await c.pushBlob("repo", { digest: sha256(bytes), size: bytes.length, open: () => Readable.from([bytes]) });
    expect(result.style).toBe("monolithic");
    expect(fake.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
  });

  test("a proxy refusing big PUT bodies gets a chunked upload", async () => {
    fake.rejectMonolithic = 413;
    const bytes = randomBytes(3000);
    const c = newClient({ chunkSize: 1000 });
    const result = await c.pushBlob("repo", { digest: sha256(bytes), size: bytes.length, open: () => Readable.from([bytes]) });
    expect(result.style).toBe("chunked");
    expect(fake.blobs.get(sha256(bytes))?.equals(bytes)).toBe(true);
  });

  test("when both styles are refused, the error says so", async () => {
    fake.rejectMonolithic = 413;
    fake.rejectPatch = 405;
    const bytes = randomBytes(300);
    const c = newClient();
    await expect(c.pushBlob("repo", { digest: sha256(bytes), size: bytes.length, open: () => Readable.from([bytes]) })).rejects.toMatchObject({
      code: "REGISTRY_ERROR",
      message: `pushing blob ${sha256(bytes)} to ${fake.host}/repo: 405 Method Not Allowed`,
    });
  });
});
