/**
 * The credential-helper protocol with a fake `docker-credential-test` on
 * PATH (see test/helpers/docker-config.ts): get, store and erase, as
 * `tsbuild login/logout` will use them.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { DockerConfigCredentials, eraseCredentials, storeCredentials } from "../../../src/registry/credentials.js";
import { makeDockerConfig, type TestDockerConfig } from "../../helpers/docker-config.js";

let cfg: TestDockerConfig | undefined;
afterEach(async () => {
  await cfg?.cleanup();
  cfg = undefined;
});

describe("credential helpers", () => {
  test("get: Docker Hub is asked for under its legacy key; <token> means identity token", async () => {
    cfg = await makeDockerConfig({ credsStore: "test" }, [
      {
        name: "test",
        credentials: {
          "https://index.docker.io/v1/": { Username: "hubuser", Secret: "hubpass" },
          "ghcr.io": { Username: "<token>", Secret: "refresh" },
        },
      },
    ]);
    const p = new DockerConfigCredentials({ env: cfg.env });
    expect(await p.get("registry-1.docker.io")).toEqual({ kind: "basic", username: "hubuser", password: "hubpass" });
    expect(await p.get("ghcr.io")).toEqual({ kind: "identity-token", identityToken: "refresh" });
    expect(await p.get("unknown.example")).toBeUndefined();
    expect(await cfg.helperCalls("test")).toEqual(["get https://index.docker.io/v1/", "get ghcr.io", "get unknown.example"]);
  });

  test("falls back to auths when the helper has nothing", async () => {
    cfg = await makeDockerConfig({ credsStore: "test", auths: { "reg.example": { auth: Buffer.from("u:p").toString("base64") } } }, [{ name: "test" }]);
    expect(await new DockerConfigCredentials({ env: cfg.env }).get("reg.example")).toEqual({ kind: "basic", username: "u", password: "p" });
  });

  test("store and erase go through the helper; config.json only lists the host", async () => {
    cfg = await makeDockerConfig({ credsStore: "test" }, [{ name: "test" }]);
    await storeCredentials("127.0.0.1:5000", { username: "alice", password: "secret" }, { env: cfg.env });
    expect(await cfg.helperStore("test")).toEqual({ "127.0.0.1:5000": { Username: "alice", Secret: "secret" } });
    expect(await cfg.readConfig()).toEqual({ credsStore: "test", auths: { "127.0.0.1:5000": {} } });
    expect(await new DockerConfigCredentials({ env: cfg.env }).get("127.0.0.1:5000")).toEqual({ kind: "basic", username: "alice", password: "secret" });

    expect(await eraseCredentials("127.0.0.1:5000", { env: cfg.env })).toBe(true);
    expect(await cfg.helperStore("test")).toEqual({});
    expect(await cfg.readConfig()).toEqual({ credsStore: "test", auths: {} });
    expect(await eraseCredentials("127.0.0.1:5000", { env: cfg.env })).toBe(false);
    expect((await cfg.helperCalls("test")).map((c) => c.split(" ")[0])).toEqual(["store", "get", "erase", "erase"]);
  });

  test("credHelpers[host] wins over credsStore for that host only", async () => {
    cfg = await makeDockerConfig({ credsStore: "main", credHelpers: { "special.example": "special" } }, [
      { name: "main", credentials: { "other.example": { Username: "m", Secret: "m" } } },
      { name: "special", credentials: { "special.example": { Username: "s", Secret: "s" } } },
    ]);
    const p = new DockerConfigCredentials({ env: cfg.env });
    expect(await p.get("special.example")).toEqual({ kind: "basic", username: "s", password: "s" });
    expect(await p.get("other.example")).toEqual({ kind: "basic", username: "m", password: "m" });
  });

  test("a failing helper is a CREDENTIALS error carrying its message", async () => {
    cfg = await makeDockerConfig({ credsStore: "test" }, [{ name: "test" }]);
    // A corrupt store makes the fake helper crash, as a broken keychain would.
    await writeFile(join(cfg.helperDir, "test.store.json"), "not json");
    await expect(new DockerConfigCredentials({ env: cfg.env }).get("x.example")).rejects.toMatchObject({
      code: "CREDENTIALS",
      message: expect.stringContaining("docker-credential-test failed for x.example"),
    });
  });
});
