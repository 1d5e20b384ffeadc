/**
 * Runs a real CNCF distribution registry (Debian's `docker-registry`) for a
 * test, on 127.0.0.1 with a free port, storing into a temp dir.
 *
 * @example
 * import { afterAll, beforeAll } from "vitest";
 * import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
 *
 * let registry: TestRegistry;
 * beforeAll(async () => { registry = await startRegistry({ auth: "htpasswd" }); });
 * afterAll(() => registry?.stop());
 * // registry.host === "127.0.0.1:PORT"; registry.username / registry.password are valid credentials.
 *
 * Auth modes:
 * - `none` (default): anonymous pull and push.
 * - `htpasswd`: Basic auth; a bcrypt htpasswd file made with `htpasswd -Bbn`.
 * - `token`: the Docker token protocol, against the token server of
 *   token-server.ts (exposed as `tokenServer`, e.g. to count its requests).
 *
 * Processes: the registry is a child process. `stop()` kills it (TERM, then
 * KILL after 5 s), stops the token server and removes the temp dir; it is
 * idempotent, so calling it from `afterAll` and from a failing `beforeAll`
 * is fine. A process-exit hook kills registries a test forgot to stop.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTokenServer, type TokenServer } from "./token-server.js";

const run = promisify(execFile);

/** Options of {@link startRegistry}. */
export interface StartRegistryOptions {
  /** Authentication the registry requires. Default `none`. */
  readonly auth?: "none" | "htpasswd" | "token";
  /** User name for `htpasswd`/`token` modes. Default `tester`. */
  readonly username?: string;
  /** Password for `htpasswd`/`token` modes. Default: random. */
  readonly password?: string;
  /** Token mode: `expires_in` of issued tokens, in seconds. Default 300. */
  readonly tokenExpiresIn?: number;
  /** Token mode: actions granted to anonymous token requests (e.g. `["pull"]`). Default none. */
  readonly anonymousActions?: readonly string[];
  /** How long to wait for `/v2/` to answer, in ms. Default 20 000. */
  readonly startTimeoutMs?: number;
}

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: the registry host as references and clients use it. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Valid user name (htpasswd and token modes). */
  readonly username?: string;
  /** Valid password (htpasswd and token modes). */
  readonly password?: string;
  /** Token mode: the token server (its `requests` record every token request). */
  readonly tokenServer?: TokenServer;
  /** The temp dir holding config, storage and logs (removed by `stop()`). */
  readonly dir: string;
  /** The registry's log so far (stdout+stderr), for diagnosing a failing test. */
  logs(): Promise<string>;
  /** Stops everything and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Registries not yet stopped, killed on process exit so a crashed test run leaks nothing. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** GET `url`, resolving with the status, or undefined when nothing answers. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

function yamlString(s: string): string {
  return JSON.stringify(s); // JSON strings are valid YAML double-quoted scalars
}

/** Starts a registry; see the module comment. Throws (after cleaning up) if it does not come up. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  installExitHook();
  const auth = options.auth ?? "none";
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-registry-"));
  const username = auth === "none" ? undefined : (options.username ?? "tester");
  const password = auth === "none" ? undefined : (options.password ?? `pw-${randomBytes(9).toString("base64url")}`);
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child !== undefined) await killChild(child);
      await tokenServer?.stop();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const logPath = join(dir, "registry.log");
  const logs = async (): Promise<string> => {
    try {
      return await readFile(logPath, "utf8");
    } catch {
      return "";
    }
  };

  try {
    let authYaml = "";
    if (auth === "htpasswd") {
      const { stdout } = await run("htpasswd", ["-Bbn", username ?? "", password ?? ""]);
      await writeFile(join(dir, "htpasswd"), stdout);
      authYaml = ["auth:", "  htpasswd:", "    realm: tsbuild-test", `    path: ${yamlString(join(dir, "htpasswd"))}`].join("\n");
    } else if (auth === "token") {
      const service = "tsbuild-test-registry";
      const issuer = "tsbuild-test-issuer";
      tokenServer = await startTokenServer({
        username: username ?? "",
        password: password ?? "",
        service,
        issuer,
        expiresIn: options.tokenExpiresIn,
        anonymousActions: options.anonymousActions,
        dir,
      });
      authYaml = [
        "auth:",
        "  token:",
        `    realm: ${yamlString(tokenServer.realm)}`,
        `    service: ${yamlString(service)}`,
        `    issuer: ${yamlString(issuer)}`,
        `    rootcertbundle: ${yamlString(tokenServer.certPath)}`,
      ].join("\n");
    }

    // A port can be taken between freePort() and the registry's bind; retry then.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${yamlString(join(dir, "data"))}`,
        "  delete:",
        "    enabled: true",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        `  addr: 127.0.0.1:${port}`,
        // Fixed per registry: signs upload-session state; without it the
        // registry generates one and logs a warning.
        `  secret: ${randomBytes(16).toString("hex")}`,
        authYaml,
        "",
      ].join("\n");
      const configPath = join(dir, "config.yml");
      await writeFile(configPath, config);
      const log = await open(logPath, "a");
      const proc = spawn("docker-registry", ["serve", configPath], {
        stdio: ["ignore", log.fd, log.fd],
      });
      await log.close();
      child = proc;
      live.add(proc);
      proc.on("exit", () => live.delete(proc));
      const url = `http://127.0.0.1:${port}`;
      const up = await waitUntilUp(proc, `${url}/v2/`, options.startTimeoutMs ?? 20_000);
      if (up) {
        return { host: `127.0.0.1:${port}`, url, username, password, tokenServer, dir, logs, stop };
      }
      const text = await logs();
      await killChild(proc);
      if (attempt < 3 && /address already in use/i.test(text)) continue;
      throw new Error(`docker-registry did not start (auth=${auth}):\n${text.slice(-3000)}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls until `/v2/` answers 200 or 401; false if the process exits or time runs out. */
async function waitUntilUp(proc: ChildProcess, url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    const status = await probe(url);
    if (status === 200 || status === 401) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** TERM, then KILL after 5 s; resolves when the process has exited. */
async function killChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    live.delete(proc);
    return;
  }
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
  live.delete(proc);
}
