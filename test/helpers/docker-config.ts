/**
 * Throwaway Docker client configurations for credential tests: a temp
 * `DOCKER_CONFIG` directory with a `config.json`, and fake credential
 * helpers (`docker-credential-<name>` executables in a temp dir that tests
 * put on `PATH` through the `env` they pass to the code under test, never
 * by mutating `process.env`).
 *
 * @example
 * const cfg = await makeDockerConfig({ auths: { [registry.host]: basicAuth("u", "p") } });
 * const credentials = new DockerConfigCredentials({ env: cfg.env });
 * // ...
 * await cfg.cleanup();
 *
 * A fake helper keeps its credentials in a JSON file
 * (`{serverURL: {Username, Secret}}`), supports `get`, `store`, `erase` and
 * `list`, answers "credentials not found in native keychain" (exit 1) like
 * the real helpers, and appends every call (`action serverURL`) to a log
 * file, so tests can assert it was used. Secrets are never logged.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** A `config.json` `auths` entry with base64 `user:pass`. */
export function basicAuth(username: string, password: string): { auth: string } {
  return { auth: Buffer.from(`${username}:${password}`).toString("base64") };
}

/** Contents of a test `config.json`. */
export interface DockerConfigContents {
  /** `auths` section. */
  readonly auths?: Record<string, Record<string, string>>;
  /** Global credential helper name. */
  readonly credsStore?: string;
  /** Per-registry credential helper names. */
  readonly credHelpers?: Record<string, string>;
}

/** A fake credential helper to install. */
export interface FakeHelper {
  /** Helper name: the executable is `docker-credential-<name>`. */
  readonly name: string;
  /** Initial credentials by server URL (as Docker passes it: a host, or Hub's `https://index.docker.io/v1/`). */
  readonly credentials?: Record<string, { Username: string; Secret: string }>;
}

/** A temp Docker config, see the module comment. */
export interface TestDockerConfig {
  /** The `DOCKER_CONFIG` directory. */
  readonly dir: string;
  /** The directory holding the fake helpers, their stores (`<name>.store.json`) and logs. */
  readonly helperDir: string;
  /** Environment to hand to the code under test: `DOCKER_CONFIG` set, helper dir first on `PATH`. */
  readonly env: NodeJS.ProcessEnv;
  /** The parsed current `config.json` (re-read on each call). */
  readConfig(): Promise<Record<string, unknown>>;
  /** The calls made to helper `name` so far, e.g. `["get 127.0.0.1:5000"]`. */
  helperCalls(name: string): Promise<string[]>;
  /** The credentials helper `name` currently stores. */
  helperStore(name: string): Promise<Record<string, { Username: string; Secret: string }>>;
  /** Removes everything. Idempotent. */
  cleanup(): Promise<void>;
}

/** The fake helper program (Node, run by the current Node binary). */
function helperScript(storePath: string, logPath: string): string {
  return `#!${process.execPath}
const fs = require("node:fs");
const action = process.argv[2];
const input = fs.readFileSync(0, "utf8");
const store = JSON.parse(fs.readFileSync(${JSON.stringify(storePath)}, "utf8"));
const save = () => fs.writeFileSync(${JSON.stringify(storePath)}, JSON.stringify(store));
const log = (what) => fs.appendFileSync(${JSON.stringify(logPath)}, what + "\\n");
if (action === "get") {
  const url = input.trim();
  log("get " + url);
  const c = store[url];
  if (!c) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: url, Username: c.Username, Secret: c.Secret }));
} else if (action === "store") {
  const c = JSON.parse(input);
  log("store " + c.ServerURL);
  store[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  save();
} else if (action === "erase") {
  const url = input.trim();
  log("erase " + url);
  if (!store[url]) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
  delete store[url];
  save();
} else if (action === "list") {
  log("list");
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([k, v]) => [k, v.Username]))));
} else {
  process.stderr.write("unknown action " + action + "\\n");
  process.exit(2);
}
`;
}

/** Creates a temp Docker config with `contents` and the given fake helpers. */
export async function makeDockerConfig(contents: DockerConfigContents = {}, helpers: readonly FakeHelper[] = []): Promise<TestDockerConfig> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-docker-config-"));
  const binDir = await mkdtemp(join(tmpdir(), "tsbuild-cred-helpers-"));
  await writeFile(join(dir, "config.json"), JSON.stringify(contents, null, "\t"));
  for (const h of helpers) {
    const storePath = join(binDir, `${h.name}.store.json`);
    await writeFile(storePath, JSON.stringify(h.credentials ?? {}));
    const program = join(binDir, `docker-credential-${h.name}`);
    await writeFile(program, helperScript(storePath, join(binDir, `${h.name}.log`)));
    await chmod(program, 0o755);
  }
  let cleaned: Promise<void> | undefined;
  return {
    dir,
    helperDir: binDir,
    env: { ...process.env, DOCKER_CONFIG: dir, PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}` },
    async readConfig() {
      return JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    },
    async helperCalls(name: string) {
      try {
        return (await readFile(join(binDir, `${name}.log`), "utf8")).split("\n").filter((l) => l !== "");
      } catch {
        return [];
      }
    },
    async helperStore(name: string) {
      return JSON.parse(await readFile(join(binDir, `${name}.store.json`), "utf8")) as Record<string, { Username: string; Secret: string }>;
    },
    cleanup() {
      cleaned ??= Promise.all([rm(dir, { recursive: true, force: true }), rm(binDir, { recursive: true, force: true })]).then(() => {});
      return cleaned;
    },
  };
}
