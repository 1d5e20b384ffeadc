import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirInRoot, readFileInRoot, resolveInRoot } from "../../../src/sandbox/root-path.js";

describe("resolveInRoot", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tsbuild-rootpath-"));
    await mkdir(join(root, "usr/lib"), { recursive: true });
    await writeFile(join(root, "usr/lib/os-release"), "ID=test\n");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("resolves plain, missing and dotted paths under the root", async () => {
    expect(await resolveInRoot(root, "/usr/lib/os-release")).toBe(join(root, "usr/lib/os-release"));
    expect(await resolveInRoot(root, "usr/./lib//os-release")).toBe(join(root, "usr/lib/os-release"));
    expect(await resolveInRoot(root, "/missing/dir/file")).toBe(join(root, "missing/dir/file"));
    expect(await resolveInRoot(root, "/")).toBe(root);
  });

  it("clamps .. at the root", async () => {
    expect(await resolveInRoot(root, "/../../../etc/passwd")).toBe(join(root, "etc/passwd"));
    expect(await resolveInRoot(root, "/usr/../../../usr/lib")).toBe(join(root, "usr/lib"));
  });

  it("follows absolute symlinks from the root and relative ones from their directory", async () => {
    await mkdir(join(root, "etc"));
    await symlink("/usr/lib/os-release", join(root, "etc/os-release"));
    await symlink("../usr/lib/os-release", join(root, "etc/rel"));
    await symlink("../../../../../../../../usr/lib", join(root, "etc/climb"));
    expect(await resolveInRoot(root, "/etc/os-release")).toBe(join(root, "usr/lib/os-release"));
    expect(await resolveInRoot(root, "/etc/rel")).toBe(join(root, "usr/lib/os-release"));
    expect(await resolveInRoot(root, "/etc/climb/os-release")).toBe(join(root, "usr/lib/os-release"));
  });

  it("resolves .. after a symlinked directory as the kernel does (from the target)", async () => {
    await mkdir(join(root, "a/b"), { recursive: true });
    await symlink("/a/b", join(root, "link"));
    expect(await resolveInRoot(root, "/link/../x")).toBe(join(root, "a/x"));
  });

  it("fails with ELOOP on symlink loops", async () => {
    await symlink("/loop2", join(root, "loop1"));
    await symlink("/loop1", join(root, "loop2"));
    await expect(resolveInRoot(root, "/loop1/x")).rejects.toMatchObject({ code: "ELOOP" });
  });
});

describe("readFileInRoot and mkdirInRoot", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "tsbuild-rootread-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reads regular files only, within a size limit", async () => {
    await writeFile(join(root, "f"), "content");
    await mkdir(join(root, "d"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    await symlink("/f", join(root, "link"));
    expect((await readFileInRoot(root, "/f"))?.toString()).toBe("content");
    expect((await readFileInRoot(root, "/link"))?.toString()).toBe("content");
    expect(await readFileInRoot(root, "/d")).toBeUndefined();
    expect(await readFileInRoot(root, "/fifo")).toBeUndefined();
    expect(await readFileInRoot(root, "/missing")).toBeUndefined();
    expect(await readFileInRoot(root, "/f", { maxBytes: 3 })).toBeUndefined();
  });

  it("creates a working directory through in-root symlinks, never outside", async () => {
    const outside = await mkdtemp(join(tmpdir(), "tsbuild-outside-"));
    try {
      await symlink(`../../../../../../..${outside}`, join(root, "escape"));
      const created = await mkdirInRoot(root, "/escape/work/dir");
      expect(created).toBe(join(root, outside, "work/dir"));
      expect(execFileSync("ls", ["-A", outside], { encoding: "utf8" })).toBe("");
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
