/**
 * Registry credentials: where they come from ({@link CredentialProvider}),
 * and Docker's `config.json` format with its credential helpers, read and
 * written exactly as the docker CLI does so `docker login` and
 * `tsbuild login` share one store.
 *
 * Format reference: https://docs.docker.com/reference/cli/docker/login/#credential-stores
 * and the docker-credential-helpers protocol
 * (https://github.com/docker/docker-credential-helpers): `docker-credential-<name> get|store|erase`,
 * the server URL or a JSON object on stdin, JSON on stdout.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";

/**
 * Credentials for one registry: a username and password (sent as Basic auth,
 * or to a token server), or an identity token (an OAuth2 refresh token,
 * exchanged at the token server; what `docker login` stores for some
 * registries, and what a helper returns with the username `<token>`).
 */
export type Credentials =
  | {
      /** Discriminant: username and password. */
      readonly kind: "basic";
      /** The user name. */
      readonly username: string;
      /** The password or personal access token. */
      readonly password: string;
    }
  | {
      /** Discriminant: an OAuth2 refresh token. */
      readonly kind: "identity-token";
      /** The refresh token. */
      readonly identityToken: string;
      /** The user name, when known (informational). */
      readonly username?: string;
    };

/** Options of {@link CredentialProvider.get}. */
export interface CredentialLookupOptions {
  /** Cancels a running credential helper. */
  readonly signal?: AbortSignal;
}

/** Something that can find the credentials for a registry host. */
export interface CredentialProvider {
  /**
   * The credentials for `host` (`127.0.0.1:5000`, `registry-1.docker.io`...),
   * or undefined for anonymous access. Throws CREDENTIALS when a configured
   * source is broken (unreadable config, failing helper).
   */
  get(host: string, options?: CredentialLookupOptions): Promise<Credentials | undefined>;
}

/** A provider with no credentials at all: every registry is accessed anonymously. */
export const anonymousCredentials: CredentialProvider = {
  get: () => Promise.resolve(undefined),
};

/** A fixed host → credentials map, e.g. from command-line flags or tests. Hosts are matched case-insensitively. */
export class StaticCredentials implements CredentialProvider {
  readonly #byHost: Map<string, Credentials>;

  /** `entries` maps registry hosts to their credentials. */
  constructor(entries: Readonly<Record<string, Credentials>>) {
    this.#byHost = new Map(Object.entries(entries).map(([host, c]) => [normalizeHost(host), c]));
  }

  /** See {@link CredentialProvider.get}. */
  get(host: string): Promise<Credentials | undefined> {
    return Promise.resolve(this.#byHost.get(normalizeHost(host)));
  }
}

/** The key Docker uses for Docker Hub in `auths` and for credential helpers. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

const DOCKER_HUB_HOSTS: ReadonlySet<string> = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);

/** True when `host` is one of Docker Hub's names. */
export function isDockerHubHost(host: string): boolean {
  return DOCKER_HUB_HOSTS.has(normalizeHost(host));
}

/**
 * Reduces a config key or host to a bare lowercase `host[:port]`: strips
 * `http://`/`https://` and anything from the first `/` (Docker's
 * `ConvertToHostname`), so `https://index.docker.io/v1/` → `index.docker.io`.
 */
export function normalizeHost(keyOrHost: string): string {
  let s = keyOrHost.trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  const slash = s.indexOf("/");
  return slash >= 0 ? s.slice(0, slash) : s;
}

/** The key under which Docker stores credentials for `host` (Hub's legacy URL for Docker Hub). */
export function dockerAuthKey(host: string): string {
  return isDockerHubHost(host) ? DOCKER_HUB_AUTH_KEY : normalizeHost(host);
}

/** Where Docker's client configuration lives: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.DOCKER_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return join(home, ".docker");
}

/** Options shared by the Docker config reader and writers. */
export interface DockerConfigOptions {
  /** Directory holding `config.json`. Default: {@link dockerConfigDir} of `env`. */
  readonly configDir?: string;
  /**
   * Environment for locating the config (`DOCKER_CONFIG`, `HOME`) and for
   * running credential helpers (`PATH`). Default `process.env`.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Time limit of one credential-helper run, in ms. Default 60 000 (helpers may prompt a keychain). */
  readonly helperTimeoutMs?: number;
  /** Cancels a running credential helper. */
  readonly signal?: AbortSignal;
}

/** The parts of Docker's config.json we read and write; other fields are preserved untouched. */
interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

/**
 * Reads credentials the way the docker CLI does: a per-registry helper from
 * `credHelpers`, else the global `credsStore` helper, else (and as fallback
 * when the helper knows nothing) the `auths` section of `config.json`
 * (`auth` = base64 `user:pass`, or `username`/`password`, or
 * `identitytoken`). Keys may be written with or without a scheme; Docker
 * Hub is found under `https://index.docker.io/v1/`. The file is re-read on
 * each lookup, so a `login` in the same process is seen.
 */
export class DockerConfigCredentials implements CredentialProvider {
  readonly #options: DockerConfigOptions;

