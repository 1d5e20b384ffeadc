/**
 * `tsbuild push` against a real registry, checked with skopeo (an
 * independent client): what we push inspects and copies; a re-push sends no
 * blob bytes; pushing to a second repository mounts instead of uploading;
 * push by digest; chunked uploads of layers above the monolithic threshold.
 * A counting proxy (the fault proxy with no faults) in front of the
 * registry sees every request and every body byte.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pushImage } from "../../../src/image/push.js";
import type { PullPushProgress } from "../../../src/image/progress.js";
import { buildBusyboxImage, type TestImage } from "../../helpers/busybox-image.js";
import { runCli } from "../../helpers/cli-io.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect, skopeoRawManifest } from "../../helpers/skopeo.js";
import type { Digest } from "../../../src/oci/digest.js";
import { parseReference } from "../../../src/registry/reference.js";
import { buildIndex, randomImage, skopeoCopy, storeImage, tempStore } from "./fixtures.js";

let registry: TestRegistry;
let proxy: FaultProxy;
let image: TestImage;
let dir: string;
let root: string;

beforeAll(async () => {
  [registry, image, dir] = await Promise.all([startRegistry(), buildBusyboxImage(), mkdtemp(join(tmpdir(), "tsbuild-push-test-"))]);
  proxy = await startFaultProxy({ upstream: registry.host });
  root = join(dir, "store");
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args], { cwd: dir, env: { HOME: dir, DOCKER_CONFIG: join(dir, "docker") } });

/** Blob body bytes the client sent in uploads (monolithic PUT and PATCH chunks). */
function uploadedBytes(): number {
  return proxy.requests.filter((r) => r.kind === "upload").reduce((n, r) => n + r.requestBytes, 0);
}

