/**
 * One HTTP exchange with a registry, with everything the distribution API
 * needs around it: scheme selection (endpoint.ts), challenge-driven auth
 * (auth.ts), retries of transient failures (retry.ts), and manual redirect
 * following that never forwards `Authorization` to another origin (blob
 * downloads are commonly redirected to object storage or a CDN, which must
 * not see the user's registry token).
 *
 * The transport returns any HTTP status to its caller; only failures
 * without an HTTP answer become errors here (REGISTRY_UNREACHABLE, ABORTED).
 */
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Agent } from "undici";
import { UndiciAgent, undiciRequest } from "./undici-lite.js";
import { BuildError } from "../diagnostics/build-error.js";
import { Authenticator, TokenCache, type Scope } from "./auth.js";
import type { CredentialProvider } from "./credentials.js";
import { registryBaseUrl } from "./endpoint.js";
import { connectOption } from "./tls-trust.js";
import { unreachableError } from "./errors.js";
import { abortedError, isRetryableError, isRetryableStatus, parseRetryAfter, withRetry, type RetryPolicy } from "./retry.js";

/** HTTP methods the registry API uses. */
export type RegistryMethod = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

/**
 * Produces a request body, afresh for every attempt: a consumed stream
 * cannot be sent twice, so retries, auth retries and redirects call the
 * factory again.
 */
export type BodyFactory = () => Readable | Uint8Array | string | Promise<Readable | Uint8Array | string>;

/** Options shared by everything that talks to one registry host. */
export interface TransportOptions {
  /** Registry host, `host[:port]` (e.g. `127.0.0.1:5000`, `registry-1.docker.io`). */
  readonly host: string;
  /** Hosts spoken to over plain HTTP besides loopback (`--insecure-registry`, `TSBUILD_INSECURE_REGISTRIES`). */
  readonly insecureRegistries?: readonly string[];
  /** Where credentials come from. Default: anonymous. */
  readonly credentials?: CredentialProvider;
  /**
   * The undici dispatcher to use (share one across clients, or pass a proxy
   * agent). Default: an {@link Agent} owned, and closed, by this transport.
   */
  readonly dispatcher?: Dispatcher;
  /** Token cache, to share tokens across clients. */
  readonly tokenCache?: TokenCache;
  /** `User-Agent` header. Default `tsbuild`. */
  readonly userAgent?: string;
  /** Retry policy for transient failures. */
  readonly retry?: RetryPolicy;
  /** Most redirects followed for one request. Default 10. */
  readonly maxRedirects?: number;
}

/** One request for {@link RegistryTransport.send}. */
export interface SendOptions {
  /** The HTTP method. */
  readonly method: RegistryMethod;
  /** A path on the registry (`/v2/...`, may include a query) or an absolute URL (an upload `Location`). */
  readonly url: string | URL;
  /** Auth scopes this request needs, e.g. `repository:foo:pull`. Empty for `/v2/`. */
  readonly scopes: readonly Scope[];
  /** Extra request headers (never `Authorization`: the transport owns it). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The request body, as a factory (see {@link BodyFactory}). */
  readonly body?: BodyFactory;
  /** Cancels the request, its retries, and the response body stream. */
  readonly signal?: AbortSignal;
  /** False to send once, without retrying transient failures (non-idempotent steps). Default true. */
  readonly retry?: boolean;
  /** Follow 3xx redirects. Default: true for GET and HEAD, false otherwise. */
  readonly followRedirects?: boolean;
}

/** A registry response: status, headers, and the unread body stream. */
export interface RegistryResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers (lowercase names). */
  readonly headers: IncomingHttpHeaders;
  /** Body stream; callers must consume it, or call `dump()`, to free the connection. */
  readonly body: Dispatcher.ResponseData["body"];
  /** The URL that finally answered (after redirects). */
  readonly url: URL;
}

/** Response headers as undici gives them: lowercase names, repeated headers as arrays. */
export type IncomingHttpHeaders = Dispatcher.ResponseData["headers"];

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** First value of a possibly repeated header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Sends requests to one registry host. Holds that host's authentication
 * state, so use one transport (or client) per registry for a whole pull or
 * push, and {@link close} it afterwards.
 */
export class RegistryTransport {
  /** The registry host this transport talks to. */
  readonly host: string;
  /** `http(s)://host`: the origin of every `/v2/` request. */
  readonly baseUrl: URL;
  /** This host's authentication state (exposed for diagnostics, e.g. {@link Authenticator.tokenRequests}). */
  readonly authenticator: Authenticator;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #options: TransportOptions;

  /** See {@link TransportOptions}. */
  constructor(options: TransportOptions) {
    this.#options = options;
    this.host = options.host;
    this.baseUrl = new URL(registryBaseUrl(options.host, options.insecureRegistries));
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new UndiciAgent({ keepAliveTimeout: 10_000, connect: connectOption(30_000) });
    this.authenticator = new Authenticator({
      host: options.host,
      credentials: options.credentials,
      dispatcher: this.#dispatcher,
      tokenCache: options.tokenCache ?? new TokenCache(),
      insecureRegistries: options.insecureRegistries,
      userAgent: options.userAgent ?? "tsbuild",
      retry: options.retry,
    });
  }