  /** See {@link DockerConfigOptions}. */
  constructor(options: DockerConfigOptions = {}) {
    this.#options = options;
  }

  /** The config.json path this provider reads. */
  get configPath(): string {
    return configPath(this.#options);
  }

  /** See {@link CredentialProvider.get}. */
  async get(host: string, options: CredentialLookupOptions = {}): Promise<Credentials | undefined> {
    const opts = { ...this.#options, signal: options.signal ?? this.#options.signal };
    const config = await readConfig(opts);
    const key = dockerAuthKey(host);
    const helper = helperFor(config, host);
    if (helper !== undefined) {
      const fromHelper = await helperGet(helper, key, opts);
      if (fromHelper !== undefined) return fromHelper;
    }
    const entry = findAuthEntry(config.auths ?? {}, host);
    return entry === undefined ? undefined : entryCredentials(entry, key);
  }
}

function configPath(options: DockerConfigOptions): string {
  return join(options.configDir ?? dockerConfigDir(options.env), "config.json");
}

async function readConfig(options: DockerConfigOptions): Promise<DockerConfigFile> {
  const path = configPath(options);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new BuildError("CREDENTIALS", `cannot read Docker config ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // The JSON parser's message may quote file content (a password), so it is
    // kept only as the cause, never in the message.
    throw new BuildError("CREDENTIALS", `Docker config ${path} is not valid JSON`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BuildError("CREDENTIALS", `Docker config ${path} is not a JSON object`);
  }
  return parsed as DockerConfigFile;
}

/** The helper name for `host`: `credHelpers` (by any of its key spellings), else `credsStore`. */
function helperFor(config: DockerConfigFile, host: string): string | undefined {
  const target = normalizeHost(dockerAuthKey(host));
  for (const [key, name] of Object.entries(config.credHelpers ?? {})) {
    if (typeof name === "string" && name !== "" && normalizeHost(dockerAuthKey(key)) === target) return name;
  }
  return typeof config.credsStore === "string" && config.credsStore !== "" ? config.credsStore : undefined;
}

function findAuthEntry(auths: Record<string, DockerAuthEntry>, host: string): DockerAuthEntry | undefined {
  const key = dockerAuthKey(host);
  const exact = auths[key];
  if (exact !== undefined) return exact;
  const target = normalizeHost(key);
  for (const [k, entry] of Object.entries(auths)) {
    if (normalizeHost(dockerAuthKey(k)) === target) return entry;
  }
  return undefined;
}

function entryCredentials(entry: DockerAuthEntry, key: string): Credentials | undefined {
  let username = typeof entry.username === "string" ? entry.username : undefined;
  let password = typeof entry.password === "string" ? entry.password : undefined;
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new BuildError("CREDENTIALS", `invalid "auth" value for ${key} in Docker config: expected base64 of user:password`);
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    return username === undefined
      ? { kind: "identity-token", identityToken: entry.identitytoken }
      : { kind: "identity-token", identityToken: entry.identitytoken, username };
  }
  if (username === undefined || username === "" || password === undefined) return undefined;
  return { kind: "basic", username, password };
}

/** Helper names are interpolated into an executable name, so only a plain word is accepted (no path tricks). */
const HELPER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Runs `docker-credential-<name> <action>` with `input` on stdin; resolves with stdout. */
function runHelper(
  name: string,
  action: "get" | "store" | "erase",
  input: string,
  options: DockerConfigOptions,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  if (!HELPER_NAME_RE.test(name)) {
    return Promise.reject(new BuildError("CREDENTIALS", `invalid credential helper name "${name}" in Docker config`));
  }
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], {
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.helperTimeoutMs ?? 60_000,
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.name === "AbortError") {
        reject(new BuildError("ABORTED", `credential helper ${program} cancelled`, { cause: e }));
      } else if (e.code === "ENOENT") {
        reject(
          new BuildError("CREDENTIALS", `credential helper ${program} not found on PATH`, {
            cause: e,
            hint: "install it, or remove credsStore/credHelpers from the Docker config",
          }),
        );
      } else {
        reject(new BuildError("CREDENTIALS", `credential helper ${program} failed: ${e.message}`, { cause: e }));
      }
    });
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (signal !== null && code === null) {
        reject(new BuildError("CREDENTIALS", `credential helper ${program} was killed (${signal})`));
        return;
      }
      resolve({ ok: code === 0, stdout, stderr });
    });
    // A helper that exits without reading stdin makes our write fail with
    // EPIPE; its exit status tells the real story, so ignore that error.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/** First line of a helper's error output, for messages. Helpers print errors, not secrets. */
function helperMessage(r: { stdout: string; stderr: string }): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split("\n")[0] ?? "";
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function isNotFound(r: { stdout: string; stderr: string }): boolean {
  return /credentials not found/i.test(r.stdout) || /credentials not found/i.test(r.stderr);
}

async function helperGet(name: string, serverUrl: string, options: DockerConfigOptions): Promise<Credentials | undefined> {
  const r = await runHelper(name, "get", serverUrl, options);
  if (!r.ok) {
    if (isNotFound(r)) return undefined;
    throw new BuildError("CREDENTIALS", `credential helper docker-credential-${name} failed for ${serverUrl}: ${helperMessage(r)}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch (err) {
    // Never echo the output: it may contain the secret.
    throw new BuildError("CREDENTIALS", `credential helper docker-credential-${name} printed invalid JSON for ${serverUrl}`, {
      cause: err,
    });
  }
  const username = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  if (secret === "") return undefined;
  // Helpers signal an identity token with this fixed username.
  if (username === "<token>") return { kind: "identity-token", identityToken: secret };
  return { kind: "basic", username, password: secret };
}

/**
 * Writes `config` atomically: a temp file (mode 0600, since it holds
 * secrets) renamed over the real one, so a crash never leaves a truncated
 * config. A symlinked config.json is written through to its target.
 */
async function writeConfig(config: DockerConfigFile, options: DockerConfigOptions): Promise<void> {
  let path = configPath(options);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    path = await realpath(path);
  } catch {
    // Does not exist yet: write it where it belongs.
  }
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new BuildError("CREDENTIALS", `cannot write Docker config ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** What {@link storeCredentials} stores: Docker login always stores a username and a password/token. */
export interface StoreCredentialsInput {
  /** The user name. */
  readonly username: string;
  /** The password or access token. */
  readonly password: string;
}

/** Where {@link storeCredentials} put the credentials. */
export interface StoredCredentials {
  /** The key they are stored under (`127.0.0.1:5000`, or Hub's `https://index.docker.io/v1/`). */
  readonly key: string;
  /** The config.json that was written. */
  readonly configPath: string;
  /** The credential helper that holds the secret; undefined when it sits (base64, not encrypted) in config.json. */
  readonly helper: string | undefined;
}

/**
 * Saves credentials for `host` in Docker's format, as `docker login` does:
 * through the credential helper when `credHelpers[host]` or `credsStore` is
 * set (leaving an empty `auths` entry so the host is listed), else as
 * base64 `user:pass` in `auths`. Other config fields are preserved.
 */
export async function storeCredentials(
  host: string,
  credentials: StoreCredentialsInput,
  options: DockerConfigOptions = {},
): Promise<StoredCredentials> {
  const config = await readConfig(options);
  const key = dockerAuthKey(host);
  const auths = { ...(config.auths ?? {}) };
  removeEntriesFor(auths, host);
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    const input = JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.password });
    const r = await runHelper(helper, "store", input, options);
    if (!r.ok) {
      throw new BuildError("CREDENTIALS", `credential helper docker-credential-${helper} could not store credentials for ${key}: ${helperMessage(r)}`);
    }
    auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64") };
  }
  await writeConfig({ ...config, auths }, options);
  return { key, configPath: configPath(options), helper };
}

/**
 * Removes the credentials for `host` (`docker logout`): erases them from
 * the helper when one is configured and drops every `auths` key that names
 * the host. Resolves true when something was removed.
 */
export async function eraseCredentials(host: string, options: DockerConfigOptions = {}): Promise<boolean> {
  const config = await readConfig(options);
  const key = dockerAuthKey(host);
  let removed = false;
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    const r = await runHelper(helper, "erase", key, options);
    if (r.ok) removed = true;
    else if (!isNotFound(r)) {
      throw new BuildError("CREDENTIALS", `credential helper docker-credential-${helper} could not erase credentials for ${key}: ${helperMessage(r)}`);
    }
  }
  const auths = { ...(config.auths ?? {}) };
  if (removeEntriesFor(auths, host)) {
    removed = true;
    await writeConfig({ ...config, auths }, options);
  }
  return removed;
}

/** Deletes every key of `auths` that names `host`; true when one was deleted. */
function removeEntriesFor(auths: Record<string, DockerAuthEntry>, host: string): boolean {
  const target = normalizeHost(dockerAuthKey(host));
  let removed = false;
  for (const k of Object.keys(auths)) {
    if (normalizeHost(dockerAuthKey(k)) === target) {
      delete auths[k];
      removed = true;
    }
  }
  return removed;
}
