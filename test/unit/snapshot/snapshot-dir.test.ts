import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import { Snapshotter } from "../../../src/snapshot/snapshotter.js";
import { FsContentStore } from "../../../src/store/fs-content-store.js";

describe("Snapshotter.snapshotDir", () => {
  test("names a snapshot by a well-formed diffID only: anything else (a crafted config's) is refused", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-snapdir-"));
    const snapshotter = new Snapshotter(root, await FsContentStore.open(root));
    const hex = "a".repeat(64);
    expect(snapshotter.snapshotDir(`sha256:${hex}`)).toBe(join(root, "snapshots", hex));
    for (const bad of ["sha256:../../../../root", `sha256:${hex}/..`, hex, "sha256:", `sha512:${hex}`]) {
      let err: unknown;
      try {
        snapshotter.snapshotDir(bad);
      } catch (e) {
        err = e;
      }
      expect(isBuildError(err, "MANIFEST_INVALID"), bad).toBe(true);
    }
  });
});