  /** Resolves a registry path or absolute URL against {@link baseUrl}. */
  resolve(url: string | URL): URL {
    return new URL(url, this.baseUrl);
  }

  /**
   * Sends a request: authorizes it, retries transient failures (429/5xx,
   * reset connections) with backoff, answers one 401 challenge, and follows
   * redirects. Resolves with whatever status the registry finally gave.
   */
  async send(options: SendOptions): Promise<RegistryResponse> {
    const { signal } = options;
    try {
      return await withRetry(() => this.#sendAuthorized(options), {
        ...this.#options.retry,
        attempts: options.retry === false ? 1 : this.#options.retry?.attempts,
        signal,
        check: (r) =>
          isRetryableStatus(r.status)
            ? { retry: true, afterMs: parseRetryAfter(r.headers["retry-after"]), discard: () => r.body.dump() }
            : { retry: false },
      });
    } catch (err) {
      if (err instanceof BuildError) throw err;
      if (signal?.aborted) throw abortedError(signal);
      if (typeof err === "object" && err !== null && sourceErrors.has(err)) {
        // The caller's data failed (a file vanished...), not the network.
        throw new BuildError("IO_READ", `cannot read the data to upload to ${this.host}: ${(err as Error).message}`, { cause: err });
      }
      if (isUndiciCode(err, "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH")) {
        throw new BuildError("DIGEST_MISMATCH", `upload body to ${this.host} did not have the declared size`, { cause: err });
      }
      throw unreachableError(this.host, err);
    }
  }

  async #sendAuthorized(options: SendOptions): Promise<RegistryResponse> {
    const url = this.resolve(options.url);
    const toRegistry = url.origin === this.baseUrl.origin;
    const authorization = toRegistry ? await this.authenticator.authorize(options.scopes, options) : undefined;
    const res = await this.#sendFollowing(options, url, authorization);
    if (res.status !== 401 || res.url.origin !== this.baseUrl.origin) return res;
    const retryWith = await this.authenticator.respond(
      res.headers["www-authenticate"],
      options.scopes,
      authorization,
      options,
    );
    if (retryWith === undefined) return res;
    await res.body.dump();
    // Exactly one retry with fresh credentials: a second 401 is reported to
    // the caller as-is (and becomes REGISTRY_AUTH), never looped on.
    return this.#sendFollowing(options, url, retryWith);
  }

  async #sendFollowing(options: SendOptions, start: URL, authorization: string | undefined): Promise<RegistryResponse> {
    let method = options.method;
    let withBody = options.body !== undefined;
    const follow = options.followRedirects ?? (method === "GET" || method === "HEAD");
    const maxRedirects = this.#options.maxRedirects ?? 10;
    let url = start;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { "user-agent": this.#options.userAgent ?? "tsbuild", ...options.headers };
      // Credentials go to the registry's own origin only. A redirect to
      // storage or a CDN gets a bare request (its URL is pre-signed), so a
      // third party never sees the user's token or password.
      if (authorization !== undefined && url.origin === this.baseUrl.origin) headers.authorization = authorization;
      const body = withBody && options.body !== undefined ? await openBody(options.body) : undefined;
      const res = await undiciRequest(url, {
        method,
        headers,
        body: body ?? null,
        signal: options.signal,
        dispatcher: this.#dispatcher,
      });
      const location = headerValue(res.headers, "location");
      if (!follow || !REDIRECTS.has(res.statusCode) || location === undefined) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump();
      if (hop >= maxRedirects) {
        throw new BuildError("REGISTRY_ERROR", `too many redirects from registry ${this.host} (more than ${maxRedirects})`);
      }
      url = new URL(location, url);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new BuildError("REGISTRY_ERROR", `registry ${this.host} redirected to an unsupported URL scheme "${url.protocol}"`);
      }
      if (res.statusCode === 303 && method !== "HEAD") {
        method = "GET";
        withBody = false;
      }
    }
  }

  /** Closes the dispatcher if this transport created it; idempotent. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher && !(this.#dispatcher as Agent).closed) await this.#dispatcher.close();
  }
}

/** Errors raised by request body sources, told apart from network errors. */
const sourceErrors = new WeakSet<object>();

/** Calls a body factory, marking errors of the stream it returns as source errors. */
async function openBody(factory: BodyFactory): Promise<Readable | Uint8Array | string> {
  let body: Readable | Uint8Array | string;
  try {
    body = await factory();
  } catch (err) {
    if (typeof err === "object" && err !== null) sourceErrors.add(err);
    throw err;
  }
  if (typeof body === "object" && "on" in body && typeof body.on === "function") {
    body.on("error", (err: unknown) => {
      // undici destroys the body with the socket's error when the connection
      // dies mid-upload; that is the network failing (retryable), not the
      // caller's data. Files and generators never fail with socket errors.
      if (typeof err === "object" && err !== null && !isRetryableError(err)) sourceErrors.add(err);
    });
  }
  return body;
}

function isUndiciCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
