/**
 * `tsbuild pull` against a real registry, of images skopeo pushed (so the
 * pull does not depend on our push): OCI and Docker schema 2 manifests, an
 * index with two platforms where only one matches, pulls by digest, the
 * up-to-date status, and the error for a repository that does not exist.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hostPlatform } from "../../../src/image/platform-select.js";
import type { Digest } from "../../../src/oci/digest.js";
import { openStore } from "../../../src/store/store.js";
import { buildBusyboxImage, sha256, type TestImage } from "../../helpers/busybox-image.js";
import { runCli } from "../../helpers/cli-io.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoInspect, skopeoPush, skopeoRawManifest } from "../../helpers/skopeo.js";
import { buildIndex, skopeoPushDocker, skopeoPushIndex } from "./fixtures.js";

let registry: TestRegistry;
let image: TestImage;
let fake: TestImage;
let dir: string;
const env = (): NodeJS.ProcessEnv => ({ HOME: dir, DOCKER_CONFIG: join(dir, "docker") });

/** A platform no test machine is: its manifest must never be chosen by default. */
const FAKE_ARCH = hostPlatform().architecture === "s390x" ? "riscv64" : "s390x";

beforeAll(async () => {
  [registry, image, fake, dir] = await Promise.all([
    startRegistry(),
    buildBusyboxImage(),
    buildBusyboxImage({ architecture: FAKE_ARCH, extraFiles: { "etc/fake": "not this one" } }),
    mkdtemp(join(tmpdir(), "tsbuild-pull-test-")),
  ]);
  await Promise.all([
    skopeoPush(image, { host: registry.host, repository: "oci/busybox", tag: "test" }),
    skopeoPushDocker(image, { host: registry.host, repository: "docker/busybox", tag: "v2s2" }),
    skopeoPushIndex(buildIndex([fake, image]), { host: registry.host, repository: "multi/busybox", tag: "both" }),
  ]);
});