describe("tsbuild push", () => {
  test("pushes an image that skopeo inspects and copies; a re-push sends no blob data", async () => {
    const ref = `${proxy.host}/ours/busybox:v1`;
    const { openStore } = await import("../../../src/store/store.js");
    await storeImage(await openStore({ root, env: {} }), image, ref);
    proxy.clear();
    const r = await cli("push", "--root", root, ref);
    expect(r.err).not.toContain("error");
    expect(r.code).toBe(0);
    const digest = image.manifestBlob.descriptor.digest;
    expect(r.out).toBe(`${ref}: digest: ${digest} size: ${image.manifestBlob.bytes.length}\n`);
    expect(r.err).toContain(`push ${ref}: layer ${image.layers[0]?.descriptor.digest.slice(0, 19)}… Pushed`);
    expect(uploadedBytes()).toBe([...image.blobs.values()].reduce((n, b) => n + b.length, 0));

    const target = { host: registry.host, repository: "ours/busybox", tag: "v1" };
    const inspected = await skopeoInspect(target);
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));
    expect((await skopeoRawManifest(target)).equals(image.manifestBlob.bytes)).toBe(true);
    await skopeoCopy(`${registry.host}/ours/busybox:v1`, `${registry.host}/copied/busybox:v1`);
    expect((await skopeoInspect({ ...target, repository: "copied/busybox" })).Digest).toBe(digest);

    proxy.clear();
    const again = await cli("push", "--root", root, ref);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`${ref}: digest: ${digest} size: ${image.manifestBlob.bytes.length}\n`);
    expect(again.err).toContain("Layer already exists");
    expect(uploadedBytes()).toBe(0);
    expect(proxy.requests.filter((r) => r.kind === "upload")).toEqual([]);
    expect(proxy.requests.filter((r) => r.kind === "blob").every((r) => r.method === "HEAD")).toBe(true);
  });

  test("mounts blobs from another repository of the same registry instead of uploading them", async () => {
    const store = await tempStore();
    try {
      const img = await buildBusyboxImage({ extraFiles: { "etc/mount-test": "1" } });
      const first = `${proxy.host}/mount/source:v1`;
      const second = `${proxy.host}/mount/target:v1`;
      await storeImage(store, img, first);
      const res1 = await pushImage({ source: first, store });
      expect(res1.blobs.map((b) => b.status)).toEqual(["uploaded", "uploaded"]);
      expect(res1.uploadedBytes).toBeGreaterThan(0);
      proxy.clear();
      const events: PullPushProgress[] = [];
      const res2 = await pushImage({ source: first, target: second, store, onProgress: (e) => events.push(e) });
      expect(res2.digest).toBe(img.manifestBlob.descriptor.digest);
      expect(res2.blobs.map((b) => [b.status, b.mountedFrom])).toEqual([
        ["mounted", "mount/source"],
        ["mounted", "mount/source"],
      ]);
      expect(res2.uploadedBytes).toBe(0);
      expect(uploadedBytes()).toBe(0);
      const mounts = proxy.requests.filter((r) => r.method === "POST" && r.kind === "upload");
      expect(mounts).toHaveLength(2);
      expect(events.some((e) => e.type === "blob" && e.status === "mounted")).toBe(true);
      const last = events.filter((e) => e.type === "image").at(-1);
      expect(last).toMatchObject({ layersDone: 1, layersTotal: 1 });
      expect((await skopeoInspect({ host: registry.host, repository: "mount/target", tag: "v1" })).Digest).toBe(res2.digest);
    } finally {
      await store.cleanup();
    }
  });

  test("pushes by digest, and refuses a digest that is not the image's", async () => {
    const store = await tempStore();
    try {
      const img = await buildBusyboxImage({ extraFiles: { "etc/by-digest": "1" } });
      const digest = img.manifestBlob.descriptor.digest;
      await storeImage(store, img, `${registry.host}/bydigest/busybox:local`);
      const res = await pushImage({ source: `${registry.host}/bydigest/busybox:local`, target: `${registry.host}/bydigest/busybox@${digest}`, store });
      expect(res.digest).toBe(digest);
      expect(res.name.toString()).toBe(`${registry.host}/bydigest/busybox@${digest}`);
      const inspected = await skopeoInspect({ host: registry.host, repository: "bydigest/busybox", tag: "x" }).catch((e: Error) => e);
      expect(inspected).toBeInstanceOf(Error); // no tag was created
      const { RegistryClient } = await import("../../../src/registry/client.js");
      const client = new RegistryClient({ host: registry.host });
      try {
        expect((await client.getManifest("bydigest/busybox", digest)).bytes.equals(img.manifestBlob.bytes)).toBe(true);
      } finally {
        await client.close();
      }

      const wrong = `${registry.host}/bydigest/busybox@sha256:${"0".repeat(64)}`;
      await expect(pushImage({ source: `${registry.host}/bydigest/busybox:local`, target: wrong, store })).rejects.toMatchObject({
        code: "REF_INVALID",
      });
    } finally {
      await store.cleanup();
    }
  });

  test("uploads layers above the monolithic threshold in chunks, byte-exact", async () => {
    const store = await tempStore();
    try {
      const img = randomImage({ layerSizes: [3 * 1024 * 1024 + 17, 100], seed: 42 });
      const ref = `${proxy.host}/chunked/random:v1`;
      await storeImage(store, img, ref);
      proxy.clear();
      const res = await pushImage({
        source: ref,
        store,
        clientOptions: { monolithicThreshold: 1024 * 1024, chunkSize: 1024 * 1024 },
      });
      expect(res.digest).toBe(img.manifestBlob.descriptor.digest);
      expect(proxy.requests.filter((r) => r.method === "PATCH")).toHaveLength(4);
      const inspected = await skopeoInspect({ host: registry.host, repository: "chunked/random", tag: "v1" });
      expect(inspected.Layers).toEqual(img.layers.map((l) => l.descriptor.digest));
    } finally {
      await store.cleanup();
    }
  });

  test("pushes a multi-platform index: every child manifest by digest, then the index under the tag", async () => {
    const store = await tempStore();
    try {
      const a = randomImage({ layerSizes: [1000], seed: 11, architecture: "amd64" });
      const b = randomImage({ layerSizes: [2000], seed: 12, architecture: "arm64" });
      const idx = buildIndex([a, b]);
      await storeImage(store, a, `${registry.host}/multi/a:x`);
      await storeImage(store, b, `${registry.host}/multi/b:x`);
      const d = idx.index.descriptor.digest as Digest;
      await store.content.writeBlob(idx.index.bytes, { digest: d, size: idx.index.bytes.length });
      await store.images.putImage({
        name: parseReference(`${registry.host}/multi/index:v1`),
        manifestDigest: d,
        mediaType: idx.index.descriptor.mediaType,
        size: idx.index.bytes.length,
        configDigest: a.configBlob.descriptor.digest as Digest,
        platform: { os: "linux", architecture: "amd64" },
      });
      const res = await pushImage({ source: `${registry.host}/multi/index:v1`, store });
      expect(res.digest).toBe(d);
      expect(res.blobs).toHaveLength(4);
      const target = { host: registry.host, repository: "multi/index", tag: "v1" };
      expect((await skopeoRawManifest(target)).equals(idx.index.bytes)).toBe(true);
      const { RegistryClient } = await import("../../../src/registry/client.js");
      const client = new RegistryClient({ host: registry.host });
      try {
        for (const img of [a, b]) {
          const m = await client.getManifest("multi/index", img.manifestBlob.descriptor.digest);
          expect(m.bytes.equals(img.manifestBlob.bytes)).toBe(true);
        }
      } finally {
        await client.close();
      }
    } finally {
      await store.cleanup();
    }
  });

  test("errors: an image the store does not have, and a registry that refuses", async () => {
    const missing = await cli("push", "--root", root, `${registry.host}/not/here:v1`);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`no image "${registry.host}/not/here:v1" in the local store`);
  });
});
