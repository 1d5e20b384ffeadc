/**
 * Pull and push through a fault-injecting proxy in front of a real
 * registry: reset connections (before the request reaches the registry,
 * and after it did the work but before the client heard), 500/503/429
 * answers, and corrupted blob bodies. Transfers must still complete with
 * results bit-identical to a clean run; corrupted content must be rejected
 * and never stored; an aborted pull must leave no partial blob under a
 * final name, and the next pull must fetch only what was missing.
 */
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pullImage } from "../../../src/image/pull.js";
import { pushImage } from "../../../src/image/push.js";
import type { Digest } from "../../../src/oci/digest.js";
import type { RegistryClientOptions } from "../../../src/registry/client.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect, skopeoPush, skopeoRawManifest } from "../../helpers/skopeo.js";
import { randomImage, storeBlobFiles, tempStore } from "./fixtures.js";

let registry: TestRegistry;
let proxy: FaultProxy;
const stores: { cleanup(): Promise<void> }[] = [];

/** Four layers, two of them above the 1 MiB monolithic threshold used below (chunked uploads). */
const image = randomImage({ layerSizes: [2_500_000, 1_200_000, 600_000, 40_000], seed: 7 });
const layerDigests = image.layers.map((l) => l.descriptor.digest as Digest);

/** Small chunks and quick retries: many requests to fault, little waiting. */
const clientOptions: Omit<RegistryClientOptions, "host"> = {
  monolithicThreshold: 1024 * 1024,
  chunkSize: 512 * 1024,
  retry: { baseDelayMs: 5, maxDelayMs: 50, attempts: 10 },
};

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy({ upstream: registry.host });
  await skopeoPush(image, { host: registry.host, repository: "faults/random", tag: "v1" });
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.cleanup()));
  await proxy?.stop();
  await registry?.stop();
});

async function newStore(): Promise<Awaited<ReturnType<typeof tempStore>>> {
  const s = await tempStore();
  stores.push(s);
  return s;
}

/**
 * Rates for the faulty runs. The seed is chosen (with `decideFault`) so that
 * the pull's first requests include a reset before forwarding, a reset in
 * the middle of the biggest layer's body, and an error status.
 */
const FAULTS = { seed: 191, resetRate: 0.15, errorRate: 0.15 } as const;

