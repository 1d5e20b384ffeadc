/**
 * A fault-injecting HTTP proxy for registry tests: listens on 127.0.0.1 in
 * front of a real registry and, for a seeded-random fraction of requests,
 * resets the connection (before forwarding, or after forwarding while the
 * response is under way, so the registry did the work but the client never
 * hears of it), answers 500/503/429 with `Retry-After: 0` without
 * forwarding, or corrupts a response body. It also counts requests and
 * body bytes, so tests can assert what a client sent (e.g. that a re-push
 * uploads nothing, or which blobs a resumed pull fetched again).
 *
 * Determinism: whether a request is faulted depends only on the seed, the
 * method, the path (upload session ids and query strings removed) and how
 * many times that same method+path was seen before, not on the order in
 * which concurrent requests arrive. Retries therefore get fresh decisions,
 * and a run is reproducible from its seed.
 *
 * @example
 * const proxy = await startFaultProxy({ upstream: registry.host, seed: 7, resetRate: 0.1, errorRate: 0.1 });
 * // pull from `${proxy.host}/busybox:test`: loopback, so plain HTTP
 * proxy.requests.filter((r) => r.method === "GET" && r.kind === "blob");
 * await proxy.stop();
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What the proxy did to a request. */
export type Fault = "none" | "reset-before" | "reset-after" | "error" | "corrupt";

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  /** HTTP method. */
  readonly method: string;
  /** The path with the query string removed. */
  readonly path: string;
  /** Coarse classification of the path, for counting. */
  readonly kind: "ping" | "manifest" | "blob" | "upload" | "other";
  /** What the proxy did. */
  readonly fault: Fault;
  /** The status sent to the client (0 when the connection was reset before any). */
  status: number;
  /** Request body bytes received from the client. */
  requestBytes: number;
  /** Response body bytes sent to the client. */
  responseBytes: number;
}

