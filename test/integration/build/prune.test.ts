import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { takeExclusiveLease } from "../../../src/store/lease.js";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { collect, makeContext, runTsbuild, spawnTsbuild, stepsBy, TSBUILD_BIN } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

function freshRoot(): string {
  return mkdtempSync(join(tmpdir(), "tsb-prune-"));
}

function build(ctx: string, root: string, extra: string[] = []) {
  return runTsbuild(["build", "--progress=rawjson", ...extra, "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
}

function tsb(args: string[], root: string, cwd: string) {
  return runTsbuild(args, { cwd, env: { TSBUILD_ROOT: root } });
}

/** The layer digests of a stored image, from `tsbuild inspect`. */
async function layerDigests(name: string, root: string, cwd: string): Promise<string[]> {
  const r = await tsb(["inspect", name], root, cwd);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).manifest.layers as { digest: string }[]).map((l) => l.digest);
}

const blobExists = (root: string, digest: string): boolean => existsSync(join(root, "blobs", "sha256", digest.replace(/^sha256:/, "")));

describe("tsbuild prune", () => {
  test("keeps what stored images use and removes the rest: the kept image rebuilds from cache, the removed one reruns", async () => {
    const root = freshRoot();
    const keep = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo kept > /kept\nCOPY a.txt /a.txt\n`, "a.txt": "a\n" });
    const drop = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo dropped > /dropped\n` });
    expect((await build(keep, root, ["-t", "keep:1"])).code).toBe(0);
    expect((await build(drop, root, ["-t", "drop:1"])).code).toBe(0);
    const dropLayer = (await layerDigests("drop:1", root, drop)).at(-1)!;
    const keepLayers = await layerDigests("keep:1", root, keep);
    expect((await tsb(["rmi", "drop:1"], root, drop)).code).toBe(0);

    const pruned = await tsb(["prune", "-f"], root, drop);
    expect(pruned.code, pruned.stderr).toBe(0);
    // One record (drop's RUN) is listed; its layer blob and extracted layer go; the kept image's blobs stay.
    expect(pruned.stdout).toMatch(/^Deleted build cache objects:\n[0-9a-f]{12}\n\n/);
    expect(pruned.stdout).toMatch(/Total reclaimed space: [1-9][0-9.]*k?B\n$/);
    expect(blobExists(root, dropLayer)).toBe(false);
    for (const d of keepLayers) expect(blobExists(root, d)).toBe(true);

    const again = await build(keep, root, ["-t", "keep:1"]);
    expect(stepsBy(again.events).ran).toEqual([]);
    const rerun = await build(drop, root, ["-t", "drop:1"]);
    expect(stepsBy(rerun.events).ran).toEqual([expect.stringContaining("RUN echo dropped")]);

    // Nothing left to remove: a second prune frees nothing.
    expect((await tsb(["prune", "-f"], root, drop)).stdout).toBe("Total reclaimed space: 0B\n");
  });

  test("-a removes every record and extracted layer, keeps stored images, and honours --filter until", async () => {
    const root = freshRoot();
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo one > /one\n` });
    expect((await build(ctx, root, ["-t", "all:1"])).code).toBe(0);
    // Everything was written just now: with until=1h nothing is old enough.
    const young = await tsb(["prune", "-a", "-f", "--filter", "until=1h"], root, ctx);
    expect(young.stdout).toBe("Total reclaimed space: 0B\n");
    expect(stepsBy((await build(ctx, root, ["-t", "all:1"])).events).ran).toEqual([]);

    const all = await tsb(["prune", "--all", "--force"], root, ctx);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain("Deleted build cache objects:");
    expect(readdirSync(join(root, "snapshots"))).toEqual([]);
    expect(readdirSync(join(root, "cache", "keys"))).toEqual([]);
    // The image is still stored, whole.
    const layers = await layerDigests("all:1", root, ctx);
    for (const d of layers) expect(blobExists(root, d)).toBe(true);
    // And the next build runs again (extracting the base anew) and succeeds.
    const rebuilt = await build(ctx, root, ["-t", "all:1"]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(stepsBy(rebuilt.events).ran).toEqual([expect.stringContaining("RUN echo one")]);
  });

  test("asks first: anything but y on standard input removes nothing", async () => {
    const root = freshRoot();
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo x > /x\n` });
    expect((await build(ctx, root)).code).toBe(0);
    const answer = async (text: string) => {
      const child = spawn(TSBUILD_BIN, ["prune", "-a"], { cwd: ctx, env: { ...process.env, TSBUILD_ROOT: root }, stdio: ["pipe", "pipe", "pipe"] });
      child.stdin.end(text);
      return collect(child);
    };
    const no = await answer("n\n");
    expect(no.code).toBe(1);
    expect(no.stdout).toContain("WARNING! This will remove all build cache. Are you sure you want to continue? [y/N]");
    expect(no.stderr).toContain("prune cancelled");
    expect(readdirSync(join(root, "cache", "keys"))).not.toEqual([]);
    const yes = await answer("y\n");
    expect(yes.code, yes.stderr).toBe(0);
    expect(readdirSync(join(root, "cache", "keys"))).toEqual([]);
  });

  test("refuses while a build uses the store, and a build waits while a prune holds it", async () => {
    const root = freshRoot();
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo started && sleep 2\n` });
    const child = spawnTsbuild(["build", "--progress=rawjson", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    let busy: Awaited<ReturnType<typeof tsb>> | undefined;
    const running = collect(child, (e) => {
      if (e.type === "step-log" && e.text.includes("started") && busy === undefined) {
        void tsb(["prune", "-f"], root, ctx).then((r) => (busy = r));
      }
    });
    expect((await running).code).toBe(0);
    await expect.poll(() => busy).toBeDefined();
    expect(busy!.code).toBe(1);
    expect(busy!.stderr).toContain(`the store is in use by process ${child.pid}`);

    // Now the other way round: this process holds the prune's lease; a build must not start a step until it is released.
    const lease = await takeExclusiveLease(join(root, "leases"));
    const waiting = spawnTsbuild(["build", "--progress=rawjson", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    const events: string[] = [];
    const done = collect(waiting, (e) => events.push(e.type));
    await new Promise((r) => setTimeout(r, 1500));
    expect(waiting.exitCode).toBeNull();
    expect(events).toEqual([]);
    await lease.release();
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsBy(r.events).cached).toHaveLength(1);
  }, 60_000);
});
