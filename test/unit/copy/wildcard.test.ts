import { describe, expect, it } from "vitest";
import { BadPatternError, goMatch, hasWildcards, splitWildcards } from "../../../src/copy/wildcard.js";

// Go's path/filepath match_test.go `matchTests`, verbatim: COPY sources are
// matched with filepath.Match (tonistiigi/fsutil copy.ResolveWildcards).
const GO_MATCH_TESTS: [pattern: string, name: string, match: boolean, bad?: true][] = [
  ["abc", "abc", true],
  ["*", "abc", true],
  ["*c", "abc", true],
  ["a*", "a", true],
  ["a*", "abc", true],
  ["a*", "ab/c", false],
  ["a*/b", "abc/b", true],
  ["a*/b", "a/c/b", false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true],
  ["a*b?c*x", "abxbbxdbxebxczzy", false],
  ["ab[c]", "abc", true],
  ["ab[b-d]", "abc", true],
  ["ab[e-g]", "abc", false],
  ["ab[^c]", "abc", false],
  ["ab[^b-d]", "abc", false],
  ["ab[^e-g]", "abc", true],
  ["a\\*b", "a*b", true],
  ["a\\*b", "ab", false],
  ["a?b", "a☺b", true],
  ["a[^a]b", "a☺b", true],
  ["a???b", "a☺b", false],
  ["a[^a][^a][^a]b", "a☺b", false],
  ["[a-ζ]*", "α", true],
  ["*[a-ζ]", "A", false],
  ["a?b", "a/b", false],
  ["a*b", "a/b", false],
  ["[\\]a]", "]", true],
  ["[\\-]", "-", true],
  ["[x\\-]", "x", true],
  ["[x\\-]", "-", true],
  ["[x\\-]", "z", false],
  ["[\\-x]", "x", true],
  ["[\\-x]", "-", true],
  ["[\\-x]", "a", false],
  ["[]a]", "]", false, true],
  ["[-]", "-", false, true],
  ["[x-]", "x", false, true],
  ["[x-]", "-", false, true],
  ["[x-]", "z", false, true],
  ["[-x]", "x", false, true],
  ["[-x]", "-", false, true],
  ["[-x]", "a", false, true],
  ["\\", "a", false, true],
  ["[a-b-c]", "a", false, true],
  ["[", "a", false, true],
  ["[^", "a", false, true],
  ["[^bc", "a", false, true],
  ["a[", "a", false, true],
  ["a[", "ab", false, true],
  ["a[", "x", false, true],
  ["a/b[", "x", false, true],
  ["*x", "xxx", true],
];

describe("goMatch (Go filepath.Match)", () => {
  it.each(GO_MATCH_TESTS)("Match(%j, %j) = %j", (pattern, name, match, bad) => {
    if (bad) {
      expect(() => goMatch(pattern, name)).toThrow(BadPatternError);
    } else {
      expect(goMatch(pattern, name)).toBe(match);
    }
  });
});

describe("hasWildcards / splitWildcards (fsutil containsWildcards / splitWildcards)", () => {
  it("detects unescaped * ? [", () => {
    expect(hasWildcards("a*")).toBe(true);
    expect(hasWildcards("a?")).toBe(true);
    expect(hasWildcards("[ab]")).toBe(true);
    expect(hasWildcards("a\\*")).toBe(false);
    expect(hasWildcards("plain.txt")).toBe(false);
  });
  it("splits at the first wildcard segment", () => {
    expect(splitWildcards("sub/*/dir2/foo")).toEqual({ base: ["sub"], pattern: ["*", "dir2", "foo"] });
    expect(splitWildcards("*.go")).toEqual({ base: [], pattern: ["*.go"] });
    expect(splitWildcards("a/b/c")).toEqual({ base: ["a", "b", "c"], pattern: [] });
    expect(splitWildcards("")).toEqual({ base: [], pattern: [] });
  });
});
