// The matched/unmatched name sets, from BuildKit's TestProcessWithMatches
// (lex_test.go) plus cases for names referenced only inside modifiers.
import { describe, expect, test } from "vitest";
import { expandWord, expandWords, type ExpandOptions } from "../../../../src/instructions/expand/index.js";

function opts(env: Record<string, string>): ExpandOptions {
  return { escapeChar: "\\", lookup: (name) => (Object.hasOwn(env, name) ? env[name] : undefined) };
}

interface MatchCase {
  input: string;
  env: Record<string, string>;
  expected: string;
  matched?: string[];
  unmatched?: string[];
}

const FOO_BAR = { FOO: "xxx", BAR: "" };

// From TestProcessWithMatches (error cases omitted: a failed expansion returns no sets).
const goCases: MatchCase[] = [
  { input: "x", env: { DUMMY: "dummy" }, expected: "x" },
  { input: "x ${UNUSED}", env: { DUMMY: "dummy" }, expected: "x ", unmatched: ["UNUSED"] },
  { input: "x ${FOO}", env: { FOO: "y" }, expected: "x y", matched: ["FOO"] },
  { input: "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", env: FOO_BAR, expected: "xxx  ccc", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", env: FOO_BAR, expected: "xxx bbb ccc", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO:-}", env: FOO_BAR, expected: "xxx", matched: ["FOO"] },
  { input: "${FOO:-}", env: {}, expected: "", unmatched: ["FOO"] },
  { input: "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", env: FOO_BAR, expected: "aaa bbb ", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", env: FOO_BAR, expected: "aaa  ", matched: ["FOO", "BAR"], unmatched: ["BAZ"] },
  { input: "${FOO?aaa}", env: FOO_BAR, expected: "xxx", matched: ["FOO"] },
  { input: "${BAR?bbb}", env: FOO_BAR, expected: "", matched: ["BAR"] },
  { input: "${FOO:?aaa}", env: FOO_BAR, expected: "xxx", matched: ["FOO"] },
  { input: "${FOO#()[]{\\}^$.\\*\\?|\\\\}", env: { FOO: "()[]{}^$.*?|\\x" }, expected: "x", matched: ["FOO"] },
  { input: "${FOO%%\\**}", env: { FOO: "xx**" }, expected: "xx", matched: ["FOO"] },
  { input: "${FOO#*x*y}", env: { FOO: "xxyy" }, expected: "y", matched: ["FOO"] },
  { input: "${FOO#$BAR}", env: { FOO: "xxyy", BAR: "x" }, expected: "xyy", matched: ["FOO", "BAR"] },
  { input: "${FOO#$BAR}", env: { FOO: "xxyy", BAR: "" }, expected: "xxyy", matched: ["FOO", "BAR"] },
  { input: "${FOO##*x}", env: { FOO: "xxyy" }, expected: "yy", matched: ["FOO"] },
  { input: "${FOO#?\\?}", env: { FOO: "???y" }, expected: "?y", matched: ["FOO"] },
  { input: "${ABC:-.}${FOO%x}${ABC:-.}", env: { FOO: "xxyy" }, expected: ".xxyy.", matched: ["FOO"], unmatched: ["ABC"] },
  { input: "${FOO%%\\**\\*}", env: { FOO: "a***yy*" }, expected: "a", matched: ["FOO"] },
  { input: "${FOO%%$BAR}", env: { FOO: "xxyy", BAR: "" }, expected: "xxyy", matched: ["FOO", "BAR"] },
  {
    input: "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
    env: { FOO: "/foo*/*/*.txt", NEEDLE: "\\*/" },
    expected: "/foo.*/*.txt - /foo..*.txt",
    matched: ["FOO", "NEEDLE"],
  },
  {
    input: "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
    env: { FOO: "/a/foo/b/c.txt", NEEDLE: "/?/", REPLACEMENT: "/" },
    expected: "/foo/b/c.txt - /foo/c.txt",
    matched: ["FOO", "NEEDLE", "REPLACEMENT"],
  },
  { input: "${FOO//\\//\\/}", env: { FOO: "/tmp/foo.txt" }, expected: "\\/tmp\\/foo.txt", matched: ["FOO"] },
  { input: "${FOO/$BAR/ww}", env: { FOO: "xxyy", BAR: "" }, expected: "wwxxyy", matched: ["FOO", "BAR"] },
  { input: "${FOO///}", env: { FOO: "xxyy" }, expected: "xxyy", matched: ["FOO"] },
  { input: "${FOO///}", env: {}, expected: "", unmatched: ["FOO"] },
];

// tsbuild's own, from reading lex.go.
const ownCases: MatchCase[] = [
  // The word of a modifier is expanded (and its names recorded) even when unused.
  { input: "${A:+$B}", env: {}, expected: "", unmatched: ["A", "B"] },
  { input: "${A:-$B}", env: { A: "a", B: "b" }, expected: "a", matched: ["A", "B"] },
  // Names inside quotes and nested expansions count; single quotes hide them.
  { input: "\"$A\"'$B'${C:-${D}}", env: { A: "a", D: "d" }, expected: "a$Bd", matched: ["A", "D"], unmatched: ["C"] },
  // Special and positional parameters are looked up, and so unmatched.
  { input: "$1$@${#}", env: {}, expected: "", unmatched: ["1", "@", "#"] },
  // An escaped $ is no reference.
  { input: "\\$A", env: { A: "a" }, expected: "$A" },
  // A name referenced twice is one entry.
  { input: "$A$A", env: { A: "a" }, expected: "aa", matched: ["A"] },
];

describe("matched/unmatched", () => {
  test.each([...goCases, ...ownCases])("$input", (c) => {
    const result = expandWord(c.input, opts(c.env));
    expect(result.value).toBe(c.expected);
    expect([...result.matched].sort()).toEqual([...(c.matched ?? [])].sort());
    expect([...result.unmatched].sort()).toEqual([...(c.unmatched ?? [])].sort());
  });

  test("expandWords reports the same sets", () => {
    const result = expandWords("$A ${B:-$C}", opts({ A: "a b" }));
    expect(result.words).toEqual(["a", "b"]);
    expect([...result.matched]).toEqual(["A"]);
    expect([...result.unmatched].sort()).toEqual(["B", "C"]);
  });
});
