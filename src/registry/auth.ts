/**
 * Challenge-driven registry authentication, as in the Docker token protocol
 * (https://distribution.github.io/distribution/spec/auth/token/) and its
 * OAuth2 variant (https://distribution.github.io/distribution/spec/auth/oauth/).
 *
 * A registry answers 401 with `WWW-Authenticate: Basic realm=...` or
 * `Bearer realm=...,service=...,scope=...`. For Basic we send the user's
 * credentials; for Bearer we fetch a token from the realm for the scopes the
 * request needs (`repository:NAME:pull`, `...:pull,push`) and retry once.
 * Tokens are cached per (realm, service, user) with the scopes they grant
 * until `expires_in`, so a push of many blobs costs one token request. Once
 * a registry has challenged us, later requests are authorized up front
 * instead of paying a 401 round trip each.
 */
import type { Dispatcher } from "undici";
import { undiciRequest } from "./undici-lite.js";
import { BuildError } from "../diagnostics/build-error.js";
import { compareCodeUnits } from "../util/compare.js";
import type { CredentialProvider, Credentials } from "./credentials.js";
import { isInsecureHost } from "./endpoint.js";
import { formatStatus, parseErrorBody, redactUrl, unreachableError } from "./errors.js";
import { abortedError, isRetryableStatus, parseRetryAfter, withRetry, type RetryPolicy } from "./retry.js";

/** One challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  /** The scheme, lowercased: `basic`, `bearer`, or anything else a server sends. */
  readonly scheme: string;
  /** Auth parameters with lowercased names and unquoted values (`realm`, `service`, `scope`, `error`). */
  readonly params: Readonly<Record<string, string>>;
  /** A token68 value (`Negotiate abc==`), when the challenge carries one instead of parameters. */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses `WWW-Authenticate` header value(s) per RFC 7235: one or more
 * challenges, each a scheme followed by comma-separated `name=value`
 * parameters whose values may be quoted strings containing commas, spaces
 * and backslash escapes. Never throws: malformed input yields the
 * challenges that could be read.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (typeof header !== "string") return header.flatMap((h) => parseWwwAuthenticate(h));
  const s = header;
  let pos = 0;
  const challenges: AuthChallenge[] = [];

  const skipWs = (): void => {
    while (pos < s.length && (s[pos] === " " || s[pos] === "\t")) pos++;
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < s.length && TCHAR.test(s[pos] ?? "")) pos++;
    return s.slice(start, pos);
  };
  // Unquoted values should be tokens, but servers send bare URLs too; read
  // up to the next separator.
  const readBare = (): string => {
    const start = pos;
    while (pos < s.length && s[pos] !== "," && s[pos] !== " " && s[pos] !== "\t") pos++;
    return s.slice(start, pos);
  };
  const readQuoted = (): string => {
    pos++; // opening quote
    let out = "";
    while (pos < s.length && s[pos] !== '"') {
      if (s[pos] === "\\" && pos + 1 < s.length) pos++;
      out += s[pos];
      pos++;
    }
    pos++; // closing quote (or end of input)
    return out;
  };

  while (pos < s.length) {
    // Separators between challenges.
    while (pos < s.length && (s[pos] === "," || s[pos] === " " || s[pos] === "\t")) pos++;
    if (pos >= s.length) break;
    const scheme = readToken();
    if (scheme === "") {
      pos++; // unexpected character: skip it
      continue;
    }
    const params: Record<string, string> = {};
    let token68: string | undefined;
    skipWs();
    for (;;) {
      const save = pos;
      const name = readToken();
      const afterName = pos;
      skipWs();
      const first = Object.keys(params).length === 0 && token68 === undefined;
      if (name !== "" && s[pos] === "=") {
        // `abc==` followed by a comma or the end is a token68 with padding,
        // not a parameter named "abc" with an empty value.
        const padded = /^(=+)[ \t]*(,|$)/.exec(s.slice(afterName));
        if (first && padded !== null) {
          token68 = name + (padded[1] ?? "");
          pos = afterName + (padded[1] ?? "").length;
          break;
        }
        pos++; // "="
        skipWs();
        params[name.toLowerCase()] = s[pos] === '"' ? readQuoted() : readBare();
        skipWs();
        if (s[pos] !== ",") break;
        pos++;
        skipWs();
        continue;
      }
      if (name !== "" && first && /^[ \t]*(,|$)/.test(s.slice(afterName))) {
        token68 = name; // `Negotiate abc`
        break;
      }
      // The next challenge's scheme (or garbage): leave it for the outer loop.
      pos = save;
      break;
    }
    challenges.push(token68 === undefined ? { scheme: scheme.toLowerCase(), params } : { scheme: scheme.toLowerCase(), params, token68 });
  }
  return challenges;
}

