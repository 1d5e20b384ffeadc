import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { digestOf } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { parseReference } from "../../../src/registry/reference.js";
import { manifestDescriptor, recordKey } from "../../../src/store/image-record.js";
import { openStore, type LocalStore } from "../../../src/store/store.js";
import { codeOf, storeSampleImage, tempRoot, type SampleImage } from "./helpers.js";

const platform = { os: "linux", architecture: "amd64" };

async function setup(): Promise<LocalStore> {
  return openStore({ root: await tempRoot() });
}

async function put(store: LocalStore, name: string, img: SampleImage) {
  return store.images.putImage({
    name: parseReference(name),
    manifestDigest: img.manifestDigest,
    mediaType: MediaType.OciManifest,
    size: img.manifestSize,
    configDigest: img.configDigest,
    platform,
    created: new Date("2024-01-02T03:04:05Z"),
  });
}

describe("ImageStore", () => {
  it("putImage / getImage round-trip, with a bare name meaning :latest", async () => {
    const store = await setup();
    const img = await storeSampleImage(store.content, "a");
    const rec = await put(store, "alpine:latest", img);
    expect(rec.name.toString()).toBe("docker.io/library/alpine:latest");
    expect(rec.created).toBe("2024-01-02T03:04:05.000Z");
    const got = await store.images.getImage("alpine");
    expect(got?.manifestDigest).toBe(img.manifestDigest);
    expect(got?.configDigest).toBe(img.configDigest);
    expect(got?.platform).toEqual(platform);
    expect(got?.name.familiar()).toBe("alpine:latest");
    expect(manifestDescriptor(got!)).toEqual({ mediaType: MediaType.OciManifest, digest: img.manifestDigest, size: img.manifestSize, platform });
    expect(await store.images.getImage("alpine:3")).toBeUndefined();
    // one file per name, named by the hash of the canonical name
    expect(await readdir(store.layout.imagesDir)).toEqual([`${recordKey(rec.name)}.json`]);
  });

  it("refuses records whose blobs are not stored", async () => {
    const store = await setup();
    for (const skip of ["layer", "config", "manifest"] as const) {
      const img = await storeSampleImage(store.content, `missing-${skip}`, { skip });
      expect(await codeOf(put(store, `x:${skip}`, img))).toBe("STORE_NOT_FOUND");
    }
    expect(await store.images.listImages()).toEqual([]);
    const img = await storeSampleImage(store.content, "wrong-config");
    const other = await storeSampleImage(store.content, "other");
    await expect(
      store.images.putImage({ name: parseReference("x:y"), manifestDigest: img.manifestDigest, mediaType: MediaType.OciManifest, size: img.manifestSize, configDigest: other.configDigest, platform }),
    ).rejects.toThrow(/does not name config/);
  });

  it("names need a tag or the manifest's own digest", async () => {
    const store = await setup();
    const img = await storeSampleImage(store.content, "a");
    expect(await codeOf(put(store, `alpine:3@${img.manifestDigest}`, img))).toBe("REF_INVALID");
    expect(await codeOf(put(store, `alpine@${digestOf("other")}`, img))).toBe("REF_INVALID");
    expect(await codeOf(store.images.putImage({ ...(await put(store, "a:b", img)), name: parseReference("alpine") }))).toBe("REF_INVALID");
    const rec = await put(store, `alpine@${img.manifestDigest}`, img);
    expect(rec.name.familiar()).toBe(`alpine@${img.manifestDigest}`);
  });

  it("putImage replaces what a tag pointed at", async () => {
    const store = await setup();
    const a = await storeSampleImage(store.content, "a");
    const b = await storeSampleImage(store.content, "b");
    await put(store, "app:v1", a);
    await put(store, "app:v1", b);
    const list = await store.images.listImages();
    expect(list).toHaveLength(1);
    expect(list[0]?.manifestDigest).toBe(b.manifestDigest);
  });

  it("putImage of what the name already holds leaves the record file untouched (a no-op rebuild writes nothing)", async () => {
    const store = await setup();
    const a = await storeSampleImage(store.content, "a");
    const b = await storeSampleImage(store.content, "b");
    const first = await put(store, "app:v1", a);
    const dir = join(store.root, "images");
    const [file] = await readdir(dir);
    const before = await stat(join(dir, file!));
    const again = await put(store, "app:v1", a);
    expect(again.updated).toBe(first.updated);
    expect((await stat(join(dir, file!))).ino).toBe(before.ino);
    // A different image under the name is a change: written, with a new inode (temp file + rename).
    await put(store, "app:v1", b);
    expect((await stat(join(dir, file!))).ino).not.toBe(before.ino);
    expect((await store.images.getImage("app:v1"))?.manifestDigest).toBe(b.manifestDigest);
  });

  it("tag, untag and list", async () => {
    const store = await setup();
    const a = await storeSampleImage(store.content, "a");
    await put(store, "localhost:5000/app:v1", a);
    const tagged = await store.images.tag("localhost:5000/app:v1", "user/app");
    expect(tagged.name.toString()).toBe("docker.io/user/app:latest");
    expect(tagged.manifestDigest).toBe(a.manifestDigest);
    await store.images.tag(a.configDigest.slice(7, 19), "zzz:1");
    expect((await store.images.listImages()).map((r) => r.name.familiar())).toEqual(["zzz:1", "user/app:latest", "localhost:5000/app:v1"]);
    const removed = await store.images.untag("user/app");
    expect(removed.name.familiar()).toBe("user/app:latest");
    expect(await codeOf(store.images.untag("user/app"))).toBe("STORE_NOT_FOUND");
    expect((await store.images.listImages()).map((r) => r.name.familiar())).toEqual(["zzz:1", "localhost:5000/app:v1"]);
    expect(await codeOf(store.images.tag("nothing:here", "x:y"))).toBe("STORE_NOT_FOUND");
    expect(await readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("concurrent untags of one name: exactly one wins", async () => {
    const store = await setup();
    await put(store, "race:1", await storeSampleImage(store.content, "a"));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.images.untag("race:1")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").every((r) => (r.reason as BuildError).code === "STORE_NOT_FOUND")).toBe(true);
  });

  it("resolve: tag, digest reference, full ID, manifest digest, ID prefix", async () => {
    const store = await setup();
    const a = await storeSampleImage(store.content, "a");
    const b = await storeSampleImage(store.content, "b");
    await put(store, "alpine:3", a);
    await put(store, "busybox:1", b);
    const images = store.images;
    expect((await images.resolve("alpine:3")).manifestDigest).toBe(a.manifestDigest);
    expect((await images.resolve(parseReference("docker.io/library/busybox:1"))).manifestDigest).toBe(b.manifestDigest);
    // digest reference: any name of that repository with that manifest
    expect((await images.resolve(`alpine@${a.manifestDigest}`)).name.familiar()).toBe("alpine:3");
    expect((await images.resolve(`alpine:3@${a.manifestDigest}`)).name.familiar()).toBe("alpine:3");
    expect(await codeOf(images.resolve(`alpine@${b.manifestDigest}`))).toBe("STORE_NOT_FOUND");
    expect(await codeOf(images.resolve(`alpine:4@${a.manifestDigest}`))).toBe("STORE_NOT_FOUND");
    // IDs are config digests, as in Docker; manifest digests work too
    expect((await images.resolve(a.configDigest)).name.familiar()).toBe("alpine:3");
    expect((await images.resolve(a.configDigest.slice(7))).name.familiar()).toBe("alpine:3");
    expect((await images.resolve(b.manifestDigest)).name.familiar()).toBe("busybox:1");
    expect((await images.resolve(b.configDigest.slice(0, 7 + 12))).name.familiar()).toBe("busybox:1");
    expect((await images.resolve(b.configDigest.slice(7, 7 + 12))).name.familiar()).toBe("busybox:1");
    // a tag wins over an ID prefix that happens to be a valid name
    const hexName = b.configDigest.slice(7, 13);
    await put(store, `${hexName}:latest`, a);
    expect((await images.resolve(hexName)).manifestDigest).toBe(a.manifestDigest);
    expect(await codeOf(images.resolve("nothing"))).toBe("STORE_NOT_FOUND");
    expect(await codeOf(images.resolve("Not A Ref!"))).toBe("REF_INVALID");
  });

  it("resolve: an ambiguous ID prefix is REF_INVALID", async () => {
    const store = await setup();
    // find two images whose config digests share a first hex digit
    const seen = new Map<string, SampleImage>();
    for (let i = 0; ; i++) {
      const img = await storeSampleImage(store.content, `s${i}`);
      const first = img.configDigest.slice(7, 8);
      const prev = seen.get(first);
      if (prev !== undefined) {
        await put(store, "one:1", prev);
        await put(store, "two:1", img);
        const err = await store.images.resolve(first).catch((e: unknown) => e);
        // `first` is also a valid repository name, looked up first (not found), then as a prefix
        expect(err).toBeInstanceOf(BuildError);
        expect((err as BuildError).code).toBe("REF_INVALID");
        expect((err as BuildError).message).toContain("ambiguous");
        break;
      }
      seen.set(first, img);
    }
  });

  it("detects damaged and misplaced record files", async () => {
    const store = await setup();
    const rec = await put(store, "good:1", await storeSampleImage(store.content, "a"));
    const file = join(store.layout.imagesDir, `${recordKey(rec.name)}.json`);
    await writeFile(file, '{"version":1,"name":"good:1"');
    expect(await codeOf(store.images.getImage("good:1"))).toBe("STORE_CORRUPT");
    expect(await codeOf(store.images.listImages())).toBe("STORE_CORRUPT");
    // a complete record stored under another name's file
    const other = await put(store, "other:1", await storeSampleImage(store.content, "b"));
    await writeFile(file, await readFile(join(store.layout.imagesDir, `${recordKey(other.name)}.json`)));
    expect(await codeOf(store.images.getImage("good:1"))).toBe("STORE_CORRUPT");
    // a future format version
    await writeFile(file, JSON.stringify({ version: 99 }));
    await expect(store.images.getImage("good:1")).rejects.toThrow(/format version 99/);
  });

  it("rejects a root written by another layout version", async () => {
    const root = await tempRoot();
    await openStore({ root });
    await writeFile(join(root, "tsbuild-store.json"), JSON.stringify({ layoutVersion: 42 }));
    expect(await codeOf(openStore({ root }))).toBe("STORE_CORRUPT");
  });
});

describe("blob sources", () => {
  it("records repositories per blob, without duplicates", async () => {
    const store = await setup();
    const d = digestOf("layer");
    expect(await store.images.blobSources(d)).toEqual([]);
    await store.images.recordBlobSource(d, "alpine");
    await store.images.recordBlobSource(d, parseReference("ghcr.io/o/r:tag"));
    await store.images.recordBlobSource(d, "docker.io/library/alpine");
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.images.recordBlobSource(d, `localhost:5000/r${i % 2}`)));
    expect(await store.images.blobSources(d)).toEqual(
      expect.arrayContaining(["docker.io/library/alpine", "ghcr.io/o/r", "localhost:5000/r0", "localhost:5000/r1"]),
    );
    expect(await store.images.blobSources(d)).toHaveLength(4);
    expect(await store.images.blobSources(digestOf("other"))).toEqual([]);
    expect(await codeOf(store.images.recordBlobSource(d, "alpine:3"))).toBe("REF_INVALID");
  });

  it("skips torn and foreign lines, and the next append starts a fresh line", async () => {
    const store = await setup();
    const d = digestOf("layer");
    await store.images.recordBlobSource(d, "a/b");
    const file = join(store.layout.blobSourcesDir, d.slice(7));
    await appendFile(file, '\n{"repository":"docker.io/li'); // crash mid-append
    expect(await store.images.blobSources(d)).toEqual(["docker.io/a/b"]);
    await store.images.recordBlobSource(d, "c/d");
    await appendFile(file, '\n{"repository":"Not Valid"}\n\nnot json\n');
    expect(await store.images.blobSources(d)).toEqual(["docker.io/a/b", "docker.io/c/d"]);
    await store.images.sources.forgetBlob(d);
    expect(await store.images.blobSources(d)).toEqual([]);
  });
});
