/**
 * The RE2-to-JavaScript translation behind `.dockerignore` regexps, checked
 * against what Go's regexp package accepts and matches (regexp/syntax
 * parse.go: parseEscape, parseClass, parseNamedClass, parsePerlClassEscape,
 * parseUnicodeClass).
 */
import { describe, expect, it } from "vitest";
import { compileRe2, Re2SyntaxError } from "../../../src/context/re2-translate.js";
import { globSyntaxError } from "../../../src/context/glob-syntax.js";

describe("compileRe2", () => {
  it.each([
    // [Go regexp, input, matches]
    ["^[^/]*$", "abc", true],
    ["^[^/]*$", "a/c", false],
    ["^(.*/)?x$", "a/b/x", true],
    ["^(.*/)?x$", "x", true],
    ["^a.b$", "a\nb", false], // Go's "." rejects only \n ...
    ["^a.b$", "a\rb", true], // ... unlike JavaScript's
    ["^a.b$", "a\u2028b", true],
    ["^[]a]$", "]", true], // "]" first in a class is literal
    ["^[^]a]$", "b", true],
    ["^[a-]$", "-", true],
    ["^[-a]$", "-", true],
    ["^[[:alpha:]]$", "q", true],
    ["^[[:^alpha:]]$", "q", false],
    ["^[[:^alpha:]]$", "1", true],
    ["^[[:word:][:punct:]]+$", "a_!", true],
    ["^[^\\d]$", "5", false],
    ["^[\\S]$", " ", false],
    ["^[\\S]$", "\u00a0", true], // Go's \s is ASCII-only
    ["^\\s$", "\u00a0", false],
    ["^\\w+$", "é", false],
    ["^[\\pL]$", "é", true],
    ["^\\PL$", "1", true],
    ["^\\p{^L}$", "1", true],
    ["^\\x41\\x{42}$", "AB", true],
    ["^\\0$", "\0", true],
    ["^\\101$", "A", true], // octal
    ["^\\a\\f\\t\\v$", "\x07\f\t\v", true],
    ["^\\Qa.b\\E$", "a.b", true],
    ["^\\Qa.b\\E$", "axb", false],
    ["\\Aab\\z", "ab", true],
    ["^a\\b$", "a", true],
    ["^a^b$", "ab", false], // "^" is an anchor anywhere
    ["^a]$", "a]", true], // a lone "]" is literal
    ["^☺[α-ω]$", "☺β", true],
  ])("%j on %j → %s", (src, input, want) => {
    expect(compileRe2(src).test(input)).toBe(want);
  });

  it.each([
    ["^[z-a]$"], // reversed range
    ["^[a"], // missing ]
    ["^[[:foo:]]$"], // unknown POSIX class
    ["^[[:a]b:]$"], // "[:" ... ":]" spans text that is no class name
    ["^\\q$"], // unknown escape
    ["^\\1$"], // backreference
    ["^\\8$"],
    ["^\\C$"],
    ["^\\xZ1$"],
    ["^\\x{}$"],
    ["^\\pX$"], // unknown Unicode class
    ["^[\\b]$"], // no \b inside a class
    ["^a\\"], // trailing backslash
    ["^a**$"], // nested repetition
    ["(?i)a"],
  ])("%j is rejected", (src) => {
    expect(() => compileRe2(src)).toThrow(Re2SyntaxError);
  });
});

describe("globSyntaxError (filepath.Match syntax)", () => {
  it.each([
    ["abc", false],
    ["a*b?c", false],
    ["[abc]", false],
    ["[^a-z]", false],
    ["[\\]a]", false],
    ["[z-a]", false], // not checked by filepath.Match
    ["*[*]*", false], // "*" inside brackets does not split chunks
    ["[Local-Only]", false],
    ["[", true],
    ["a[", true],
    ["[]", true],
    ["[]a]", true],
    ["[-a]", true],
    ["[a-]", true],
    ["[a-b-c]", true],
    ["[a\\", true],
    ["\\", true],
    ["a\\", true],
    ["*\\", true],
    ["[a]b[", true],
  ])("%j bad: %s", (pattern, bad) => {
    expect(globSyntaxError(pattern) !== undefined).toBe(bad);
  });
});
