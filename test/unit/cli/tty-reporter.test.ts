import { describe, expect, it } from "vitest";
import { canDrawLive } from "../../../src/cli/progress/tty-reporter.js";

describe("canDrawLive", () => {
  it("draws only on a terminal that has a width", () => {
    expect(canDrawLive({ isTTY: true, columns: 100 })).toBe(true);
    // An unsized pseudo-terminal: ora would erase lines forever (it divides by the width).
    expect(canDrawLive({ isTTY: true, columns: 0 })).toBe(false);
    expect(canDrawLive({ isTTY: true })).toBe(false);
    expect(canDrawLive({ isTTY: false, columns: 100 })).toBe(false);
  });
});
