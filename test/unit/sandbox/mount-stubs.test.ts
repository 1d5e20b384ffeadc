import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordMountStubs } from "../../../src/sandbox/mount-stubs.js";

describe("recordMountStubs", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tsbuild-stubs-"));
    await mkdir(join(root, "etc"));
    await mkdir(join(root, "tmp"));
    await writeFile(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** What the runtime does: create an empty file or directory at each missing destination. */
  async function createStubs(files: string[], dirs: string[]): Promise<void> {
    for (const d of dirs) await mkdir(join(root, d), { recursive: true });
    for (const f of files) {
      await mkdir(join(root, f, ".."), { recursive: true });
      await writeFile(join(root, f), "");
    }
  }

  it("records missing destinations and their missing parents, deepest first", async () => {
    const stubs = await recordMountStubs({
      rootfs: root,
      destinations: ["/proc", "/etc/hosts", "/etc/passwd", "/run/secrets/token", "/tmp"],
    });
    expect(stubs.paths).toEqual([
      join(root, "run/secrets/token"),
      join(root, "etc/hosts"),
      join(root, "run/secrets"),
      join(root, "proc"),
      join(root, "run"),
    ]);
  });

  it("removes empty stubs and restores the parent's timestamps", async () => {
    const old = new Date("2020-01-02T03:04:05.678Z");
    await utimes(join(root, "etc"), old, old);
    await utimes(root, old, old);
    const stubs = await recordMountStubs({ rootfs: root, destinations: ["/proc", "/etc/hosts", "/run/s/t"] });
    await createStubs(["etc/hosts", "run/s/t"], ["proc"]);
    await stubs.cleanup();
    expect((await readdir(root)).sort()).toEqual(["etc", "tmp"]);
    expect(await readdir(join(root, "etc"))).toEqual(["passwd"]);
    expect((await stat(join(root, "etc"))).mtime).toEqual(old);
    expect((await stat(root)).mtime).toEqual(old);
  });

  it("keeps stubs the step filled, and never touches what existed before", async () => {
    const stubs = await recordMountStubs({ rootfs: root, destinations: ["/data", "/etc/hosts", "/etc/passwd"] });
    await createStubs(["etc/hosts"], ["data"]);
    await writeFile(join(root, "data/file"), "written by the step");
    await writeFile(join(root, "etc/hosts"), "not empty");
    await stubs.cleanup();
    expect((await readdir(root)).sort()).toEqual(["data", "etc", "tmp"]);
    expect((await readdir(join(root, "etc"))).sort()).toEqual(["hosts", "passwd"]);
  });
});
