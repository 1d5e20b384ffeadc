/**
 * The registry client against a real distribution registry without auth:
 * push with our client and check with skopeo, pull what skopeo pushed,
 * existence checks, cross-repository mounts, chunked uploads, and the
 * errors for things that do not exist.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { buildBusyboxImage, sha256, type TestImage } from "../../helpers/busybox-image.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect, skopeoPush } from "../../helpers/skopeo.js";

let registry: TestRegistry;
let client: RegistryClient;
let image: TestImage;

beforeAll(async () => {
  [registry, image] = await Promise.all([startRegistry(), buildBusyboxImage()]);
  client = new RegistryClient({ host: registry.host });
});

afterAll(async () => {
  await client?.close();
  await registry?.stop();
});

/** Pushes every blob of `image` and then its manifest under `tag`, with our client. */
async function pushImage(c: RegistryClient, repository: string, tag: string, img: TestImage): Promise<string> {
  for (const [digest, bytes] of img.blobs) {
    await c.pushBlob(repository, { digest, size: bytes.length, open: () => Readable.from([bytes]) });
  }
  return c.putManifest(repository, tag, img.manifestBlob.bytes, img.manifestBlob.descriptor.mediaType);
}

async function expectBuildError(p: Promise<unknown>): Promise<Error & { code: string; hint?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBuildError(err), `expected a BuildError, got ${String(err)}`).toBe(true);
  return err as Error & { code: string; hint?: string };
}

