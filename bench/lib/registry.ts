/**
 * A local CNCF distribution registry for benchmarks: Debian's
 * `docker-registry` on 127.0.0.1 with a free port and its own storage
 * directory, access log off (it would cost time in the measured runs).
 * The test harness (test/helpers/registry.ts) is outside the compiled tree,
 * so this is the benchmark's own small launcher.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";

/** A running benchmark registry. */
export interface BenchRegistry {
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** Stops the registry (TERM, then KILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
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

/** Starts a registry storing under `dir`; throws if it does not answer `/v2/` within 20 s. */
export async function startBenchRegistry(dir: string): Promise<BenchRegistry> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(join(dir, "data"))}`,
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
    "",
  ].join("\n");
  await writeFile(join(dir, "config.yml"), config);
  const log = await open(join(dir, "registry.log"), "a");
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", log.fd, log.fd] });
  await log.close();
  const kill = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", kill);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      process.removeListener("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
    return stopping;
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await probe(`http://127.0.0.1:${port}/v2/`)) === 200) return { host: `127.0.0.1:${port}`, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start; see ${join(dir, "registry.log")}`);
}
