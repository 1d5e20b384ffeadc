import { execFileSync } from "node:child_process";
import { appendFile, chmod, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile, lstat, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAttributeSync } from "@napi-rs/xattr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { writeLayer } from "../../../src/oci/layer/writer.js";
import { diffUpperDir } from "../../../src/snapshot/diff.js";
import { extractLayer } from "../../../src/snapshot/extract.js";
import { mountOverlay, planOverlayMount, unmount } from "../../../src/snapshot/overlay.js";
import { describeTree } from "../../unit/snapshot/helpers.js";

// Real overlayfs mounts (root only; /tmp must not itself be an overlay).
let base: string;
const mounted: string[] = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "tsbuild-ovl-"));
});
afterEach(async () => {
  for (const m of mounted.splice(0).reverse()) await unmount(m).catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

async function dirs(...names: string[]): Promise<string[]> {
  const out = names.map((n) => join(base, n));
  for (const d of out) await mkdir(d, { recursive: true });
  return out;
}

const run = (cmd: string, cwd: string): string => execFileSync("sh", ["-c", cmd], { cwd }).toString();

describe("overlay snapshot round trip", () => {
  it("diffs a RUN's upper dir into a layer that recreates the same merged view", async () => {
    // 1. A base layer, written by us and extracted as a lowerdir.
    const [src, lower] = await dirs("src", "lower");
    await mkdir(join(src!, "etc/replace-me/sub"), { recursive: true });
    await mkdir(join(src!, "bin"));
    await mkdir(join(src!, "data/moved"), { recursive: true });
    await writeFile(join(src!, "etc/keep"), "keep");
    await writeFile(join(src!, "etc/delete-me"), "bye");
    await writeFile(join(src!, "etc/replace-me/old"), "old");
    await writeFile(join(src!, "etc/replace-me/sub/deep"), "deep");
    await writeFile(join(src!, "bin/tool"), "tool");
    await chmod(join(src!, "bin/tool"), 0o755);
    await writeFile(join(src!, "data/file"), "v1\n");
    await writeFile(join(src!, "data/moved/inner"), "inner");
    await symlink("../etc/keep", join(src!, "bin/keep-link"));
    const layer1 = await writeLayer({ dir: src! }, join(base, "layer1.tgz"));
    await extractLayer(join(base, "layer1.tgz"), lower!, { expectedDiffId: layer1.diffId });

    // 2. A "RUN" in a read-write overlay on top of it.
    const [upper, work, merged] = await dirs("upper", "work", "merged");
    await mountOverlay({ lowerdirs: [lower!], upperdir: upper!, workdir: work!, target: merged! });
    mounted.push(merged!);
    await writeFile(join(merged!, "etc/new"), "new file");
    await appendFile(join(merged!, "data/file"), "v2\n");
    await rm(join(merged!, "etc/delete-me"));
    await rm(join(merged!, "etc/replace-me"), { recursive: true });
    await mkdir(join(merged!, "etc/replace-me"));
    await writeFile(join(merged!, "etc/replace-me/fresh"), "fresh");
    await chmod(join(merged!, "bin/tool"), 0o4755); // metacopy=off: a full copy-up
    await writeFile(join(merged!, "bin/hl1"), "linked");
    await link(join(merged!, "bin/hl1"), join(merged!, "bin/hl2"));
    execFileSync("setcap", ["cap_net_raw+ep", join(merged!, "bin/hl1")]);
    // redirect_dir=off: renaming a lower directory falls back to copy + delete.
    run("mv data/moved data/renamed", merged!);
    const view1 = await describeTree(merged!, { mtimes: true });
    await unmount(merged!);
    mounted.pop();

    // 3. Diff the upper dir and write the layer.
    const entries = await diffUpperDir(upper!);
    const byPath = new Map(entries.map((e) => [`${e.type}:${e.path}`, e]));
    expect(byPath.has("whiteout:etc/delete-me")).toBe(true);
    expect(byPath.has("opaque:etc/replace-me")).toBe(true);
    expect(byPath.has("directory:etc/replace-me")).toBe(true);
    expect(byPath.has("whiteout:data/moved")).toBe(true);
    expect(byPath.get("hardlink:bin/hl2")?.linkTarget).toBe("bin/hl1");
    expect(byPath.get("file:bin/hl1")?.xattrs?.has("security.capability")).toBe(true);
    for (const e of entries) for (const name of e.xattrs?.keys() ?? []) expect(name).not.toMatch(/^trusted\.overlay\./);
    const layer2 = await writeLayer({ entries }, join(base, "layer2.tgz"));
    const listing = run(`tar --numeric-owner -tvzf layer2.tgz`, base);
    expect(listing).toMatch(/ etc\/\.wh\.delete-me\n/);
    expect(listing).toMatch(/ etc\/replace-me\/\.wh\.\.wh\.\.opq\n/);
    expect(listing).toMatch(/^hrw-r--r-- 0\/0 .* bin\/hl2 link to bin\/hl1$/m);
    expect(listing).not.toMatch(/etc\/keep/); // unchanged files stay in the lower layer

    // 4. Extract it into a fresh dir and stack it on the same lower, read-only.
    const [lower2, merged2] = await dirs("lower2", "merged2");
    await extractLayer(join(base, "layer2.tgz"), lower2!, { expectedDiffId: layer2.diffId, expectedDigest: layer2.digest });
    expect((await lstat(join(lower2!, "etc/delete-me"))).isCharacterDevice()).toBe(true);
    expect(getAttributeSync(join(lower2!, "etc/replace-me"), "trusted.overlay.opaque")?.toString()).toBe("y");
    await mountOverlay({ lowerdirs: [lower2!, lower!], target: merged2! });
    mounted.push(merged2!);
    const view2 = await describeTree(merged2!, { mtimes: true });
    expect(view2).toEqual(view1);
    expect(view2["etc/delete-me"]).toBeUndefined();
    expect(Object.keys(view2).filter((k) => k.startsWith("etc/replace-me/"))).toEqual(["etc/replace-me/fresh"]);
    expect(await readFile(join(merged2!, "data/file"), "utf8")).toBe("v1\nv2\n");
    expect(() => execFileSync("touch", [join(merged2!, "x")], { stdio: "ignore" })).toThrow();
  });

  it("mounts a single lower read-only over an empty bottom dir, hiding its whiteouts", async () => {
    const [lower, target] = await dirs("single/lower", "mnt/target");
    await writeFile(join(lower!, "file"), "f");
    execFileSync("mknod", [join(lower!, "gone"), "c", "0", "0"]);
    await mountOverlay({ lowerdirs: [lower!], target: target! });
    mounted.push(target!);
    expect((await readdir(target!)).sort()).toEqual(["file"]);
    expect((await readdir(join(base, "mnt/.tsbuild-empty")))).toEqual([]);
  });

  it("mounts more lower layers than absolute paths allow, using relative paths", async () => {
    const root = join(base, "var/lib/tsbuild/snapshots");
    const lowers: string[] = [];
    for (let i = 0; i < 50; i++) {
      const d = join(root, i.toString(16).padStart(64, "0"), "fs");
      await mkdir(d, { recursive: true });
      await writeFile(join(d, `layer-${i}`), String(i));
      lowers.unshift(d); // top first
    }
    expect(lowers.join(":").length).toBeGreaterThan(4096);
    const [upper, work, target] = await dirs("var/lib/tsbuild/snapshots/up/fs", "var/lib/tsbuild/snapshots/up/work", "m");
    const plan = planOverlayMount({ lowerdirs: lowers, upperdir: upper!, workdir: work! });
    expect(plan.cwd).toBe(root);
    expect(plan.options.length).toBeLessThanOrEqual(4095);
    await mountOverlay({ lowerdirs: lowers, upperdir: upper!, workdir: work!, target: target! });
    mounted.push(target!);
    expect((await readdir(target!)).length).toBe(50);
    expect(await readFile(join(target!, "layer-0"), "utf8")).toBe("0");
  });

  it("fails clearly when even relative paths exceed the kernel's option limit", () => {
    const lowers = Array.from({ length: 100 }, (_, i) => `/s/${i.toString(16).padStart(64, "0")}/fs`);
    expect(() => planOverlayMount({ lowerdirs: lowers })).toThrow(BuildError);
    expect(() => planOverlayMount({ lowerdirs: lowers })).toThrow(/4095-byte limit/);
    expect(() => planOverlayMount({ lowerdirs: Array.from({ length: 501 }, (_, i) => `/l/${i}`) })).toThrow(/at most 500/);
  });
});
