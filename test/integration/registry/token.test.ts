/**
 * The Docker token protocol against a real registry configured with
 * `auth: token`, and the test token server: Basic credentials at the token
 * endpoint, identity tokens (OAuth2 refresh-token grant) from a credential
 * helper, token caching, and failures.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { TokenCache } from "../../../src/registry/auth.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { DockerConfigCredentials, StaticCredentials, type CredentialProvider } from "../../../src/registry/credentials.js";
import { buildBusyboxImage, sha256, type TestImage } from "../../helpers/busybox-image.js";
import { basicAuth, makeDockerConfig } from "../../helpers/docker-config.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect } from "../../helpers/skopeo.js";

let registry: TestRegistry;
let image: TestImage;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [registry, image] = await Promise.all([startRegistry({ auth: "token" }), buildBusyboxImage()]);
});

afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
  await registry?.stop();
});

function clientWith(credentials: CredentialProvider | undefined, tokenCache?: TokenCache): RegistryClient {
  const client = new RegistryClient({ host: registry.host, credentials, tokenCache });
  cleanups.push(() => client.close());
  return client;
}

function good(): StaticCredentials {
  return new StaticCredentials({ [registry.host]: { kind: "basic", username: registry.username!, password: registry.password! } });
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

describe("token-auth registry", () => {
  test("push and pull with credentials from a Docker config", async () => {
    const cfg = await makeDockerConfig({ auths: { [registry.host]: basicAuth(registry.username!, registry.password!) } });
    cleanups.push(() => cfg.cleanup());
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    await client.ping();
    const digest = await pushImage(client, "tok/busybox", "v1");
    const m = await client.getManifest("tok/busybox", "v1");
    expect(m.digest).toBe(digest);
    const inspected = await skopeoInspect({ host: registry.host, repository: "tok/busybox", tag: "v1", username: registry.username, password: registry.password });
    expect(inspected.Digest).toBe(digest);
  });

  test("caches tokens: a whole push costs one token per scope set", async () => {
    const client = clientWith(good());
    const before = registry.tokenServer!.requests.length;
    await client.ping(); // token without scopes (validates the credentials)
    await pushImage(client, "cache/busybox", "v1"); // one pull,push token for all blobs and the manifest
    await client.getManifest("cache/busybox", "v1"); // served by the pull,push token
    for (const digest of image.blobs.keys()) await client.hasBlob("cache/busybox", digest);
    const requests = registry.tokenServer!.requests.slice(before);
    expect(requests.map((r) => r.scopes)).toEqual([[], ["repository:cache/busybox:pull,push"]]);
    expect(client.tokenRequests).toBe(2);

    // Another repository needs another token; the first stays cached.
    await client.getManifest("cache/busybox", "v1");
    await pushImage(client, "cache/other", "v1");
    expect(registry.tokenServer!.requests.length - before).toBe(3);
  });

  test("concurrent requests share one token request", async () => {
    const client = clientWith(good());
    const before = registry.tokenServer!.requests.length;
    await pushImage(client, "conc/busybox", "v1");
    const afterPush = registry.tokenServer!.requests.length;
    const fresh = clientWith(good());
    await Promise.all(Array.from({ length: 8 }, () => fresh.getManifest("conc/busybox", "v1")));
    expect(registry.tokenServer!.requests.length - afterPush).toBe(1);
    expect(afterPush - before).toBe(1);
  });

  test("a token cache can be shared between clients", async () => {
    const cache = new TokenCache();
    const a = clientWith(good(), cache);
    await pushImage(a, "shared/busybox", "v1");
    const before = registry.tokenServer!.requests.length;
    const b = clientWith(good(), cache);
    await b.getManifest("shared/busybox", "v1");
    // b learns the challenge with one 401, then finds a's token in the cache.
    expect(registry.tokenServer!.requests.length).toBe(before);
  });

  test("cross-repository mounts get pull access on the source", async () => {
    const client = clientWith(good());
    const bytes = randomBytes(1024);
    const digest = sha256(bytes);
    await client.pushBlob("mnt/src", { digest, size: bytes.length, open: () => Readable.from([bytes]) });
    expect(await client.mountBlob("mnt/dst", digest, "mnt/src")).toBe(true);
    const last = registry.tokenServer!.requests.at(-1)!;
    expect(last.scopes).toEqual(["repository:mnt/dst:pull,push", "repository:mnt/src:pull"]);
  });

  test("identity tokens from a credential helper use the OAuth2 refresh-token grant", async () => {
    const identity = registry.tokenServer!.issueRefreshToken();
    const cfg = await makeDockerConfig({ credHelpers: { [registry.host]: "test" } }, [
      { name: "test", credentials: { [registry.host]: { Username: "<token>", Secret: identity } } },
    ]);
    cleanups.push(() => cfg.cleanup());
    const client = clientWith(new DockerConfigCredentials({ env: cfg.env }));
    const before = registry.tokenServer!.requests.length;
    await pushImage(client, "oauth/busybox", "v1");
    expect((await client.getManifest("oauth/busybox", "v1")).digest).toBe(image.manifestBlob.descriptor.digest);
    const requests = registry.tokenServer!.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.method === "POST" && r.grant === "refresh_token" && r.status === 200)).toBe(true);
    expect(await cfg.helperCalls("test")).toEqual([`get ${registry.host}`]);
  });

  test("wrong credentials fail with REGISTRY_AUTH from the token server, without the password", async () => {
    const wrong = "n0t-the-Passw0rd";
    const client = clientWith(new StaticCredentials({ [registry.host]: { kind: "basic", username: registry.username!, password: wrong } }));
    const err = await failure(client.getManifest("tok/busybox", "v1"));
    expect(err.code).toBe("REGISTRY_AUTH");
    expect(err.message).toContain(registry.host);
    expect(err.message).toContain("401 Unauthorized");
    expect(err.message).toContain("incorrect username or password");
    expect(`${err.message} ${err.hint ?? ""} ${String(err.stack)}`).not.toContain(wrong);
  });

  test("anonymous access the token server does not grant is REGISTRY_AUTH", async () => {
    const client = clientWith(undefined);
    const err = await failure(client.getManifest("tok/busybox", "v1"));
    expect(err.code).toBe("REGISTRY_AUTH");
    expect(err.message).toMatch(new RegExp(`^pull access denied for ${registry.host}/tok/busybox: 401 Unauthorized: UNAUTHORIZED: `));
  });
});
