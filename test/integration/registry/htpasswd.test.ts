/**
 * Basic auth (htpasswd) against a real registry, with credentials from a
 * temp Docker config: config.json `auths`, a `credsStore` helper and a
 * per-registry `credHelpers` helper.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { DockerConfigCredentials, StaticCredentials } from "../../../src/registry/credentials.js";
import { buildBusyboxImage, type TestImage } from "../../helpers/busybox-image.js";
import { basicAuth, makeDockerConfig, type TestDockerConfig } from "../../helpers/docker-config.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect } from "../../helpers/skopeo.js";

let registry: TestRegistry;
let image: TestImage;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [registry, image] = await Promise.all([startRegistry({ auth: "htpasswd" }), buildBusyboxImage()]);
});

afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
  await registry?.stop();
});

async function config(...args: Parameters<typeof makeDockerConfig>): Promise<TestDockerConfig> {
  const cfg = await makeDockerConfig(...args);
  cleanups.push(() => cfg.cleanup());
  return cfg;
}

function clientWith(credentials: ConstructorParameters<typeof RegistryClient>[0]["credentials"]): RegistryClient {
  const client = new RegistryClient({ host: registry.host, credentials });
  cleanups.push(() => client.close());
  return client;
}

async function pushImage(c: RegistryClient, repository: string, tag: string): Promise<string> {
  for (const [digest, bytes] of image.blobs) {
    await c.pushBlob(repository, { digest, size: bytes.length, open: () => Readable.from([bytes]) });
  }
  return c.putManifest(repository, tag, image.manifestBlob.bytes, image.manifestBlob.descriptor.mediaType);
}

async function failure(p: Promise<unknown>): Promise<Error & { code: string; hint?: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isBuildError(err), `expected a BuildError, got ${String(err)}`).toBe(true);
  return err as Error & { code: string; hint?: string };
}

describe("htpasswd registry", () => {
  test("works with credentials from config.json auths", async () => {
    const cfg = await config({ auths: { [registry.host]: basicAuth(registry.username!, registry.password!) } });
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    await client.ping();
    const digest = await pushImage(client, "auth/busybox", "v1");
    expect((await client.getManifest("auth/busybox", "v1")).digest).toBe(digest);
    const inspected = await skopeoInspect({ host: registry.host, repository: "auth/busybox", tag: "v1", username: registry.username, password: registry.password });
    expect(inspected.Digest).toBe(digest);
  });

  test("accepts an auths key written with a scheme", async () => {
    const cfg = await config({ auths: { [`http://${registry.host}/v2/`]: basicAuth(registry.username!, registry.password!) } });
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    await expect(client.ping()).resolves.toBeUndefined();
  });

  test("wrong credentials fail with REGISTRY_AUTH naming host and status, never the password", async () => {
    const wrong = "Wr0ng-S3cret-Value";
    const cfg = await config({ auths: { [registry.host]: basicAuth(registry.username!, wrong) } });
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    const ops = [
      () => client.ping(),
      () => client.getManifest("auth/busybox", "v1"),
      () => client.hasBlob("auth/busybox", image.configBlob.descriptor.digest),
    ];
    for (const op of ops) {
      const err = await failure(op());
      expect(err.code).toBe("REGISTRY_AUTH");
      expect(err.message).toContain(registry.host);
      expect(err.message).toContain("401 Unauthorized");
      const everything = `${err.message} ${err.hint ?? ""} ${String(err.stack)}`;
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(Buffer.from(`${registry.username}:${wrong}`).toString("base64"));
    }
  });

  test("no credentials fail with REGISTRY_AUTH and a login hint", async () => {
    const client = clientWith(undefined);
    const err = await failure(client.ping());
    expect(err.code).toBe("REGISTRY_AUTH");
    expect(err.message).toBe(`checking registry ${registry.host}: 401 Unauthorized: UNAUTHORIZED: authentication required`);
    expect(err.hint).toContain("login");
  });

  test("uses the credsStore helper, looking credentials up once per client", async () => {
    const cfg = await config({ credsStore: "test", auths: { [registry.host]: {} } }, [
      { name: "test", credentials: { [registry.host]: { Username: registry.username!, Secret: registry.password! } } },
    ]);
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    await client.ping();
    await pushImage(client, "helper/busybox", "v1");
    expect(await cfg.helperCalls("test")).toEqual([`get ${registry.host}`]);
  });

  test("prefers credHelpers[host] over credsStore and auths", async () => {
    const cfg = await config(
      {
        credsStore: "broken",
        credHelpers: { [registry.host]: "test" },
        auths: { [registry.host]: basicAuth("nobody", "wrong") },
      },
      [{ name: "test", credentials: { [registry.host]: { Username: registry.username!, Secret: registry.password! } } }],
    );
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    await expect(client.ping()).resolves.toBeUndefined();
    expect(await cfg.helperCalls("test")).toEqual([`get ${registry.host}`]);
  });

  test("a missing helper is a CREDENTIALS error", async () => {
    const cfg = await config({ credsStore: "does-not-exist" });
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    const err = await failure(client.ping());
    expect(err.code).toBe("CREDENTIALS");
    expect(err.message).toContain("docker-credential-does-not-exist");
  });

  test("static credentials work too", async () => {
    const client = clientWith(new StaticCredentials({ [registry.host]: { kind: "basic", username: registry.username!, password: registry.password! } }));
    await expect(client.ping()).resolves.toBeUndefined();
  });
});
