import { describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { OVERLAY_OPTIONS, planOverlayMount } from "../../../src/snapshot/overlay.js";

describe("planOverlayMount", () => {
  it("uses paths relative to the deepest common directory, top layer first", () => {
    const plan = planOverlayMount({
      lowerdirs: ["/var/lib/t/snap/3/fs", "/var/lib/t/snap/2/fs", "/var/lib/t/snap/1/fs"],
      upperdir: "/var/lib/t/snap/4/fs",
      workdir: "/var/lib/t/snap/4/work",
    });
    expect(plan).toEqual({
      cwd: "/var/lib/t/snap",
      options: "lowerdir=3/fs:2/fs:1/fs,upperdir=4/fs,workdir=4/work,volatile,index=off,redirect_dir=off,metacopy=off",
    });
  });

  it("always disables index, redirect_dir and metacopy", () => {
    expect(OVERLAY_OPTIONS).toEqual(["index=off", "redirect_dir=off", "metacopy=off"]);
    expect(planOverlayMount({ lowerdirs: ["/a/x", "/b/y"] })).toEqual({
      cwd: "/",
      options: "lowerdir=a/x:b/y,index=off,redirect_dir=off,metacopy=off",
    });
  });

  it("refuses paths it cannot express and half-specified upper layers", () => {
    const bad = [
      { lowerdirs: [] },
      { lowerdirs: ["relative/dir"] },
      { lowerdirs: ["/with:colon"] },
      { lowerdirs: ["/with,comma"] },
      { lowerdirs: ["/l"], upperdir: "/u" },
      { lowerdirs: ["/l/a", "/l/b", "/l/a/"] },
    ];
    for (const options of bad) expect(() => planOverlayMount(options)).toThrow(BuildError);
  });
});
