/**
 * `tsbuild login` / `logout` and authenticated pull and push against real
 * registries: Basic auth (htpasswd) and the Docker token protocol. Login
 * checks the credentials before storing them in Docker's config.json;
 * pull and push then find them there; logout removes them. Failures name
 * the reference, host, status and registry code, and never the password.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildBusyboxImage, type TestImage } from "../../helpers/busybox-image.js";
import { runCli } from "../../helpers/cli-io.js";
import { makeDockerConfig, type TestDockerConfig } from "../../helpers/docker-config.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect, skopeoPush } from "../../helpers/skopeo.js";

let image: TestImage;
let dir: string;

beforeAll(async () => {
  [image, dir] = await Promise.all([buildBusyboxImage(), mkdtemp(join(tmpdir(), "tsbuild-auth-test-"))]);
});
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

for (const auth of ["htpasswd", "token"] as const) {
  describe(`with ${auth} auth`, () => {
    let registry: TestRegistry;
    let cfg: TestDockerConfig;
    beforeAll(async () => {
      [registry, cfg] = await Promise.all([startRegistry({ auth }), makeDockerConfig()]);
      const { username, password } = registry;
      await skopeoPush(image, { host: registry.host, repository: "private/busybox", tag: "v1", username, password });
    });
    afterAll(async () => {
      await cfg?.cleanup();
      await registry?.stop();
    });

    const cli = (args: string[], stdin?: string) => runCli(args, { cwd: dir, env: cfg.env, stdin });

    test("login --password-stdin, then pull and push with the stored credentials, then logout", async () => {
      const root = join(dir, `store-${auth}`);
      const ref = `${registry.host}/private/busybox:v1`;
      const anonymous = await cli(["pull", "--root", root, ref]);
      expect(anonymous.code).toBe(1);
      expect(anonymous.err).toContain(registry.host);
      expect(anonymous.err).toMatch(/401 Unauthorized/);

      const login = await cli(["login", "-u", registry.username ?? "", "--password-stdin", registry.host], `${registry.password ?? ""}\n`);
      expect(login.err).not.toContain(registry.password ?? "");
      expect(login.code).toBe(0);
      expect(login.out).toBe("Login Succeeded\n");
      expect(login.err).toContain("stored unencrypted");
      const config = await cfg.readConfig();
      const auths = config["auths"] as Record<string, { auth: string }>;
      expect(Buffer.from(auths[registry.host]?.auth ?? "", "base64").toString()).toBe(`${registry.username ?? ""}:${registry.password ?? ""}`);

      const pulled = await cli(["pull", "--root", root, ref]);
      expect(pulled.err).not.toContain("error");
      expect(pulled.code).toBe(0);
      expect(pulled.out).toContain(`Digest: ${image.manifestBlob.descriptor.digest}`);

      // Push under another name: a cross-repository mount needs pull access to
      // the source repository, which the stored credentials grant.
      const { openStore } = await import("../../../src/store/store.js");
      const store = await openStore({ root, env: {} });
      await store.images.tag(ref, `${registry.host}/private/copy:v2`);
      const pushed = await cli(["push", "--root", root, `${registry.host}/private/copy:v2`]);
      expect(pushed.err).not.toContain("error");
      expect(pushed.code).toBe(0);
      expect(pushed.err).toContain("Mounted from another repository");
      const inspected = await skopeoInspect({
        host: registry.host,
        repository: "private/copy",
        tag: "v2",
        username: registry.username,
        password: registry.password,
      });
      expect(inspected.Digest).toBe(image.manifestBlob.descriptor.digest);

      const logout = await cli(["logout", registry.host]);
      expect(logout.code).toBe(0);
      expect(logout.out).toBe(`Removing login credentials for ${registry.host}\n`);
      expect(((await cfg.readConfig())["auths"] as Record<string, unknown>)[registry.host]).toBeUndefined();
      const again = await cli(["logout", registry.host]);
      expect(again.out).toBe(`Not logged in to ${registry.host}\n`);

      const afterLogout = await cli(["push", "--root", root, `${registry.host}/private/copy:v2`]);
      expect(afterLogout.code).toBe(1);
      expect(afterLogout.err).toContain(`${registry.host}/private/copy:v2`);
      expect(afterLogout.err).toMatch(/401 Unauthorized/);
    });

    test("a wrong password is refused at login and nothing is stored; the error never shows the password", async () => {
      const wrong = `wrong-${registry.password ?? ""}`;
      const login = await cli(["login", "-u", registry.username ?? "", "--password-stdin", registry.host], wrong);
      expect(login.code).toBe(1);
      expect(login.out).toBe("");
      expect(login.err).toContain(`login to ${registry.host} failed`);
      expect(login.err).toMatch(/401 Unauthorized/);
      if (auth === "htpasswd") expect(login.err).toContain("UNAUTHORIZED: authentication required");
      else expect(login.err).toContain("incorrect username or password");
      expect(login.err).not.toContain(wrong);
      expect(login.err).not.toMatch(/\n\s+at /);
      expect(await readFile(join(cfg.dir, "config.json"), "utf8")).not.toContain(Buffer.from(`${registry.username ?? ""}:${wrong}`).toString("base64"));
    });
  });
}

describe("login with a credential helper (credsStore)", () => {
  let registry: TestRegistry;
  let cfg: TestDockerConfig;
  beforeAll(async () => {
    [registry, cfg] = await Promise.all([startRegistry({ auth: "htpasswd" }), makeDockerConfig({ credsStore: "test" }, [{ name: "test" }])]);
    await skopeoPush(image, { host: registry.host, repository: "helper/busybox", tag: "v1", username: registry.username, password: registry.password });
  });
  afterAll(async () => {
    await cfg?.cleanup();
    await registry?.stop();
  });

  test("the secret goes to the helper, config.json only lists the host; pull uses it; logout erases it", async () => {
    const cli = (args: string[], stdin?: string) => runCli(args, { cwd: dir, env: cfg.env, stdin });
    const login = await cli(["login", "--username", registry.username ?? "", "--password-stdin", `https://${registry.host}/`], registry.password);
    expect(login.code).toBe(0);
    expect(login.out).toBe("Login Succeeded\n");
    expect(login.err).not.toContain("unencrypted");
    expect(await cfg.helperStore("test")).toEqual({ [registry.host]: { Username: registry.username, Secret: registry.password } });
    expect((await cfg.readConfig())["auths"]).toEqual({ [registry.host]: {} });

    const pulled = await cli(["pull", "-q", "--root", join(dir, "store-helper"), `${registry.host}/helper/busybox:v1`]);
    expect(pulled.code).toBe(0);
    expect(await cfg.helperCalls("test")).toContain(`get ${registry.host}`);

    const logout = await cli(["logout", registry.host]);
    expect(logout.out).toBe(`Removing login credentials for ${registry.host}\n`);
    expect(await cfg.helperStore("test")).toEqual({});
    expect(await cfg.helperCalls("test")).toContain(`erase ${registry.host}`);
  });
});

describe("login / logout arguments", () => {
  test("usage errors, -p warning, Docker Hub names", async () => {
    const cfg = await makeDockerConfig({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("u:p").toString("base64") } } });
    try {
      const cli = (args: string[], stdin?: string) => runCli(args, { cwd: dir, env: cfg.env, stdin });
      expect((await cli(["login", "--password-stdin", "127.0.0.1:1"], "x")).code).toBe(2);
      expect((await cli(["login", "-u", "u", "127.0.0.1:1"])).err).toContain("needs a password");
      expect((await cli(["login", "-u", "u", "-p", "x", "--password-stdin", "127.0.0.1:1"])).err).toContain("mutually exclusive");
      const warned = await cli(["login", "-u", "u", "-p", "x", "127.0.0.1:1"]);
      expect(warned.err).toContain("WARNING! Using --password via the CLI is insecure");
      expect(warned.err).toContain("cannot reach registry 127.0.0.1:1");
      // No argument and every Hub spelling mean Docker Hub's key.
      expect((await cli(["logout"])).out).toBe("Removing login credentials for https://index.docker.io/v1/\n");
      expect((await cli(["logout", "docker.io"])).out).toBe("Not logged in to https://index.docker.io/v1/\n");
    } finally {
      await cfg.cleanup();
    }
  });
});
