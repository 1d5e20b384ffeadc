/**
 * The build benchmark's registry: Debian's `docker-registry` (CNCF
 * distribution) on 127.0.0.1 with a free port, storing under a directory of
 * the caller's temp dir, access log off. The test helpers under `test/` are
 * not compiled with the benchmark, so this is its own small launcher.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";

/** A running registry. */
export interface BuildBenchRegistry {
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** Stops it (TERM, then KILL after 5 s). Idempotent. */
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

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts a registry storing under `dir` (created); throws if it does not answer within 20 s. */
export async function startBuildBenchRegistry(dir: string): Promise<BuildBenchRegistry> {
  await mkdir(dir, { recursive: true });
  const logPath = join(dir, "registry.log");
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
      `    rootdirectory: ${JSON.stringify(join(dir, "data"))}`,
      "  delete:",
      "    enabled: true",
      "  maintenance:",
      "    uploadpurging:",
      "      enabled: false",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString("hex")}`,
      "",
    ].join("\n");
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, config);
    const log = await open(logPath, "a");
    const proc = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", log.fd, log.fd] });
    await log.close();
    const onExit = (): void => void proc.kill("SIGKILL");
    process.on("exit", onExit);
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= kill(proc).then(() => void process.off("exit", onExit));
      return stopping;
    };
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
      const status = await probe(`http://127.0.0.1:${port}/v2/`);
      if (status === 200 || status === 401) return { host: `127.0.0.1:${port}`, stop };
      await new Promise((r) => setTimeout(r, 50));
    }
    await stop();
    const text = await readFile(logPath, "utf8").catch(() => "");
    if (attempt < 3 && /address already in use/i.test(text)) continue;
    throw new Error(`docker-registry did not start:\n${text.slice(-2000)}`);
  }
}