afterAll(async () => {
  await registry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function pull(root: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(["pull", "--root", root, ...args], { cwd: dir, env: env() });
}

/** The blob file of `digest` in the store at `root`, as bytes. */
async function blobAt(root: string, digest: string): Promise<Buffer> {
  return readFile(join(root, "blobs", "sha256", digest.slice("sha256:".length)));
}

describe("tsbuild pull", () => {
  test("pulls an OCI image: blobs verified in the store, image recorded, Docker's output", async () => {
    const root = join(dir, "store-oci");
    const ref = `${registry.host}/oci/busybox:test`;
    const r = await pull(root, ref);
    expect(r.err.replace(/^pull .*\n/gm, "")).toBe("");
    expect(r.code).toBe(0);
    const digest = image.manifestBlob.descriptor.digest;
    expect(r.out).toBe(`Digest: ${digest}\nStatus: Downloaded newer image for ${ref}\n${ref}\n`);
    // Plain progress lines name the image and each blob.
    expect(r.err).toContain(`pull ${ref}: layer ${image.layers[0]?.descriptor.digest.slice(0, 19)}…`);

    for (const [d, bytes] of [...image.blobs, [digest, image.manifestBlob.bytes] as const]) {
      expect((await blobAt(root, d)).equals(bytes)).toBe(true);
    }
    const store = await openStore({ root, env: {} });
    const record = await store.images.getImage(ref);
    expect(record?.manifestDigest).toBe(digest);
    expect(record?.configDigest).toBe(image.configBlob.descriptor.digest);
    expect(record?.platform).toEqual({ os: "linux", architecture: image.config.architecture });
    expect(await store.images.blobSources(image.layers[0]?.descriptor.digest as Digest)).toEqual([`${registry.host}/oci/busybox`]);

    const again = await pull(root, ref);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`Digest: ${digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`);
    expect(again.err).toContain("Already exists");
  });

  test("pulls a Docker schema 2 image (as skopeo converted it)", async () => {
    const root = join(dir, "store-docker");
    const ref = `${registry.host}/docker/busybox:v2s2`;
    const raw = await skopeoRawManifest({ host: registry.host, repository: "docker/busybox", tag: "v2s2" });
    const inspected = await skopeoInspect({ host: registry.host, repository: "docker/busybox", tag: "v2s2" });
    expect(JSON.parse(raw.toString()).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");

    const r = await pull(root, "-q", ref);
    expect(r.err).toBe("");
    expect(r.out).toBe(`${ref}\n`);
    const store = await openStore({ root, env: {} });
    const record = await store.images.getImage(ref);
    expect(record?.manifestDigest).toBe(inspected.Digest);
    expect(record?.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect((await blobAt(root, inspected.Digest)).equals(raw)).toBe(true);
    for (const layer of inspected.Layers) expect(sha256(await blobAt(root, layer))).toBe(layer);
  });

  test("from an index, pulls only the host platform's manifest and stores the index", async () => {
    const root = join(dir, "store-index");
    const ref = `${registry.host}/multi/busybox:both`;
    const indexDigest = buildIndex([fake, image]).index.descriptor.digest;
    const r = await pull(root, ref);
    expect(r.code).toBe(0);
    // Docker prints the digest the tag points at: the index's.
    expect(r.out).toContain(`Digest: ${indexDigest}\n`);
    const store = await openStore({ root, env: {} });
    const record = await store.images.getImage(ref);
    expect(record?.manifestDigest).toBe(image.manifestBlob.descriptor.digest);
    expect(await store.content.hasBlob(indexDigest as Digest)).toBe(true);
    expect(await store.content.hasBlob(fake.layers[0]?.descriptor.digest as Digest)).toBe(false);
    expect(await store.content.hasBlob(fake.manifestBlob.descriptor.digest as Digest)).toBe(false);

    // --platform picks the other one; a platform the index lacks is an error naming what it has.
    const other = await pull(join(dir, "store-index-fake"), "--platform", `linux/${FAKE_ARCH}`, ref);
    expect(other.code).toBe(0);
    const otherStore = await openStore({ root: join(dir, "store-index-fake"), env: {} });
    expect((await otherStore.images.getImage(ref))?.manifestDigest).toBe(fake.manifestBlob.descriptor.digest);
    expect((await otherStore.images.getImage(ref))?.platform.architecture).toBe(FAKE_ARCH);

    const none = await pull(join(dir, "store-index-none"), "--platform", "linux/mips64le", ref);
    expect(none.code).toBe(1);
    expect(none.err).toContain(`no matching manifest for linux/mips64le in the manifest list entries of ${ref}`);
    expect(none.err).toContain(`linux/${FAKE_ARCH}`);
  });

  test("pulls by digest, recording the digest name; refuses a single-platform image of another --platform", async () => {
    const root = join(dir, "store-digest");
    const digest = image.manifestBlob.descriptor.digest;
    const ref = `${registry.host}/oci/busybox@${digest}`;
    const r = await pull(root, ref);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Digest: ${digest}\n`);
    const store = await openStore({ root, env: {} });
    expect((await store.images.getImage(ref))?.manifestDigest).toBe(digest);

    const wrong = await pull(join(dir, "store-wrong-platform"), "--platform", `linux/${FAKE_ARCH}`, `${registry.host}/oci/busybox:test`);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`does not match the requested platform (linux/${FAKE_ARCH})`);
  });

  test("refuses a config whose rootfs.diff_ids are not digests: a crafted one must never name a directory", async () => {
    // A diffID becomes the name of the layer's snapshot directory: "sha256:../../root" made the host's /root a layer.
    const config = { ...image.config, rootfs: { type: "layers", diff_ids: ["sha256:../../../../../../../../root"] } };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDesc = { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(configBytes), size: configBytes.length };
    const manifest = { ...image.manifest, config: configDesc };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const crafted: TestImage = {
      ...image,
      config: config as TestImage["config"],
      configBlob: { descriptor: configDesc, bytes: configBytes },
      manifest: manifest as TestImage["manifest"],
      manifestBlob: { descriptor: { mediaType: manifest.mediaType!, digest: sha256(manifestBytes), size: manifestBytes.length }, bytes: manifestBytes },
      blobs: new Map([...image.blobs].filter(([d]) => d !== image.configBlob.descriptor.digest).concat([[configDesc.digest, configBytes]])),
    };
    await skopeoPush(crafted, { host: registry.host, repository: "crafted/busybox", tag: "bad-diffid" });
    const root = join(dir, "store-crafted");
    const r = await pull(root, `${registry.host}/crafted/busybox:bad-diffid`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("has no valid rootfs.diff_ids (sha256 digests)");
    const images = await runCli(["images", "-q", "--root", root], { cwd: dir, env: env() });
    expect(images.out).toBe("");
  });

  test("errors name the reference, the registry, the status and the registry's code", async () => {
    const root = join(dir, "store-errors");
    const missingRepo = await pull(root, `${registry.host}/no/such-repo:v1`);
    expect(missingRepo.code).toBe(1);
    expect(missingRepo.err).toContain(`${registry.host}/no/such-repo:v1`);
    expect(missingRepo.err).toContain("404 Not Found");
    expect(missingRepo.err).toMatch(/NAME_UNKNOWN: repository name not known to registry/);
    expect(missingRepo.err).not.toMatch(/\n\s+at /); // no stack trace

    const missingTag = await pull(root, `${registry.host}/oci/busybox:nope`);
    expect(missingTag.code).toBe(1);
    expect(missingTag.err).toContain(`manifest for ${registry.host}/oci/busybox:nope not found: 404 Not Found: MANIFEST_UNKNOWN`);

    const badRef = await pull(root, "Bad:Ref/x");
    expect(badRef.code).toBe(1);
    expect(badRef.err).toContain("invalid reference");

    const usage = await pull(root);
    expect(usage.code).toBe(2);
  });
});