/** Fault rates and targets; all optional, default no faults. */
export interface FaultSettings {
  /** Seed of the decisions. Default 1. */
  readonly seed?: number;
  /** Fraction of requests whose connection is reset. */
  readonly resetRate?: number;
  /** Fraction of requests answered with 500, 503 or 429 (`Retry-After: 0`). */
  readonly errorRate?: number;
  /** Requests whose response body gets one byte flipped (same length). */
  readonly corrupt?: (req: { method: string; path: string }) => boolean;
  /** Requests that may be faulted by the rates above. Default: all. */
  readonly eligible?: (req: { method: string; path: string }) => boolean;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions extends FaultSettings {
  /** The registry to forward to, `127.0.0.1:PORT`. */
  readonly upstream: string;
  /** Address to listen on. Default `127.0.0.1`; a non-loopback address makes a host tsbuild treats as needing TLS. */
  readonly listenHost?: string;
}

/** A running proxy. */
export interface FaultProxy {
  /** `LISTENHOST:PORT` (`127.0.0.1:PORT` by default), to use as registry host. */
  readonly host: string;
  /** Every request so far. */
  readonly requests: ProxiedRequest[];
  /** Replaces the fault settings (e.g. faults off for setup). */
  configure(settings: FaultSettings): void;
  /** Forgets the recorded requests and the per-path occurrence counts. */
  clear(): void;
  /** Stops the proxy and closes every connection. Idempotent. */
  stop(): Promise<void>;
}

/** FNV-1a, 32 bit. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG; one draw in [0, 1) per seed is all we need. */
function draw(seed: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function classify(path: string): ProxiedRequest["kind"] {
  if (path === "/v2/" || path === "/v2") return "ping";
  if (path.includes("/blobs/uploads")) return "upload";
  if (path.includes("/manifests/")) return "manifest";
  if (path.includes("/blobs/")) return "blob";
  return "other";
}

/** The path for decisions: no query, no upload session id (random per session). */
function decisionPath(path: string): string {
  return path.replace(/\/blobs\/uploads\/[^/]+$/, "/blobs/uploads/*");
}

/**
 * The fault for the `n`-th request (1-based) with this method and path under
 * `settings`: a pure function, so tests can predict what a seed does.
 */
export function decideFault(settings: FaultSettings, method: string, path: string, n: number): Fault {
  if (settings.corrupt?.({ method, path }) === true) return "corrupt";
  if (settings.eligible !== undefined && !settings.eligible({ method, path })) return "none";
  const r = draw(hash32(`${settings.seed ?? 1}|${method} ${decisionPath(path)}|${n}`));
  const reset = settings.resetRate ?? 0;
  const error = settings.errorRate ?? 0;
  if (r < reset / 2) return "reset-before";
  if (r < reset) return "reset-after";
  if (r < reset + error) return "error";
  return "none";
}

/** Starts a proxy in front of `options.upstream`; see the module comment. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let settings: FaultSettings = options;
  const seen = new Map<string, number>();
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const [upHost, upPort] = options.upstream.split(":");

  const decide = (method: string, path: string): Fault => {
    const key = `${method} ${decisionPath(path)}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return decideFault(settings, method, path, n);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const fault = decide(method, path);
    const entry: ProxiedRequest = { method, path, kind: classify(path), fault, status: 0, requestBytes: 0, responseBytes: 0 };
    requests.push(entry);
    req.on("data", (chunk: Buffer) => {
      entry.requestBytes += chunk.length;
    });
    const kill = (): void => {
      // An RST, as from a crashed load balancer, not a polite FIN.
      req.socket.resetAndDestroy();
    };

    if (fault === "reset-before") {
      kill();
      return;
    }
    if (fault === "error") {
      // Read the body first, so the client sees a clean HTTP answer.
      req.resume();
      req.on("end", () => {
        const statuses = [500, 503, 429] as const;
        const status = statuses[Math.floor(draw(hash32(`${path}|${requests.length}`)) * statuses.length)] ?? 503;
        entry.status = status;
        const body = JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "injected fault", detail: null }] });
        res.writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "retry-after": "0",
          connection: "close",
        });
        res.end(body);
      });
      return;
    }

    const headers = { ...req.headers };
    delete headers.connection;
    delete headers["keep-alive"];
    const upstream = request(
      { host: upHost, port: Number(upPort), method, path: req.url, headers, agent },
      (up) => {
        entry.status = up.statusCode ?? 0;
        const hasBody = method !== "HEAD" && up.statusCode !== 204 && up.statusCode !== 304;
        const length = Number(up.headers["content-length"] ?? "NaN");
        if (fault === "reset-after" && (!hasBody || !(length > 1))) {
          // The registry did the work; the client never learns it.
          up.resume();
          entry.status = 0;
          kill();
          return;
        }
        const outHeaders = { ...up.headers };
        delete outHeaders.connection;
        delete outHeaders["keep-alive"];
        res.writeHead(up.statusCode ?? 502, outHeaders);
        let sent = 0;
        let flipped = false;
        const cutAt = fault === "reset-after" ? Math.max(1, Math.floor(length / 2)) : Number.POSITIVE_INFINITY;
        up.on("data", (chunk: Buffer) => {
          if (sent >= cutAt) return;
          let out = chunk;
          if (fault === "corrupt" && !flipped && chunk.length > 0) {
            out = Buffer.from(chunk);
            out[0] = (out[0] ?? 0) ^ 0xff;
            flipped = true;
          }
          if (sent + out.length >= cutAt) {
            out = out.subarray(0, cutAt - sent);
            sent += out.length;
            entry.responseBytes += out.length;
            res.write(out, () => {
              up.destroy();
              kill();
            });
            return;
          }
          sent += out.length;
          entry.responseBytes += out.length;
          if (!res.write(out)) {
            up.pause();
            res.once("drain", () => up.resume());
          }
        });
        up.on("end", () => {
          if (sent < cutAt) res.end();
        });
        up.on("error", () => kill());
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(502, { connection: "close" });
        res.end();
      } else {
        kill();
      }
    });
    req.pipe(upstream);
    req.on("error", () => upstream.destroy());
  };

  const server = createServer({ keepAliveTimeout: 5000 }, handle);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, options.listenHost ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    host: `${options.listenHost ?? "127.0.0.1"}:${port}`,
    requests,
    configure(next: FaultSettings): void {
      settings = next;
    },
    clear(): void {
      requests.length = 0;
      seen.clear();
    },
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}
