import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { holdSharedLease, takeExclusiveLease } from "../../../src/store/lease.js";

function leasesDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "tsb-lease-")), "leases");
  mkdirSync(dir);
  return dir;
}

/** Field 22 of /proc/PID/stat: the process's start time. */
function startOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

describe("store leases", () => {
  test("an exclusive lease is refused while another live process holds a shared one, and names it", async () => {
    const dir = leasesDir();
    const other = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(dir, `shared-${other.pid}-${startOf(other.pid!)}`), "");
      const err = await takeExclusiveLease(dir).catch((e: unknown) => e);
      expect(isBuildError(err, "STORE_BUSY")).toBe(true);
      expect((err as Error).message).toBe(`the store is in use by process ${other.pid}`);
      // The refused attempt leaves no exclusive file behind.
      expect(readdirSync(dir).filter((n) => n.startsWith("exclusive-"))).toEqual([]);
    } finally {
      other.kill();
    }
  });

  test("files of dead processes, and of a pid reused by a later process, are ignored and removed", async () => {
    const dir = leasesDir();
    const dead = spawnSync("true").pid!;
    writeFileSync(join(dir, `shared-${dead}-1`), "");
    const live = spawn("sleep", ["30"]);
    try {
      // Same pid, another start time: the process that wrote it is gone.
      writeFileSync(join(dir, `shared-${live.pid}-1`), "");
      const lease = await takeExclusiveLease(dir);
      expect(readdirSync(dir).sort()).toEqual([`exclusive-${process.pid}-${startOf(process.pid)}`]);
      await lease.release();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      live.kill();
    }
  });

  test("this process's own shared lease does not block its exclusive one; a shared lease is taken once per store", async () => {
    const dir = leasesDir();
    await holdSharedLease(dir);
    await holdSharedLease(dir);
    const mine = `shared-${process.pid}-${startOf(process.pid)}`;
    expect(readdirSync(dir)).toEqual([mine]);
    const lease = await takeExclusiveLease(dir);
    await lease.release();
    expect(existsSync(join(dir, mine))).toBe(true);
  });

  test("a shared lease waits while another live process holds the exclusive one", async () => {
    const dir = leasesDir();
    const pruner = spawn("sleep", ["30"]);
    const file = join(dir, `exclusive-${pruner.pid}-${startOf(pruner.pid!)}`);
    writeFileSync(file, "");
    let held = false;
    const waiting = holdSharedLease(dir).then(() => (held = true));
    await new Promise((r) => setTimeout(r, 350));
    expect(held).toBe(false);
    // While waiting it keeps no file of its own (a prune would otherwise refuse because of it).
    expect(readdirSync(dir)).toEqual([`exclusive-${pruner.pid}-${startOf(pruner.pid!)}`]);
    pruner.kill();
    await waiting;
    expect(held).toBe(true);
  });
});
