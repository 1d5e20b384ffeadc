/**
 * The local image commands through the CLI (`runCli`, in-process): the
 * `images` table and its options, `tag`, `rmi`, `inspect`, and the errors
 * for unknown references (Docker's wording, exit 1, no stack trace).
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli-io.js";
import { storeBusyboxImage } from "../../helpers/store-image.js";
import { tempDir, tempStore } from "./fixtures.js";

async function setup() {
  const store = await tempStore();
  const cwd = await tempDir();
  const cli = (...argv: string[]) => runCli([...argv, "--root", store.root], { cwd });
  return { store, cwd, cli };
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toContain("internal error");
}

describe("tsbuild images", () => {
  it("shows REPOSITORY, TAG, DIGEST, SIZE and CREATED, newest first", async () => {
    const { store, cli } = await setup();
    const old = await storeBusyboxImage(store, { name: "busybox:1.36", created: new Date(Date.now() - 3 * 24 * 3600_000) });
    const recent = await storeBusyboxImage(store, { name: "localhost:5000/team/app:v1", created: new Date(Date.now() - 2 * 3600_000) });
    const r = await cli("images");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^REPOSITORY\s{3,}TAG\s{3,}DIGEST\s{3,}SIZE\s{3,}CREATED$/);
    const cells = lines.slice(1).map((l) => l.split(/\s{3,}/));
    const size = old.image.configBlob.bytes.length + old.image.layers[0]!.bytes.length;
    expect(cells).toEqual([
      ["localhost:5000/team/app", "v1", `sha256:${recent.manifestDigest.slice(7, 19)}`, expect.stringMatching(/^\d+(\.\d+)?MB$/), "2 hours ago"],
      ["busybox", "1.36", `sha256:${old.manifestDigest.slice(7, 19)}`, `${Number((size / 1e6).toPrecision(3))}MB`, "3 days ago"],
    ]);
    // Columns line up: each header starts where its cells start.
    const col = (name: string) => lines[0]!.indexOf(name);
    expect(lines[1]!.indexOf("v1")).toBe(col("TAG"));
    expect(lines[2]!.indexOf("3 days ago")).toBe(col("CREATED"));
  });

  it("--digests shows full digests, -q image IDs, --format json one object per line", async () => {
    const { store, cli } = await setup();
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    await cli("tag", "busybox", "other:tag");

    const full = await cli("images", "--digests");
    expect(full.out).toContain(img.manifestDigest);

    const quiet = await cli("images", "-q");
    expect(quiet.out).toBe(`${img.configDigest.slice(7, 19)}\n`.repeat(2));
    const quietFull = await cli("images", "-q", "--digests");
    expect(quietFull.out).toBe(`${img.configDigest}\n`.repeat(2));

    const json = await cli("images", "--format", "json");
    const rows = json.out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ Repository: "busybox", Tag: "latest", Digest: img.manifestDigest, ID: img.configDigest, CreatedAt: "2024-01-01T00:00:00.000Z" });
    expect(rows[0]!["Size"]).toMatch(/MB$/);
    expect(rows[0]!["CreatedSince"]).toMatch(/ago$/);
    expect(rows[1]).toMatchObject({ Repository: "other", Tag: "tag" });

    const filtered = await cli("images", "--format", "json", "other");
    expect(filtered.out.trimEnd().split("\n")).toHaveLength(1);

    const bad = await cli("images", "--format", "{{.ID}}");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unsupported --format "{{.ID}}"');
  });

  it("shows <none> for a name without a tag, and an empty store as a header only", async () => {
    const { store, cli } = await setup();
    expect((await cli("images")).out).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+SIZE\s+CREATED\n$/);
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    await store.images.untag("busybox:latest");
    await store.images.putImage({ ...img.record, name: (await import("../../../src/registry/reference.js")).parseReference(`busybox@${img.manifestDigest}`) });
    const r = await cli("images");
    expect(r.out.split("\n")[1]!.split(/\s{3,}/).slice(0, 2)).toEqual(["busybox", "<none>"]);
  });

  it("uses TSBUILD_ROOT when there is no --root", async () => {
    const { store, cwd } = await setup();
    await storeBusyboxImage(store, { name: "busybox:env" });
    const r = await runCli(["images", "-q"], { cwd, env: { TSBUILD_ROOT: store.root } });
    expect(r.out.trim()).toMatch(/^[a-f0-9]{12}$/);
  });
});

describe("tsbuild tag", () => {
  it("tags by name, digest and ID prefix, normalising the target as Docker does", async () => {
    const { store, cli } = await setup();
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    expect(await cli("tag", "busybox", "app")).toEqual({ code: 0, out: "", err: "" });
    expect(await cli("tag", img.manifestDigest, "registry.example.com:5000/team/app:v2")).toMatchObject({ code: 0 });
    expect(await cli("tag", img.configDigest.slice(7, 15), "docker.io/library/app:v3")).toMatchObject({ code: 0 });
    const names = (await store.images.listImages()).map((r) => r.name.toString());
    expect(names).toEqual([
      "docker.io/library/app:latest",
      "docker.io/library/app:v3",
      "docker.io/library/busybox:latest",
      "registry.example.com:5000/team/app:v2",
    ]);
    for (const r of await store.images.listImages()) expect(r.manifestDigest).toBe(img.manifestDigest);
  });

  it("reports unknown sources and invalid targets without a stack trace", async () => {
    const { store, cli } = await setup();
    await storeBusyboxImage(store);
    const missing = await cli("tag", "foo", "bar");
    expect(missing).toMatchObject({ code: 1, out: "" });
    expect(missing.err).toMatch(/^error: No such image: foo:latest\n/);
    expectNoStack(missing.err);

    const upper = await cli("tag", "busybox", "Bad/Name");
    expect(upper.code).toBe(1);
    expect(upper.err).toContain("invalid reference");
    expectNoStack(upper.err);

    const digest = await cli("tag", "busybox", `app@sha256:${"a".repeat(64)}`);
    expect(digest.code).toBe(1);
    expect(digest.err).toContain("refusing to create a tag with a digest reference");

    const usage = await cli("tag", "busybox");
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("usage: tsbuild tag");
  });
});

describe("tsbuild rmi", () => {
  it("untags a name and prints Untagged lines like Docker", async () => {
    const { store, cli } = await setup();
    await storeBusyboxImage(store, { name: "busybox:latest" });
    await cli("tag", "busybox", "busybox:other");
    const r = await cli("rmi", "busybox");
    expect(r).toEqual({ code: 0, out: "Untagged: busybox:latest\n", err: "" });
    expect((await store.images.listImages()).map((x) => x.name.familiar())).toEqual(["busybox:other"]);
  });

  it("removing the last tag of a repository also removes its digest names of that image", async () => {
    const { store, cli } = await setup();
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    await cli("tag", "busybox", "other:latest");
    const { parseReference } = await import("../../../src/registry/reference.js");
    await store.images.putImage({ ...img.record, name: parseReference(`busybox@${img.manifestDigest}`) });
    const r = await cli("rmi", "busybox:latest");
    expect(r.out).toBe(`Untagged: busybox:latest\nUntagged: busybox@${img.manifestDigest}\n`);
    expect((await store.images.listImages()).map((x) => x.name.familiar())).toEqual(["other:latest"]);
  });

  it("by ID: removes all names in one repository, refuses several repositories without -f", async () => {
    const { store, cli } = await setup();
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    const id = img.configDigest.slice(7, 19);
    await cli("tag", "busybox", "other:latest");
    const refused = await cli("rmi", id);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`);
    expectNoStack(refused.err);
    expect(await store.images.listImages()).toHaveLength(2);

    const forced = await cli("rmi", "-f", id);
    expect(forced).toEqual({ code: 0, out: "Untagged: busybox:latest\nUntagged: other:latest\n", err: "" });
    expect(await store.images.listImages()).toHaveLength(0);

    await storeBusyboxImage(store, { name: "busybox:latest" });
    const single = await cli("rmi", `sha256:${id}`);
    expect(single).toEqual({ code: 0, out: "Untagged: busybox:latest\n", err: "" });
  });

  it("goes on after an unknown image, exits 1, and with -f only reports it", async () => {
    const { store, cli } = await setup();
    await storeBusyboxImage(store, { name: "busybox:a" });
    await storeBusyboxImage(store, { name: "busybox:b" });
    const r = await cli("rmi", "foo", "busybox:a");
    expect(r.code).toBe(1);
    expect(r.out).toBe("Untagged: busybox:a\n");
    expect(r.err).toMatch(/^error: No such image: foo:latest\n/);
    expectNoStack(r.err);

    const forced = await cli("rmi", "-f", "foo", "busybox:b");
    expect(forced.code).toBe(0);
    expect(forced.out).toBe("Untagged: busybox:b\n");
    expect(forced.err).toContain("No such image: foo:latest");

    const digestQuery = await cli("rmi", `sha256:${"0".repeat(64)}`);
    expect(digestQuery.code).toBe(1);
    expect(digestQuery.err).toContain(`No such image: sha256:${"0".repeat(64)}`);
  });
});

describe("tsbuild inspect", () => {
  it("prints manifest, config, digest and name as indented JSON", async () => {
    const { store, cli } = await setup();
    const img = await storeBusyboxImage(store, { name: "busybox:latest" });
    for (const query of ["busybox", img.configDigest.slice(7, 20), img.manifestDigest]) {
      const r = await cli("inspect", query);
      expect(r.code).toBe(0);
      expect(r.out.startsWith('{\n  "manifest": {\n')).toBe(true);
      const parsed = JSON.parse(r.out) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(["manifest", "config", "digest", "name"]);
      expect(parsed).toEqual({
        manifest: JSON.parse(img.image.manifestBlob.bytes.toString()),
        config: JSON.parse(img.image.configBlob.bytes.toString()),
        digest: img.manifestDigest,
        name: "busybox:latest",
      });
    }
  });

  it("reports unknown images as Docker does", async () => {
    const { cli } = await setup();
    const r = await cli("inspect", "foo");
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(r.err).toMatch(/^error: No such image: foo:latest\n/);
    expectNoStack(r.err);
    const id = await cli("inspect", "sha256:abcdef");
    expect(id.err).toMatch(/^error: No such image: sha256:abcdef\n/);
  });
});