describe("through a faulty network", () => {
  test("pull and push complete, bit-identical to a clean run", async () => {
    const ref = `${proxy.host}/faults/random:v1`;
    proxy.configure({});
    const clean = await newStore();
    const cleanPull = await pullImage({ ref, store: clean, clientOptions });

    proxy.configure(FAULTS);
    proxy.clear();
    const faulty = await newStore();
    const faultyPull = await pullImage({ ref, store: faulty, clientOptions });
    const pullFaults = new Set(proxy.requests.map((r) => r.fault));
    expect([...pullFaults].sort()).toEqual(["error", "none", "reset-after", "reset-before"]);
    const cut = proxy.requests.find((r) => r.fault === "reset-after" && r.path.endsWith(layerDigests[0] ?? ""));
    expect(cut?.responseBytes).toBeGreaterThan(0);
    expect(cut?.responseBytes).toBeLessThan(image.layers[0]?.bytes.length ?? 0);
    expect(faultyPull.manifestDigest).toBe(cleanPull.manifestDigest);
    expect(faultyPull.manifestDigest).toBe(image.manifestBlob.descriptor.digest);
    expect(await storeBlobFiles(faulty)).toEqual(await storeBlobFiles(clean));
    expect(await readdir(faulty.layout.tmpDir)).toEqual([]);

    // Push what the faulty pull stored, through faults, with chunked uploads.
    proxy.clear();
    const pushed = await pushImage({ source: ref, target: `${proxy.host}/faults/pushed:v1`, store: faulty, clientOptions, mount: false });
    expect(proxy.requests.filter((r) => r.fault !== "none").length).toBeGreaterThan(0);
    expect(proxy.requests.some((r) => r.method === "PATCH")).toBe(true);
    expect(pushed.digest).toBe(image.manifestBlob.descriptor.digest);
    const target = { host: registry.host, repository: "faults/pushed", tag: "v1" };
    expect((await skopeoRawManifest(target)).equals(image.manifestBlob.bytes)).toBe(true);
    expect((await skopeoInspect(target)).Layers).toEqual(layerDigests);

    // And it reads back (cleanly) as the same bytes.
    proxy.configure({});
    const readBack = await newStore();
    await pullImage({ ref: `${proxy.host}/faults/pushed:v1`, store: readBack, clientOptions });
    expect(await storeBlobFiles(readBack)).toEqual(await storeBlobFiles(clean));
  });

  test("a blob whose bytes do not match its digest is rejected, not retried, and never stored", async () => {
    const victim = layerDigests[1] as Digest;
    proxy.configure({ corrupt: ({ method, path }) => method === "GET" && path.endsWith(`/blobs/${victim}`) });
    proxy.clear();
    const store = await newStore();
    const err = await pullImage({ ref: `${proxy.host}/faults/random:v1`, store, clientOptions }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    proxy.configure({});
    expect(err?.code).toBe("DIGEST_MISMATCH");
    expect(err?.message).toContain(victim);
    expect(err?.message).toContain(`${proxy.host}/faults/random`);
    expect(await store.content.hasBlob(victim)).toBe(false);
    expect(await store.images.getImage(`${proxy.host}/faults/random:v1`)).toBeUndefined();
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
    expect(proxy.requests.filter((r) => r.method === "GET" && r.path.endsWith(victim))).toHaveLength(1);
  });

  test("an aborted pull leaves no partial blob; the next pull fetches only what was missing", async () => {
    proxy.configure({});
    const store = await newStore();
    const ref = `${proxy.host}/faults/random:v1`;
    const controller = new AbortController();
    // One blob at a time (config, then layers in order); stop mid-way through the second layer.
    const err = await pullImage({
      ref,
      store,
      clientOptions,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === "blob" && e.digest === layerDigests[1] && e.status === "downloading" && e.done > 0) controller.abort(new Error("test abort"));
      },
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe("ABORTED");
    expect(await store.content.hasBlob(image.configBlob.descriptor.digest as Digest)).toBe(true);
    expect(await store.content.hasBlob(layerDigests[0] as Digest)).toBe(true);
    for (const d of layerDigests.slice(1)) expect(await store.content.hasBlob(d)).toBe(false);
    // Everything under a final name is complete and verified.
    for (const name of await readdir(store.layout.blobsDir)) expect(`sha256:${name}`).toSatisfy((d: string) => image.blobs.has(d));
    for (const [d, bytes] of image.blobs) {
      if (await store.content.hasBlob(d as Digest)) expect(Buffer.from(await store.content.readBlob(d as Digest)).equals(bytes)).toBe(true);
    }
    expect(await store.images.getImage(ref)).toBeUndefined();

    proxy.clear();
    const resumed = await pullImage({ ref, store, clientOptions });
    const fetched = proxy.requests.filter((r) => r.method === "GET" && r.kind === "blob").map((r) => r.path.split("/blobs/")[1]);
    expect(fetched.sort()).toEqual(layerDigests.slice(1).sort());
    expect(resumed.blobs.map((b) => b.status)).toEqual(["cached", "cached", "downloaded", "downloaded", "downloaded"]);
    expect(await storeBlobFiles(store)).toEqual(
      new Map([...image.blobs.keys(), image.manifestBlob.descriptor.digest].map((d) => [d.slice(7), d.slice(7)])),
    );
  });

  test("a registry that keeps failing fails the pull with its status, after bounded retries", async () => {
    proxy.configure({ errorRate: 1, eligible: ({ path }) => path.includes("/blobs/") });
    proxy.clear();
    const store = await newStore();
    const err = await pullImage({ ref: `${proxy.host}/faults/random:v1`, store, clientOptions, concurrency: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    proxy.configure({});
    expect(err?.code).toBe("REGISTRY_ERROR");
    expect(err?.message).toContain(`${proxy.host}/faults/random`);
    expect(err?.message).toMatch(/(500 Internal Server Error|503 Service Unavailable|429 Too Many Requests): UNAVAILABLE: injected fault/);
    // One blob tried, `attempts` times, then the whole pull stops.
    expect(proxy.requests.filter((r) => r.kind === "blob")).toHaveLength(10);
  });
});
