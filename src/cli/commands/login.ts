import { BuildError } from "../../diagnostics/build-error.js";
import { DOCKER_HUB_AUTH_KEY, dockerAuthKey, isDockerHubHost, normalizeHost, StaticCredentials, storeCredentials } from "../../registry/credentials.js";
import { insecureRegistriesFrom } from "../../registry/endpoint.js";
import { DOCKER_HUB_REGISTRY_HOST } from "../../registry/reference.js";
import type { Command } from "../command.js";
import { stringValues } from "./pull.js";

/**
 * The registry host a `login`/`logout` argument names: `https://host:5000/`
 * → `host:5000`; no argument, or any of Docker Hub's names (`docker.io`,
 * `index.docker.io`, `https://index.docker.io/v1/`...), → Docker Hub.
 */
export function loginHost(arg: string | undefined): { host: string; key: string; apiHost: string } {
  const host = arg === undefined || arg.trim() === "" ? DOCKER_HUB_AUTH_KEY : arg;
  const normalized = normalizeHost(host);
  if (normalized === "" || /\s/.test(normalized)) throw new BuildError("CLI_USAGE", `invalid registry "${host}"`);
  if (isDockerHubHost(normalized)) return { host: normalized, key: DOCKER_HUB_AUTH_KEY, apiHost: DOCKER_HUB_REGISTRY_HOST };
  return { host: normalized, key: dockerAuthKey(normalized), apiHost: normalized };
}

/**
 * `tsbuild login`: checks a username and password against a registry (its
 * `/v2/` endpoint, answering its Basic or token challenge), then stores
 * them in Docker's config.json (or the credential helper it names), where
 * `docker` and tsbuild both find them.
 */
export const loginCommand: Command = {
  name: "login",
  summary: "Log in to a registry (stores credentials in Docker's config.json)",
  usage: "tsbuild login [-u USERNAME] [--password-stdin | -p PASSWORD] [--insecure-registry HOST]... [REGISTRY]",
  options: {
    username: { type: "string", short: "u" },
    password: { type: "string", short: "p" },
    "password-stdin": { type: "boolean" },
    "insecure-registry": { type: "string", multiple: true },
  },
  help: {
    username: "User name",
    password: "Password or token (visible to other users of this machine; prefer --password-stdin)",
    "password-stdin": "Read the password or token from standard input",
    "insecure-registry": "Talk plain HTTP to this registry host[:port] (repeatable; also TSBUILD_INSECURE_REGISTRIES)",
  },
  async run(args, io) {
    if (args.positionals.length > 1) {
      throw new BuildError("CLI_USAGE", "tsbuild login takes at most one registry", { hint: `usage: ${loginCommand.usage}` });
    }
    const { key, apiHost } = loginHost(args.positionals[0]);
    const username = args.values["username"];
    const fromFlag = args.values["password"];
    const fromStdin = args.values["password-stdin"] === true;
    if (typeof fromFlag === "string" && fromStdin) {
      throw new BuildError("CLI_USAGE", "--password and --password-stdin are mutually exclusive");
    }
    if (typeof username !== "string" || username === "") {
      throw new BuildError("CLI_USAGE", "tsbuild login needs a username (-u/--username)", {
        hint: "e.g. echo \"$TOKEN\" | tsbuild login -u USER --password-stdin REGISTRY",
      });
    }
    let password: string;
    if (fromStdin) {
      // As docker: strip the newline `echo` adds, nothing else (a password may end in spaces).
      password = (await io.readStdin()).toString("utf8").replace(/\r?\n$/, "");
    } else if (typeof fromFlag === "string") {
      io.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
      password = fromFlag;
    } else {
      throw new BuildError("CLI_USAGE", "tsbuild login needs a password: --password-stdin (recommended) or -p/--password");
    }
    if (password === "") throw new BuildError("CLI_USAGE", "the password is empty");

    const { RegistryClient } = await import("../../registry/client.js");
    const client = new RegistryClient({
      host: apiHost,
      credentials: new StaticCredentials({ [apiHost]: { kind: "basic", username, password } }),
      insecureRegistries: insecureRegistriesFrom({ flags: stringValues(args.values["insecure-registry"]), env: io.env }),
    });
    try {
      await client.ping({ signal: io.signal });
    } catch (err) {
      if (err instanceof BuildError && (err.code === "REGISTRY_AUTH" || err.code === "REGISTRY_ERROR")) {
        // Only our own words and the registry's: never the password.
        throw new BuildError(err.code, `login to ${key} failed: ${err.message}`, { cause: err.cause });
      }
      throw err;
    } finally {
      await client.close();
    }
    const stored = await storeCredentials(apiHost === DOCKER_HUB_REGISTRY_HOST ? DOCKER_HUB_AUTH_KEY : apiHost, { username, password }, { env: io.env, signal: io.signal });
    if (stored.helper === undefined) {
      io.err(`WARNING! Your password will be stored unencrypted in ${stored.configPath}.\n`);
      io.err("Configure a credential helper (credsStore in that file) to remove this warning.\n");
    }
    io.out("Login Succeeded\n");
    return 0;
  },
};