/** A `type:name:actions` scope such as `repository:library/alpine:pull,push`. */
export type Scope = string;

/** The scope for `actions` on a repository: `repository:NAME:pull` or `repository:NAME:pull,push`. */
export function repositoryScope(repository: string, actions: readonly ("pull" | "push" | "delete" | "*")[]): Scope {
  return `repository:${repository}:${actions.join(",")}`;
}

/** A parsed scope: resource (`type:name`) and its actions. */
interface ParsedScope {
  readonly resource: string;
  readonly actions: ReadonlySet<string>;
}

function parseScope(scope: Scope): ParsedScope | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  return { resource: scope.slice(0, last), actions: new Set(scope.slice(last + 1).split(",").filter((a) => a !== "")) };
}

/**
 * Merges scopes naming the same resource (`repository:a:pull` +
 * `repository:a:push` → `repository:a:pull,push`), splitting space-separated
 * lists (as in a challenge's `scope` parameter), dropping malformed
 * entries, and sorting so equal sets print equally.
 */
export function mergeScopes(scopes: Iterable<Scope>): Scope[] {
  const byResource = new Map<string, Set<string>>();
  for (const entry of scopes) {
    for (const one of entry.split(" ")) {
      const parsed = parseScope(one.trim());
      if (parsed === undefined) continue;
      const set = byResource.get(parsed.resource) ?? new Set<string>();
      for (const a of parsed.actions) set.add(a);
      byResource.set(parsed.resource, set);
    }
  }
  const order = (a: string): number => (a === "pull" ? 0 : a === "push" ? 1 : 2);
  return [...byResource]
    // Code-unit order, as the outer sort.
    .map(([resource, actions]) => `${resource}:${[...actions].sort((a, b) => order(a) - order(b) || compareCodeUnits(a, b)).join(",")}`)
    .sort();
}

/** True when a token granting `granted` covers every action of `wanted`. */
function covers(granted: readonly Scope[], wanted: readonly Scope[]): boolean {
  const map = new Map<string, ReadonlySet<string>>();
  for (const g of granted) {
    const p = parseScope(g);
    if (p !== undefined) map.set(p.resource, p.actions);
  }
  return wanted.every((w) => {
    const p = parseScope(w);
    if (p === undefined) return true;
    const have = map.get(p.resource);
    return have !== undefined && (have.has("*") || [...p.actions].every((a) => have.has(a)));
  });
}

/** A bearer token with what it was issued for. */
export interface CachedToken {
  /** The bearer token. */
  readonly token: string;
  /** Scopes it was requested with. */
  readonly scopes: readonly Scope[];
  /** Epoch ms after which it is not used any more. */
  readonly expiresAt: number;
}

/**
 * Bearer tokens by (realm, service, user). Lookups accept any unexpired
 * token whose scopes cover the request, so a `pull,push` token obtained for
 * a push also serves that push's HEAD requests. Shareable between clients.
 */
export class TokenCache {
  readonly #entries = new Map<string, CachedToken[]>();
  readonly #now: () => number;

  /** `now` is injectable for tests. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** An unexpired token under `key` covering `scopes`, if any. */
  find(key: string, scopes: readonly Scope[]): CachedToken | undefined {
    const now = this.#now();
    const list = (this.#entries.get(key) ?? []).filter((t) => t.expiresAt > now);
    this.#entries.set(key, list);
    return list.find((t) => covers(t.scopes, scopes));
  }

  /** Stores a token under `key`. */
  put(key: string, token: CachedToken): void {
    const list = this.#entries.get(key) ?? [];
    list.push(token);
    this.#entries.set(key, list);
  }

  /** Forgets `token` wherever it is cached (the registry rejected it). */
  invalidate(token: string): void {
    for (const [key, list] of this.#entries) {
      this.#entries.set(
        key,
        list.filter((t) => t.token !== token),
      );
    }
  }
}

/** Default token lifetime when the token server gives none, and the minimum Docker assumes. */
const DEFAULT_TOKEN_SECONDS = 60;

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** The registry host, e.g. `127.0.0.1:5000`: the key for credential lookup and messages. */
  readonly host: string;
  /** Where credentials come from. Default: none (anonymous). */
  readonly credentials?: CredentialProvider;
  /** HTTP dispatcher for token requests. */
  readonly dispatcher: Dispatcher;
  /** Token cache; pass one to share tokens between clients. */
  readonly tokenCache?: TokenCache;
  /** Hosts allowed over plain HTTP (see endpoint.ts); governs where credentials may be sent in clear. */
  readonly insecureRegistries?: readonly string[];
  /** `User-Agent` for token requests. */
  readonly userAgent?: string;
  /** Retry policy for token requests. */
  readonly retry?: RetryPolicy;
  /** OAuth2 `client_id` sent with identity-token exchanges. Default `tsbuild`. */
  readonly clientId?: string;
  /** Clock, injectable for tests. */
  readonly now?: () => number;
}

