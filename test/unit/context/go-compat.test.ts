/** Go standard library ports; the Clean cases are Go's path/filepath cleantests. */
import { describe, expect, it } from "vitest";
import { goClean, goDir, goTrimSpace } from "../../../src/context/go-compat.js";

const CLEAN: [string, string][] = [
  // Already clean
  ["abc", "abc"],
  ["abc/def", "abc/def"],
  ["a/b/c", "a/b/c"],
  [".", "."],
  ["..", ".."],
  ["../..", "../.."],
  ["../../abc", "../../abc"],
  ["/abc", "/abc"],
  ["/", "/"],
  // Empty is current dir
  ["", "."],
  // Remove trailing slash
  ["abc/", "abc"],
  ["abc/def/", "abc/def"],
  ["a/b/c/", "a/b/c"],
  ["./", "."],
  ["../", ".."],
  ["../../", "../.."],
  ["/abc/", "/abc"],
  // Remove doubled slash
  ["abc//def//ghi", "abc/def/ghi"],
  ["abc//", "abc"],
  // Remove . elements
  ["abc/./def", "abc/def"],
  ["/./abc/def", "/abc/def"],
  ["abc/.", "abc"],
  // Remove .. elements
  ["abc/def/ghi/../jkl", "abc/def/jkl"],
  ["abc/def/../ghi/../jkl", "abc/jkl"],
  ["abc/def/..", "abc"],
  ["abc/def/../..", "."],
  ["/abc/def/../..", "/"],
  ["abc/def/../../..", ".."],
  ["/abc/def/../../..", "/"],
  ["abc/def/../../../ghi/jkl/../../../mno", "../../mno"],
  ["/../abc", "/abc"],
  ["a/../b:/../../c", "../c"],
  // Combinations
  ["abc/./../def", "def"],
  ["abc//./../def", "def"],
  ["abc/../../././../def", "../../def"],
];

describe("goClean (filepath.Clean)", () => {
  it.each(CLEAN)("%j → %j", (input, want) => {
    expect(goClean(input)).toBe(want);
    expect(goClean(want)).toBe(want);
  });
});

describe("goDir (filepath.Dir)", () => {
  it.each([
    ["", "."],
    [".", "."],
    ["/.", "/"],
    ["/", "/"],
    ["////", "/"],
    ["/foo", "/"],
    ["x/", "x"],
    ["abc", "."],
    ["abc/def", "abc"],
    ["a/b/.x", "a/b"],
    ["a/b/c.", "a/b"],
    ["a/b/c.x", "a/b"],
  ])("%j → %j", (input, want) => {
    expect(goDir(input)).toBe(want);
  });
});

describe("goTrimSpace (strings.TrimSpace)", () => {
  it("trims Go's white space, not String#trim's", () => {
    expect(goTrimSpace(" \t\n\v\f\r a b \u0085\u00a0\u2000\u3000")).toBe("a b");
    expect(goTrimSpace("\uFEFFa\uFEFF")).toBe("\uFEFFa\uFEFF");
    expect(goTrimSpace("")).toBe("");
    expect(goTrimSpace("   ")).toBe("");
  });
});