describe("registry client, no auth", () => {
  test("ping answers on /v2/", async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  test("pushes an image that skopeo can inspect, and reads it back", async () => {
    const digest = await pushImage(client, "ours/busybox", "v1", image);
    expect(digest).toBe(image.manifestBlob.descriptor.digest);

    const inspected = await skopeoInspect({ host: registry.host, repository: "ours/busybox", tag: "v1" });
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));

    const byTag = await client.getManifest("ours/busybox", "v1");
    expect(byTag.digest).toBe(digest);
    expect(byTag.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(byTag.bytes.equals(image.manifestBlob.bytes)).toBe(true);

    const byDigest = await client.getManifest("ours/busybox", digest);
    expect(byDigest.bytes.equals(image.manifestBlob.bytes)).toBe(true);

    const head = await client.headManifest("ours/busybox", "v1");
    expect(head).toEqual({ digest, mediaType: byTag.mediaType, size: image.manifestBlob.bytes.length });

    for (const [blobDigest, bytes] of image.blobs) {
      const stream = await client.getVerifiedBlob("ours/busybox", blobDigest, { size: bytes.length });
      const got = await buffer(stream);
      expect(got.equals(bytes)).toBe(true);
    }
  });

  test("pulls an image pushed by skopeo", async () => {
    await skopeoPush(image, { host: registry.host, repository: "theirs/busybox", tag: "test" });
    const m = await client.getManifest("theirs/busybox", "test");
    expect(m.digest).toBe(image.manifestBlob.descriptor.digest);
    const manifest = JSON.parse(m.bytes.toString("utf8")) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    const config = await buffer(await client.getVerifiedBlob("theirs/busybox", manifest.config.digest));
    expect(JSON.parse(config.toString("utf8"))).toMatchObject({ os: "linux", config: { Cmd: ["sh"] } });
    for (const layer of manifest.layers) {
      const raw = await buffer(await client.getBlob("theirs/busybox", layer.digest));
      expect(sha256(raw)).toBe(layer.digest);
      expect(raw.length).toBe(layer.size);
    }
  });

  test("lists tags", async () => {
    await pushImage(client, "tagged/repo", "a", image);
    await client.putManifest("tagged/repo", "b", image.manifestBlob.bytes, image.manifestBlob.descriptor.mediaType);
    expect((await client.listTags("tagged/repo")).sort()).toEqual(["a", "b"]);
  });

  test("HEAD checks let pushes skip blobs the repository has", async () => {
    const layer = image.layers[0]!;
    await client.pushBlob("skip/me", { digest: layer.descriptor.digest, size: layer.bytes.length, open: () => Readable.from([layer.bytes]) });
    expect(await client.hasBlob("skip/me", layer.descriptor.digest)).toBe(true);
    expect(await client.statBlob("skip/me", layer.descriptor.digest)).toEqual({ size: layer.bytes.length });
    expect(await client.hasBlob("skip/me", sha256("nope"))).toBe(false);

    let opened = 0;
    const result = await client.pushBlob("skip/me", {
      digest: layer.descriptor.digest,
      size: layer.bytes.length,
      open: () => {
        opened++;
        return Readable.from([layer.bytes]);
      },
    });
    expect(result.status).toBe("exists");
    expect(opened).toBe(0);
    expect(await client.headManifest("skip/me", "missing")).toBeUndefined();
  });

  test("cross-repository mount answers 201", async () => {
    const bytes = randomBytes(4096);
    const digest = sha256(bytes);
    await client.pushBlob("mount/source", { digest, size: bytes.length, open: () => Readable.from([bytes]) });
    expect(await client.mountBlob("mount/target", digest, "mount/source")).toBe(true);
    expect(await client.hasBlob("mount/target", digest)).toBe(true);

    // pushBlob with mountFrom mounts instead of uploading.
    const result = await client.pushBlob(
      "mount/other",
      { digest, size: bytes.length, open: () => Promise.reject(new Error("must not upload")) },
      { mountFrom: "mount/source" },
    );
    expect(result.status).toBe("mounted");
  });

  test("a declined mount opens an upload session that pushBlob reuses", async () => {
    const bytes = randomBytes(2048);
    const digest = sha256(bytes);
    // The source does not have the blob: the registry answers 202 with a session.
    expect(await client.mountBlob("mount/target2", digest, "mount/empty")).toBe(false);
    const result = await client.pushBlob(
      "mount/target2",
      { digest, size: bytes.length, open: () => Readable.from([bytes]) },
      { mountFrom: "mount/empty" },
    );
    expect(result).toEqual({ digest, status: "uploaded", style: "monolithic" });
    expect(await client.hasBlob("mount/target2", digest)).toBe(true);
  });

  test("uploads a multi-MiB blob in chunks", async () => {
    const bytes = randomBytes(6 * 1024 * 1024 + 12345);
    const digest = sha256(bytes);
    const progress: number[] = [];
    const chunky = new RegistryClient({ host: registry.host, monolithicThreshold: 1024 * 1024, chunkSize: 1024 * 1024 });
    try {
      const result = await chunky.pushBlob(
        "big/blob",
        {
          digest,
          size: bytes.length,
          // Small pieces, to exercise re-chunking of the source stream.
          open: () => Readable.from((function* () { for (let i = 0; i < bytes.length; i += 100_000) yield bytes.subarray(i, i + 100_000); })()),
        },
        { onProgress: (n) => progress.push(n) },
      );
      expect(result).toEqual({ digest, status: "uploaded", style: "chunked" });
      expect(progress).toHaveLength(7);
      expect(progress.at(-1)).toBe(bytes.length);
      const back = await buffer(await chunky.getVerifiedBlob("big/blob", digest, { size: bytes.length }));
      expect(back.equals(bytes)).toBe(true);
    } finally {
      await chunky.close();
    }
  });

  test("a blob whose bytes do not match its digest is refused", async () => {
    const bytes = randomBytes(1000);
    const err = await expectBuildError(
      client.pushBlob("bad/blob", { digest: sha256("something else"), size: bytes.length, open: () => Readable.from([bytes]) }),
    );
    expect(err.code).toBe("DIGEST_MISMATCH");
    expect(err.message).toContain(registry.host);
    expect(err.message).toContain("DIGEST_INVALID");
  });

  test("a source shorter than the declared size is refused", async () => {
    const bytes = randomBytes(1000);
    const err = await expectBuildError(
      client.pushBlob("bad/blob", { digest: sha256(bytes), size: 2000, open: () => Readable.from([bytes]) }, { style: "chunked", chunkSize: 256 }),
    );
    expect(err.code).toBe("DIGEST_MISMATCH");
  });

  test("an unknown manifest names the registry's error code", async () => {
    await pushImage(client, "known/repo", "v1", image);
    const err = await expectBuildError(client.getManifest("known/repo", "nope"));
    expect(err.code).toBe("REGISTRY_ERROR");
    expect(err.message).toBe(`manifest for ${registry.host}/known/repo:nope not found: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`);
  });

  test("an unknown repository reads as Docker's pull access denied", async () => {
    // distribution answers MANIFEST_UNKNOWN for manifests of unknown repositories...
    const manifestErr = await expectBuildError(client.getManifest("no/such/repo", "latest"));
    expect(manifestErr.message).toBe(`manifest for ${registry.host}/no/such/repo:latest not found: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown`);
    // ...and NAME_UNKNOWN where the repository itself is the subject.
    const err = await expectBuildError(client.listTags("no/such/repo"));
    expect(err.code).toBe("REGISTRY_ERROR");
    expect(err.message).toBe(
      `pull access denied for ${registry.host}/no/such/repo: 404 Not Found: NAME_UNKNOWN: repository name not known to registry`,
    );
    expect(err.hint).toMatch(/login/);
  });

  test("an unknown blob is an error naming the blob", async () => {
    await pushImage(client, "known/repo2", "v1", image);
    const missing = sha256("missing");
    const err = await expectBuildError(client.getBlob("known/repo2", missing));
    expect(err.message).toContain(`${registry.host}/known/repo2@${missing}`);
    expect(err.message).toContain("404 Not Found: BLOB_UNKNOWN");
  });

  test("a manifest fetched by a digest it does not have is refused", async () => {
    const digest = await pushImage(client, "known/repo3", "v1", image);
    expect((await client.getManifest("known/repo3", digest)).digest).toBe(digest);
    await expect(client.putManifest("known/repo3", sha256("x"), image.manifestBlob.bytes, "application/vnd.oci.image.manifest.v1+json")).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
  });

  test("invalid repository names never reach the network", async () => {
    await expect(client.getManifest("../v2/evil", "latest")).rejects.toMatchObject({ code: "REF_INVALID" });
    await expect(client.getManifest("ok", "bad tag")).rejects.toMatchObject({ code: "REF_INVALID" });
  });

  test("an unreachable registry is REGISTRY_UNREACHABLE, after retries", async () => {
    const dead = new RegistryClient({ host: "127.0.0.1:1", retry: { attempts: 2, baseDelayMs: 1 } });
    try {
      const err = await expectBuildError(dead.ping());
      expect(err.code).toBe("REGISTRY_UNREACHABLE");
      expect(err.message).toContain("127.0.0.1:1");
    } finally {
      await dead.close();
    }
  });

  test("cancellation is ABORTED", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(client.getManifest("known/repo", "v1", { signal: controller.signal })).rejects.toMatchObject({ code: "ABORTED" });
  });
});