/** Options of the per-request calls of {@link Authenticator}. */
export interface AuthorizeOptions {
  /** Cancels a token request. */
  readonly signal?: AbortSignal;
}

/**
 * Authentication state for one registry host: the last challenge it sent,
 * the user's credentials (looked up once), and the token cache. Used by the
 * transport: {@link authorize} before a request, {@link respond} after a 401.
 */
export class Authenticator {
  readonly #opts: AuthenticatorOptions;
  readonly #cache: TokenCache;
  readonly #now: () => number;
  #challenge: AuthChallenge | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;
  /** In-flight token requests by cache key + scopes, so concurrent 401s share one fetch. */
  readonly #inflight = new Map<string, Promise<CachedToken>>();
  #tokenRequests = 0;

  /** See {@link AuthenticatorOptions}. */
  constructor(options: AuthenticatorOptions) {
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#cache = options.tokenCache ?? new TokenCache({ now: this.#now });
  }

  /** How many token requests this authenticator has sent (for diagnostics and tests). */
  get tokenRequests(): number {
    return this.#tokenRequests;
  }

  /**
   * The `Authorization` value for a request needing `scopes`, when the
   * registry has challenged us before; undefined before the first challenge
   * or when we have nothing to offer (anonymous Basic).
   */
  async authorize(scopes: readonly Scope[], options: AuthorizeOptions = {}): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (challenge === undefined) return undefined;
    return this.#answer(challenge, scopes, undefined, options);
  }

  /**
   * Handles a 401: records the registry's challenge and returns the
   * `Authorization` value to retry with. When `rejected` (the value the 401
   * answered) was a token, it is dropped from the cache and a fresh one is
   * fetched, so a retry never repeats a rejected token. Returns undefined
   * when there is nothing to retry with (no usable challenge, no
   * credentials for Basic); the caller then reports the 401.
   */
  async respond(
    wwwAuthenticate: string | readonly string[] | undefined,
    scopes: readonly Scope[],
    rejected: string | undefined,
    options: AuthorizeOptions = {},
  ): Promise<string | undefined> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const challenge = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (challenge === undefined) return undefined;
    this.#challenge = challenge;
    if (rejected !== undefined) {
      if (challenge.scheme === "basic" && rejected.toLowerCase().startsWith("basic ")) return undefined;
      if (rejected.toLowerCase().startsWith("bearer ")) this.#cache.invalidate(rejected.slice("bearer ".length));
    }
    // The challenge names the scope the registry wants (e.g. more actions than
    // we guessed); ask for both.
    const wanted = challenge.params.scope === undefined ? scopes : mergeScopes([...scopes, challenge.params.scope]);
    const answer = await this.#answer(challenge, wanted, rejected, options);
    // Repeating the exact value that was just rejected is pointless.
    return answer === rejected ? undefined : answer;
  }

  async #answer(
    challenge: AuthChallenge,
    scopes: readonly Scope[],
    rejected: string | undefined,
    options: AuthorizeOptions,
  ): Promise<string | undefined> {
    const credentials = await this.#lookupCredentials(options);
    if (challenge.scheme === "basic") {
      if (credentials?.kind !== "basic") return undefined;
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}`;
    }
    if (challenge.scheme !== "bearer") return undefined;
    const token = await this.#token(challenge, mergeScopes(scopes), credentials, rejected !== undefined, options);
    return `Bearer ${token.token}`;
  }

  #lookupCredentials(options: AuthorizeOptions): Promise<Credentials | undefined> {
    if (this.#credentials === undefined) {
      const provider = this.#opts.credentials;
      this.#credentials = provider === undefined ? Promise.resolve(undefined) : provider.get(this.#opts.host, options);
      // A failed lookup (e.g. a cancelled helper) must not poison later requests.
      this.#credentials.catch(() => {
        this.#credentials = undefined;
      });
    }
    return this.#credentials;
  }

  async #token(
    challenge: AuthChallenge,
    scopes: readonly Scope[],
    credentials: Credentials | undefined,
    fresh: boolean,
    options: AuthorizeOptions,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm ?? "";
    const service = challenge.params.service ?? "";
    const user = credentials === undefined ? "" : credentials.kind === "basic" ? credentials.username : `<token>`;
    const key = JSON.stringify([realm, service, user]);
    if (!fresh) {
      const cached = this.#cache.find(key, scopes);
      if (cached !== undefined) return cached;
    }
    const flightKey = JSON.stringify([key, scopes]);
    const pending = this.#inflight.get(flightKey);
    if (pending !== undefined) return pending;
    const promise = this.#fetchToken(realm, service, scopes, credentials, options).then((t) => {
      this.#cache.put(key, t);
      return t;
    });
    this.#inflight.set(flightKey, promise);
    try {
      return await promise;
    } finally {
      this.#inflight.delete(flightKey);
    }
  }

  async #fetchToken(
    realm: string,
    service: string,
    scopes: readonly Scope[],
    credentials: Credentials | undefined,
    options: AuthorizeOptions,
  ): Promise<CachedToken> {
    const host = this.#opts.host;
    let url: URL;
    try {
      url = new URL(realm);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
    } catch {
      throw new BuildError("REGISTRY_AUTH", `registry ${host} sent an unusable token realm "${redactUrl(realm)}"`);
    }
    // Credentials travel to the realm, which may be another host than the
    // registry: over plain HTTP that is only acceptable where the user allowed
    // plain HTTP anyway (loopback, --insecure-registry).
    if (credentials !== undefined && url.protocol === "http:" && !isInsecureHost(url.host, this.#opts.insecureRegistries)) {
      throw new BuildError(
        "REGISTRY_AUTH",
        `refusing to send credentials for ${host} over plain HTTP to token server ${redactUrl(url)}`,
        { hint: `mark ${url.host} as an insecure registry if this is intended` },
      );
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#opts.userAgent !== undefined) headers["user-agent"] = this.#opts.userAgent;
    let method: "GET" | "POST" = "GET";
    let body: string | undefined;
    if (credentials?.kind === "identity-token") {
      // OAuth2 refresh-token grant; scopes are space-separated in the form.
      method = "POST";
      headers["content-type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credentials.identityToken,
        service,
        client_id: this.#opts.clientId ?? "tsbuild",
      });
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      body = form.toString();
    } else {
      if (service !== "") url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      if (credentials?.kind === "basic") {
        url.searchParams.set("account", credentials.username);
        headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}`;
      }
    }
    const { signal } = options;
    let res: Dispatcher.ResponseData;
    try {
      res = await withRetry(
        () => {
          this.#tokenRequests++;
          return undiciRequest(url, { method, headers, body, signal, dispatcher: this.#opts.dispatcher });
        },
        {
          ...this.#opts.retry,
          signal,
          check: (r) =>
            isRetryableStatus(r.statusCode)
              ? { retry: true, afterMs: parseRetryAfter(r.headers["retry-after"]), discard: () => r.body.dump() }
              : { retry: false },
        },
      );
    } catch (err) {
      if (err instanceof BuildError) throw err;
      if (signal?.aborted) throw abortedError(signal, "token request");
      throw unreachableError(url.host, err);
    }
    const text = await readLimited(res.body, 1024 * 1024);
    if (res.statusCode !== 200) {
      const details = parseErrorBody(text)
        .map((e) => (e.code === "" ? e.message : `${e.code}: ${e.message}`))
        .filter((d) => d !== "");
      const auth = res.statusCode === 401 || res.statusCode === 403;
      throw new BuildError(
        auth ? "REGISTRY_AUTH" : "REGISTRY_ERROR",
        [`authentication to ${host} failed: token server ${redactUrl(url)}`, formatStatus(res.statusCode), ...details].join(": "),
        auth ? { hint: `check the credentials for ${host} ('tsbuild login ${host}')` } : {},
      );
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw new BuildError("REGISTRY_AUTH", `token server ${redactUrl(url)} for ${host} answered with invalid JSON`, { cause: err });
    }
    const token =
      typeof parsed.token === "string" && parsed.token !== ""
        ? parsed.token
        : typeof parsed.access_token === "string"
          ? parsed.access_token
          : "";
    if (token === "") {
      throw new BuildError("REGISTRY_AUTH", `token server ${redactUrl(url)} for ${host} returned no token`);
    }
    const seconds = Math.max(DEFAULT_TOKEN_SECONDS, Number(parsed.expires_in) || DEFAULT_TOKEN_SECONDS);
    // Expire a little early (10%, at most 30 s) so a token is never sent in the
    // moment it lapses; our clock, not the server's issued_at, decides, which
    // makes clock skew harmless.
    const margin = Math.min(30, seconds * 0.1) * 1000;
    return { token, scopes, expiresAt: this.#now() + seconds * 1000 - margin };
  }
}

/** Reads a small response body as text, refusing more than `limit` bytes. */
async function readLimited(body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      body.destroy();
      throw new BuildError("REGISTRY_ERROR", `token server response larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}
