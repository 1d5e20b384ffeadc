import { describe, expect, it } from "vitest";
import { defaultStoreRoot, resolveStoreRoot } from "../../../src/store/root.js";

describe("store root", () => {
  it("uses $XDG_DATA_HOME/tsbuild", () => {
    expect(defaultStoreRoot({ XDG_DATA_HOME: "/data", HOME: "/home/u" })).toBe("/data/tsbuild");
  });
  it("falls back to ~/.local/share/tsbuild, also for an empty or relative XDG_DATA_HOME", () => {
    expect(defaultStoreRoot({ HOME: "/home/u" })).toBe("/home/u/.local/share/tsbuild");
    expect(defaultStoreRoot({ XDG_DATA_HOME: "", HOME: "/home/u" })).toBe("/home/u/.local/share/tsbuild");
    expect(defaultStoreRoot({ XDG_DATA_HOME: "rel/dir", HOME: "/home/u" })).toBe("/home/u/.local/share/tsbuild");
  });
  it("prefers --root, then TSBUILD_ROOT", () => {
    const env = { TSBUILD_ROOT: "/env/root", XDG_DATA_HOME: "/data" };
    expect(resolveStoreRoot({ root: "/flag/root", env })).toBe("/flag/root");
    expect(resolveStoreRoot({ env })).toBe("/env/root");
    expect(resolveStoreRoot({ env: { XDG_DATA_HOME: "/data" } })).toBe("/data/tsbuild");
    expect(resolveStoreRoot({ root: "rel", env })).toBe(`${process.cwd()}/rel`);
  });
});
