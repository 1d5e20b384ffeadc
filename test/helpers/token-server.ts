/**
 * A minimal Docker token server (https://distribution.github.io/distribution/spec/auth/token/)
 * for tests, on 127.0.0.1, used by `startRegistry({ auth: "token" })`.
 *
 * - `GET /token?service=S&scope=repository:NAME:pull,push&scope=...` with
 *   optional Basic credentials (the classic Docker flow);
 * - `POST /token` with a form (`grant_type=password` or
 *   `grant_type=refresh_token`) — the OAuth2 flow, used with identity tokens.
 *
 * Tokens are JWTs signed ES256 by a key generated per server, with the
 * self-signed certificate of that key in the `x5c` header: distribution
 * (2.8, libtrust-based) accepts a signing key from `x5c` when the chain
 * verifies against its `rootcertbundle`, and a self-signed leaf that is
 * itself in the bundle does. (`kid` would need libtrust's key-ID format;
 * `x5c` avoids that.) node:crypto cannot create X.509 certificates, so the
 * key and certificate come from `openssl req -x509`.
 *
 * Authenticated users get every action they ask for on `repository`
 * resources; anonymous requests get the actions in `anonymousActions`
 * (none by default, so anonymous access is refused by the registry).
 * Every request is recorded in `requests`, so tests can assert token caching.
 */
import { execFile } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One request the token server received. */
export interface TokenRequest {
  /** `GET` or `POST`. */
  readonly method: string;
  /** The authenticated user, or undefined for anonymous/failed requests. */
  readonly account: string | undefined;
  /** Requested scopes, one entry per scope. */
  readonly scopes: readonly string[];
  /** `basic`, `password`, `refresh_token` or `anonymous`. */
  readonly grant: string;
  /** HTTP status the server answered. */
  readonly status: number;
}

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  /** The user name accepted with {@link password}. */
  readonly username: string;
  /** The password accepted for {@link username}. */
  readonly password: string;
  /** The `service` (JWT audience) the registry is configured with. */
  readonly service: string;
  /** The JWT issuer the registry is configured with. */
  readonly issuer: string;
  /** `expires_in` of issued tokens, in seconds. Default 300. */
  readonly expiresIn?: number;
  /** Actions granted to anonymous requests (e.g. `["pull"]`). Default none. */
  readonly anonymousActions?: readonly string[];
  /** Directory for the key and certificate. Default: a new temp dir, removed by `stop()`. */
  readonly dir?: string;
}

/** A running token server. */
export interface TokenServer {
  /** The token endpoint, e.g. `http://127.0.0.1:40123/token` (the registry's `realm`). */
  readonly realm: string;
  /** PEM certificate of the signing key (the registry's `rootcertbundle`). */
  readonly certPath: string;
  /** Every request received, in order. */
  readonly requests: TokenRequest[];
  /**
   * Issues an identity (refresh) token for the configured user, as a
   * `docker login` against an OAuth2 registry would store it. POSTs with
   * `grant_type=refresh_token` accept it.
   */
  issueRefreshToken(): string;
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Creates an EC P-256 key and a self-signed certificate for it with openssl. */
async function makeSigningKey(dir: string): Promise<{ key: KeyObject; certPath: string; certDer: Buffer }> {
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=tsbuild-test-token-issuer",
  ]);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  return { key, certPath, certDer };
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** Parses `type:name:a,b` scopes (several may be space-separated in one value). */
function parseScopes(values: readonly string[]): { scopes: string[]; access: Access[] } {
  const scopes = values.flatMap((v) => v.split(" ")).filter((s) => s !== "");
  const access = scopes.flatMap((scope): Access[] => {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || last <= first) return [];
    return [{ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",") }];
  });
  return { scopes, access };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Starts a token server; see the module comment. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "tsbuild-token-")));
  const { key, certPath, certDer } = await makeSigningKey(dir);
  const expiresIn = options.expiresIn ?? 300;
  const requests: TokenRequest[] = [];
  const refreshTokens = new Set<string>();

  const makeToken = (account: string | undefined, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const granted = access
      .filter((a) => a.type === "repository")
      .map((a) => ({
        ...a,
        actions: account === undefined ? a.actions.filter((x) => options.anonymousActions?.includes(x) ?? false) : a.actions,
      }))
      .filter((a) => a.actions.length > 0);
    const header = { typ: "JWT", alg: "ES256", x5c: [certDer.toString("base64")] };
    const claims = {
      iss: options.issuer,
      sub: account ?? "",
      aud: options.service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access: granted,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS ES256 signatures are raw r||s, not DER.
    const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(signature)}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    if (url.pathname !== "/token") {
      sendJson(res, 404, { details: "not found" });
      return;
    }
    const record = (account: string | undefined, scopes: string[], grant: string, status: number): void => {
      requests.push({ method: req.method ?? "", account, scopes, grant, status });
    };
    if (req.method === "GET") {
      const { scopes, access } = parseScopes(url.searchParams.getAll("scope"));
      const authz = req.headers.authorization;
      if (authz === undefined) {
        record(undefined, scopes, "anonymous", 200);
        sendJson(res, 200, { token: makeToken(undefined, access), expires_in: expiresIn, issued_at: new Date().toISOString() });
        return;
      }
      const decoded = authz.startsWith("Basic ") ? Buffer.from(authz.slice(6), "base64").toString("utf8") : "";
      const colon = decoded.indexOf(":");
      const user = decoded.slice(0, colon);
      const pass = decoded.slice(colon + 1);
      if (colon < 0 || user !== options.username || pass !== options.password) {
        record(undefined, scopes, "basic", 401);
        sendJson(res, 401, { details: "incorrect username or password" }, { "www-authenticate": 'Basic realm="tsbuild-test-token"' });
        return;
      }
      record(user, scopes, "basic", 200);
      const token = makeToken(user, access);
      sendJson(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
      return;
    }
    if (req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const { scopes, access } = parseScopes(form.getAll("scope"));
      const grant = form.get("grant_type") ?? "";
      let account: string | undefined;
      if (grant === "password" && form.get("username") === options.username && form.get("password") === options.password) {
        account = options.username;
      } else if (grant === "refresh_token" && refreshTokens.has(form.get("refresh_token") ?? "")) {
        account = options.username;
      }
      if (account === undefined) {
        record(undefined, scopes, grant, 401);
        sendJson(res, 401, { error: "invalid_grant", error_description: "invalid credentials" });
        return;
      }
      record(account, scopes, grant, 200);
      sendJson(res, 200, { access_token: makeToken(account, access), expires_in: expiresIn, scope: scopes.join(" ") });
      return;
    }
    sendJson(res, 405, { details: "method not allowed" });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { details: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests,
    issueRefreshToken(): string {
      const t = randomBytes(24).toString("base64url");
      refreshTokens.add(t);
      return t;
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
