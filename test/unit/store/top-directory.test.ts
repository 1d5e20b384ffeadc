import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/store.js";
import { markTopDirectory } from "../../../src/store/top-directory.js";
import { tempRoot } from "./helpers.js";

/** The flag letters `lsattr -d` prints for `dir`. */
function flagsOf(dir: string): string {
  return execFileSync("lsattr", ["-d", dir], { encoding: "utf8" }).split(" ")[0] ?? "";
}

/** Whether the test root's filesystem takes ext4's top-directory flag (ext4 does; tmpfs does not). */
async function topDirSupported(): Promise<boolean> {
  const probe = join(await tempRoot(), "probe");
  await mkdir(probe);
  try {
    execFileSync("chattr", ["+T", probe], { stdio: "ignore" });
    return flagsOf(probe).includes("T");
  } catch {
    return false;
  }
}

describe("top-directory mark of the store's tmp/", () => {
  it("a new store's tmp/ is marked, so step directories are spread by the Orlov allocator", async (ctx) => {
    if (!(await topDirSupported())) ctx.skip("the test directory's filesystem has no top-directory flag");
    const root = await tempRoot();
    const store = await openStore({ root });
    // openStore does not wait for chattr (a placement hint): poll for the flag.
    const deadline = Date.now() + 5000;
    while (!flagsOf(store.layout.tmpDir).includes("T") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(flagsOf(store.layout.tmpDir)).toContain("T");
    // Other directories keep the default placement.
    expect(flagsOf(root)).not.toContain("T");
  });

  it("never rejects: a missing directory just reports false", async () => {
    const missing = join(await tempRoot(), "no", "such", "dir");
    expect(await markTopDirectory(missing)).toBe(false);
  });
});
