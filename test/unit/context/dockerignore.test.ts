/**
 * `.dockerignore` semantics. Table cases are taken from
 * github.com/moby/patternmatcher (patternmatcher_test.go: TestMatches with its
 * MatchesExact / MatchesOrParentMatches / MatchesUsingParentResults(NoContext)
 * subtests, TestMatch, TestCompile, TestCleanPatterns*, TestSingleExclamationError,
 * TestMatchesWithMalformedPatterns, ...; ignorefile/ignorefile_test.go:
 * TestReadAll) and from the examples of Docker's documentation
 * (docs.docker.com/build/concepts/context/#dockerignore-files).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import {
  IgnoreMatcher,
  loadDockerignore,
  parseDockerignore,
  type IgnoreWalkState,
} from "../../../src/context/dockerignore.js";
import { goClean } from "../../../src/context/go-compat.js";
import { mobyCompile } from "../../../src/context/ignore-pattern.js";

/** Builds a matcher from pattern strings (as PatternMatcher.New takes them). */
function pm(...patterns: string[]): IgnoreMatcher {
  return new IgnoreMatcher(patterns);
}

/** Matches like moby's tests do with MatchesUsingParentResults: walk the parents first, passing state down. */
function walk(m: IgnoreMatcher, path: string): boolean {
  const slash = path.lastIndexOf("/");
  const parent = slash < 0 ? "." : goClean(path.slice(0, slash + 1));
  let state: IgnoreWalkState | undefined;
  if (parent !== ".") {
    const dirs = parent.split("/");
    for (let i = 0; i < dirs.length; i++) state = m.walkMatch(dirs.slice(0, i + 1).join("/"), state).state;
  }
  return m.walkMatch(path, state).excluded;
}

/** The DF_ARGS BuildError thrown by `fn`. */
function dfArgs(fn: () => unknown): BuildError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("DF_ARGS");
    return err as BuildError;
  }
  throw new Error("expected a DF_ARGS BuildError");
}

// patternmatcher_test.go TestMatches: [pattern, text, pass], where "exact"
// matches by itself, "inexact" only through a parent directory.
type Pass = "exact" | "inexact" | "fail";
const TEST_MATCHES: [string, string, Pass][] = [
  ["**", "file", "exact"],
  ["**", "file/", "exact"],
  ["**/", "file", "exact"], // weird one
  ["**/", "file/", "exact"],
  ["**", "/", "exact"],
  ["**/", "/", "exact"],
  ["**", "dir/file", "exact"],
  ["**/", "dir/file", "exact"],
  ["**", "dir/file/", "exact"],
  ["**/", "dir/file/", "exact"],
  ["**/**", "dir/file", "exact"],
  ["**/**", "dir/file/", "exact"],
  ["dir/**", "dir/file", "exact"],
  ["dir/**", "dir/file/", "exact"],
  ["dir/**", "dir/dir2/file", "exact"],
  ["dir/**", "dir/dir2/file/", "exact"],
  ["**/dir", "dir", "exact"],
  ["**/dir", "dir/file", "inexact"],
  ["**/dir2/*", "dir/dir2/file", "exact"],
  ["**/dir2/*", "dir/dir2/file/", "inexact"],
  ["**/dir2/**", "dir/dir2/dir3/file", "exact"],
  ["**/dir2/**", "dir/dir2/dir3/file/", "exact"],
  ["**file", "file", "exact"],
  ["**file", "dir/file", "exact"],
  ["**/file", "dir/file", "exact"],
  ["**file", "dir/dir/file", "exact"],
  ["**/file", "dir/dir/file", "exact"],
  ["**/file*", "dir/dir/file", "exact"],
  ["**/file*", "dir/dir/file.txt", "exact"],
  ["**/file*txt", "dir/dir/file.txt", "exact"],
  ["**/file*.txt", "dir/dir/file.txt", "exact"],
  ["**/file*.txt*", "dir/dir/file.txt", "exact"],
  ["**/**/*.txt", "dir/dir/file.txt", "exact"],
  ["**/**/*.txt2", "dir/dir/file.txt", "fail"],
  ["**/*.txt", "file.txt", "exact"],
  ["**/**/*.txt", "file.txt", "exact"],
  ["a**/*.txt", "a/file.txt", "exact"],
  ["a**/*.txt", "a/dir/file.txt", "exact"],
  ["a**/*.txt", "a/dir/dir/file.txt", "exact"],
  ["a/*.txt", "a/dir/file.txt", "fail"],
  ["a/*.txt", "a/file.txt", "exact"],
  ["a/*.txt**", "a/file.txt", "exact"],
  ["a[b-d]e", "ae", "fail"],
  ["a[b-d]e", "ace", "exact"],
  ["a[b-d]e", "aae", "fail"],
  ["a[^b-d]e", "aze", "exact"],
  [".*", ".foo", "exact"],
  [".*", "foo", "fail"],
  ["abc.def", "abcdef", "fail"],
  ["abc.def", "abc.def", "exact"],
  ["abc.def", "abcZdef", "fail"],
  ["abc?def", "abcZdef", "exact"],
  ["abc?def", "abcdef", "fail"],
  ["**/foo/bar", "foo/bar", "exact"],
  ["**/foo/bar", "dir/foo/bar", "exact"],
  ["**/foo/bar", "dir/dir2/foo/bar", "exact"],
  ["abc/**", "abc", "fail"],
  ["abc/**", "abc/def", "exact"],
  ["abc/**", "abc/def/ghi", "exact"],
  ["**/.foo", ".foo", "exact"],
  ["**/.foo", "bar.foo", "fail"],
  ["a(b)c/def", "a(b)c/def", "exact"],
  ["a(b)c/def", "a(b)c/xyz", "fail"],
  ["a.|)$(}+{bc", "a.|)$(}+{bc", "exact"],
  [
    "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
    "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
    "exact",
  ],
  ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact"],
  // The non-Windows additions.
  ["a\\\\", "a\\", "exact"],
  ["a\\*b", "a*b", "exact"],
];

// patternmatcher_test.go TestMatches, multiPatternTests.
const MULTI_PATTERN: [string[], string, boolean][] = [
  [["**", "!util/docker/web"], "util/docker/web/foo", false],
  [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
  [
    ["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
    "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
    false,
  ],
  [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
];

describe("TestMatches (moby/patternmatcher)", () => {
  it.each(TEST_MATCHES)("MatchesExact %j vs %j → %s", (pattern, text, pass) => {
    expect(pm(pattern).matchesExact(text)).toBe(pass === "exact");
  });
  it.each(TEST_MATCHES)("MatchesOrParentMatches %j vs %j → %s", (pattern, text, pass) => {
    expect(pm(pattern).matches(text)).toBe(pass !== "fail");
  });
  it.each(TEST_MATCHES)("MatchesUsingParentResults %j vs %j → %s", (pattern, text, pass) => {
    expect(walk(pm(pattern), text)).toBe(pass !== "fail");
  });
  it.each(TEST_MATCHES)("MatchesUsingParentResultsNoContext %j vs %j → %s", (pattern, text, pass) => {
    expect(pm(pattern).walkMatch(text).excluded).toBe(pass !== "fail");
  });
  it.each(MULTI_PATTERN)("multi-pattern %j vs %j → %s", (patterns, text, pass) => {
    const m = pm(...patterns);
    expect(m.matches(text)).toBe(pass);
    expect(walk(m, text)).toBe(pass);
    expect(m.walkMatch(text).excluded).toBe(pass);
  });
});

// patternmatcher_test.go matchTests ("stolen from go's filepath Match tests"),
// run by TestMatch through the package-level Matches (which cleans the path).
// `null` stands for filepath.ErrBadPattern.
const MATCH_TESTS: [string, string, boolean | null][] = [
  ["abc", "abc", true],
  ["*", "abc", true],
  ["*c", "abc", true],
  ["a*", "a", true],
  ["a*", "abc", true],
  ["a*", "ab/c", true],
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
  ["[]a]", "]", null],
  ["[-]", "-", null],
  ["[x-]", "x", null],
  ["[x-]", "-", null],
  ["[x-]", "z", null],
  ["[-x]", "x", null],
  ["[-x]", "-", null],
  ["[-x]", "a", null],
  ["\\", "a", null],
  ["[a-b-c]", "a", null],
  ["[", "a", null],
  ["[^", "a", null],
  ["[^bc", "a", null],
  ["a[", "a", null],
  ["a[", "ab", null],
  ["*x", "xxx", true],
];

describe("TestMatch (filepath.Match cases, moby/patternmatcher)", () => {
  it.each(MATCH_TESTS)("%j vs %j → %j", (pattern, s, want) => {
    if (want === null) {
      dfArgs(() => pm(pattern));
      return;
    }
    const file = goClean(s);
    expect(file === "." ? false : pm(pattern).matches(file)).toBe(want);
  });
});

// patternmatcher_test.go compileTests (the "slash" run): [pattern, kind, Go regexp].
const COMPILE_TESTS: [string, string, string][] = [
  ["*", "regexp", "^[^/]*$"],
  ["file*", "regexp", "^file[^/]*$"],
  ["*file", "regexp", "^[^/]*file$"],
  ["a*/b", "regexp", "^a[^/]*/b$"],
  ["**", "suffix", ""],
  ["**/**", "regexp", "^(.*/)?.*$"],
  ["dir/**", "prefix", ""],
  ["**/dir", "suffix", ""],
  ["**/dir2/*", "regexp", "^(.*/)?dir2/[^/]*$"],
  ["**/dir2/**", "regexp", "^(.*/)?dir2/.*$"],
  ["**file", "suffix", ""],
  ["**/file*txt", "regexp", "^(.*/)?file[^/]*txt$"],
  ["**/**/*.txt", "regexp", "^(.*/)?(.*/)?[^/]*\\.txt$"],
  ["a[b-d]e", "regexp", "^a[b-d]e$"],
  [".*", "regexp", "^\\.[^/]*$"],
  ["abc.def", "exact", ""],
  ["abc?def", "regexp", "^abc[^/]def$"],
  ["**/foo/bar", "suffix", ""],
  ["a(b)c/def", "exact", ""],
  ["a.|)$(}+{bc", "exact", ""],
  ["dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact", ""],
];

describe("TestCompile (moby/patternmatcher)", () => {
  it.each(COMPILE_TESTS)("%j compiles as %s %s", (pattern, kind, regexp) => {
    const compiled = mobyCompile(goClean(pattern));
    expect(compiled.kind).toBe(kind);
    if (kind === "regexp") expect(compiled.goRegexp).toBe(regexp);
  });
});

describe("small moby/patternmatcher tests", () => {
  it("TestWildcardMatches", () => expect(pm("*").matches("fileutils.go")).toBe(true));
  it("TestPatternMatches", () => expect(pm("*.go").matches("fileutils.go")).toBe(true));
  it("TestExclusionPatternMatchesPatternBefore", () => {
    expect(pm("!fileutils.go", "*.go").matches("fileutils.go")).toBe(true);
  });
  it("TestPatternMatchesFolderExclusions", () => {
    expect(pm("docs", "!docs/README.md").matches("docs/README.md")).toBe(false);
  });
  it("TestPatternMatchesFolderWithSlashExclusions", () => {
    expect(pm("docs/", "!docs/README.md").matches("docs/README.md")).toBe(false);
  });
  it("TestPatternMatchesFolderWildcardExclusions", () => {
    expect(pm("docs/*", "!docs/README.md").matches("docs/README.md")).toBe(false);
  });
  it("TestExclusionPatternMatchesPatternAfter", () => {
    expect(pm("*.go", "!fileutils.go").matches("fileutils.go")).toBe(false);
  });
  it("TestExclusionPatternMatchesWholeDirectory: the root is never excluded", () => {
    expect(pm("*.go").matches(".")).toBe(false);
    expect(pm("**").matches(".")).toBe(false);
    expect(pm("**").matches("")).toBe(false);
  });
  it("TestSingleExclamationError / TestCleanPatternsErrorSingleException", () => {
    dfArgs(() => pm("!"));
  });
  it("TestMatchesWithNoPatterns", () => {
    const m = pm();
    expect(m.isEmpty).toBe(true);
    expect(m.matches("/any/path/there")).toBe(false);
  });
  it("TestMatchesWithMalformedPatterns", () => dfArgs(() => pm("[")));
  it("TestCleanPatterns / TestCleanPatternsStripEmptyPatterns", () => {
    expect(pm("docs", "config").patterns).toHaveLength(2);
    expect(pm("docs", "config", "").patterns).toHaveLength(2);
  });
  it("TestCleanPatternsExceptionFlag / LeadingSpaceTrimmed / TrailingSpaceTrimmed", () => {
    expect(pm("docs", "!docs/README.md").hasExceptions).toBe(true);
    expect(pm("docs", "  !docs/README.md").hasExceptions).toBe(true);
    expect(pm("docs", "!docs/README.md  ").hasExceptions).toBe(true);
    expect(pm("docs").hasExceptions).toBe(false);
  });
  it("TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall: rejected up front", () => {
    // Go accepts "[Local-Only]/" in New (filepath.Match does not check range
    // order) and fails on every match; tsbuild reports the reversed range
    // l-O when the matcher is built.
    const err = dfArgs(() => pm("[Local-Only]/"));
    expect(err.message).toContain("l-O");
  });
});

describe("parseDockerignore (ignorefile.ReadAll)", () => {
  it("TestReadAll", () => {
    const content = [
      "test1",
      "/test2",
      "/a/file/here",
      "",
      "lastfile",
      "# this is a comment",
      "! /inverted/abs/path",
      "!",
      "! ",
    ].join("\n");
    const patterns = parseDockerignore(content);
    expect(patterns.map((p) => p.text)).toEqual([
      "test1",
      "test2",
      "a/file/here",
      "lastfile",
      "!inverted/abs/path",
      "!",
      "!",
    ]);
    expect(patterns.map((p) => p.line)).toEqual([1, 2, 3, 5, 7, 8, 9]);
    expect(patterns[4]).toMatchObject({ exception: true, pattern: "inverted/abs/path" });
    expect(patterns[5]).toMatchObject({ exception: true, pattern: "" });
    expect(parseDockerignore("")).toEqual([]);
  });

  it("cleans paths like filepath.Clean and drops one leading slash", () => {
    const texts = parseDockerignore(
      ["./foo", "foo//bar/", "a/./b/../c", "/", "//", "../x", "/..", "!./a/", "!/", "*/", "./"].join("\n"),
    ).map((p) => p.text);
    expect(texts).toEqual(["foo", "foo/bar", "a/c", "/", "/", "../x", "/", "!a", "!/", "*", "."]);
  });

  it("New cleans the text again, '!' included: '!../..' is no exception", () => {
    const [p] = parseDockerignore("!../..");
    expect(p).toMatchObject({ text: "!../..", exception: false, pattern: "." });
  });

  it("recognises comments only in column one", () => {
    const patterns = parseDockerignore("# comment\n  # not a comment\n\t#x\n!#y");
    expect(patterns.map((p) => p.text)).toEqual(["# not a comment", "#x", "!#y"]);
  });

  it("strips CR before LF, a BOM on the first line only, and Go white space", () => {
    const patterns = parseDockerignore("\uFEFFa\r\n\uFEFFb\r\n\u0085c\u00a0\n\t d \u3000\n");
    expect(patterns.map((p) => p.text)).toEqual(["a", "\uFEFFb", "c", "d"]);
    // A BOM-prefixed comment on line one is still a comment.
    expect(parseDockerignore("\uFEFF# c\nx").map((p) => p.text)).toEqual(["x"]);
  });

  it("keeps lines that the matcher later drops (PatternMatcher.New trims again)", () => {
    // "/ /" cleans to "/ " and loses its slash: " ", which New trims to nothing.
    const patterns = parseDockerignore("/ /\nx");
    expect(patterns.map((p) => p.text)).toEqual([" ", "x"]);
    expect(new IgnoreMatcher(patterns).patterns.map((p) => p.text)).toEqual(["x"]);
  });

  it("re-cleans exceptions as New does: '!/' becomes the illegal '!'", () => {
    const [p] = parseDockerignore("! /");
    expect(p).toMatchObject({ text: "!/", exception: true, pattern: "" });
    const err = dfArgs(() => new IgnoreMatcher(parseDockerignore("ok\n! /", "ctx/.dockerignore")));
    expect(err.message).toContain("ctx/.dockerignore line 2");
  });

  it("rejects a line of 64 KiB, as bufio.Scanner does", () => {
    expect(parseDockerignore("a".repeat(65535))).toHaveLength(1);
    dfArgs(() => parseDockerignore("x\n" + "a".repeat(65536) + "\ny"));
  });
});

describe("Docker documentation examples", () => {
  const docs = new IgnoreMatcher(parseDockerignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n"));
  it.each([
    ["somedir/temporary.txt", true], // */temp*
    ["somedir/temp", true],
    ["somedir/temp/inner.txt", true], // a matched directory takes its content
    ["temporary.txt", false],
    ["somedir/subdir/temporary.txt", true], // */*/temp*
    ["a/b/c/temporary.txt", false],
    ["tempa", true], // temp?
    ["tempb", true],
    ["temp", false],
    ["tempab", false],
    ["somedir/tempa", true],
    ["comment", false],
  ] as const)("*/temp*, */*/temp*, temp?: %s → %s", (path, excluded) => {
    expect(docs.matches(path)).toBe(excluded);
  });

  it("**/*.go excludes .go files in every directory, including the root", () => {
    const m = pm("**/*.go");
    expect(m.matches("main.go")).toBe(true);
    expect(m.matches("cmd/app/main.go")).toBe(true);
    expect(m.matches("main.gox")).toBe(false);
  });

  it("*.md with !README.md", () => {
    const m = new IgnoreMatcher(parseDockerignore("*.md\n!README.md"));
    expect(m.matches("CHANGELOG.md")).toBe(true);
    expect(m.matches("README.md")).toBe(false);
    expect(m.matches("docs/x.md")).toBe(false); // *.md is anchored at the root
  });

  it("the last matching line decides: *.md, !README*.md, README-secret.md", () => {
    const m = new IgnoreMatcher(parseDockerignore("*.md\n!README*.md\nREADME-secret.md"));
    expect(m.matches("README-secret.md")).toBe(true);
    expect(m.matches("README-public.md")).toBe(false);
    expect(m.matches("README.md")).toBe(false);
    expect(m.matches("NOTES.md")).toBe(true);
  });

  it("... and with the exception last, every README is included", () => {
    const m = new IgnoreMatcher(parseDockerignore("*.md\nREADME-secret.md\n!README*.md"));
    expect(m.matches("README-secret.md")).toBe(false);
    expect(m.matches("NOTES.md")).toBe(true);
  });

  it("/foo/bar and foo/bar are the same pattern", () => {
    const a = new IgnoreMatcher(parseDockerignore("/foo/bar"));
    const b = new IgnoreMatcher(parseDockerignore("foo/bar"));
    for (const path of ["foo/bar", "foo/bar/baz", "bar", "x/foo/bar", "foo"]) {
      expect(a.matches(path)).toBe(b.matches(path));
    }
    expect(a.matches("foo/bar")).toBe(true);
    expect(a.matches("x/foo/bar")).toBe(false);
  });

  it("* followed by exceptions keeps only the exceptions (allowlist)", () => {
    const m = new IgnoreMatcher(parseDockerignore("*\n!src\n!package.json"));
    expect(m.matches("src/index.ts")).toBe(false);
    expect(m.matches("package.json")).toBe(false);
    expect(m.matches("node_modules/x/index.js")).toBe(true);
    expect(m.matches("Dockerfile")).toBe(true);
  });
});

describe("moby's glob-to-regexp translation, reproduced", () => {
  it.each([
    // [patterns, path, excluded]
    [["**file"], "dir/myfile", true], // suffix test, not a path element
    [["**/file"], "dir/myfile", false],
    [["abc**"], "abcdef", true], // prefix test
    [["abc**"], "abc", true],
    [["^a*"], "abc", true], // ^ is a regexp anchor once the pattern has a wildcard
    [["^a*"], "^abc", false],
    [["^abc"], "^abc", true], // ... but an exact pattern compares the text
    [["[[:digit:]]x"], "5x", true], // POSIX class through Go's regexp
    [["[[:digit:]]x"], ":x", false],
    [["a\\d"], "a7", true], // \d is Go's digit class
    [["a\\d"], "ad", false],
    [["a\\.b"], "a.b", true],
    [["a\\.b"], "axb", false],
    [["[*]"], "]", true], // "*" in brackets becomes "[^/]*", closing the class early
    [["[*]"], "*", false],
    [["[?]x"], "?x", false], // "[[^/]" is the class {[, ^, /}, then "]x" follows
    [["[?]x"], "^]x", true],
    [["a\\12"], "a\n", true], // octal escape
    [["a\\x41*"], "aA", true],
    [["\\pL*"], "é", true], // Unicode class
    [["\\pL*"], "1", false],
    [["[\\]a]"], "a", true],
    [["a[^/]b"], "a/b", false],
    [["a\\Q*\\E"], "a[^/]*", true], // \Q...\E quotes moby's own translation
    [["*.txt"], "a\nb.txt", true], // a class, not ".", so newlines match
    [["*/**"], "a\u2028/x", true],
  ] as [string[], string, boolean][])("%j vs %j → %s", (patterns, path, excluded) => {
    expect(pm(...patterns).matches(path)).toBe(excluded);
  });

  it.each([["[z-a]"], ["a\\q"], ["\\1"], ["[[:nope:]]"], ["\\C"], ["a\\xZZ"]])(
    "%j is rejected like Go's regexp.Compile",
    (pattern) => {
      dfArgs(() => pm(pattern));
    },
  );
});

describe("matches vs walkMatch (MatchesOrParentMatches vs MatchesUsingParentResults)", () => {
  it("differ where an exception was skipped for the parent", () => {
    const m = pm("a/b", "!a");
    expect(m.matches("a/b/c")).toBe(false);
    expect(walk(m, "a/b/c")).toBe(true); // what BuildKit does while walking
  });

  it("agree on a typical file", () => {
    const m = new IgnoreMatcher(
      parseDockerignore("node_modules\n**/*.log\n!keep.log\ndist/**\n!dist/public/**\n.git\n"),
    );
    const paths = [
      "node_modules",
      "node_modules/a/b.js",
      "src/x.log",
      "keep.log",
      "dist",
      "dist/a.js",
      "dist/public/index.html",
      ".git/config",
      "src/.git",
      "README.md",
    ];
    for (const path of paths) expect([path, walk(m, path)]).toEqual([path, m.matches(path)]);
  });

  it("rejects a state from another matcher", () => {
    const a = pm("x", "y");
    const b = pm("x");
    const state = a.walkMatch("dir").state;
    expect(() => b.walkMatch("dir/f", state)).toThrow(BuildError);
  });
});

describe("error messages", () => {
  it("name the pattern, the file and the line", () => {
    const err = dfArgs(() => new IgnoreMatcher(parseDockerignore("ok\n# c\n  src/[abc  \n", "app/.dockerignore")));
    expect(err.message).toContain("app/.dockerignore line 3");
    expect(err.message).toContain('"src/[abc"');
    expect(err.message).toContain("not closed");
  });
  it("without a file, name the line", () => {
    const err = dfArgs(() => new IgnoreMatcher(parseDockerignore("a\n[]a]")));
    expect(err.message).toMatch(/^line 2: invalid pattern "\[\]a\]"/);
  });
  it("for strings, name the file given as option", () => {
    const err = dfArgs(() => new IgnoreMatcher(["\\"], { file: "--exclude" }));
    expect(err.message).toContain("--exclude");
    expect(err.message).toContain("trailing backslash");
  });
});

describe("canSkipDir (fsutil's rule)", () => {
  it("skips excluded directories when there are no exceptions", () => {
    const m = pm("node_modules", "**/.git");
    expect(m.canSkipDir("node_modules")).toBe(true);
    expect(m.canSkipDir("a/.git")).toBe(true);
    expect(m.canSkipDir("src")).toBe(false); // not excluded
  });

  it("walks directories that contain or are a literal exception", () => {
    const m = pm("**", "!src/main/**", "!docs/README.md");
    expect(m.canSkipDir("src")).toBe(false);
    expect(m.canSkipDir("src/main")).toBe(false);
    expect(m.canSkipDir("docs")).toBe(false);
    expect(m.canSkipDir("test")).toBe(true);
    expect(m.canSkipDir("src/test")).toBe(true);
    expect(m.canSkipDir("srcx")).toBe(true); // prefix of a path element is not enough
  });

  it("never skips when an exception is a glob", () => {
    const m = pm("**", "!**/*.go");
    expect(m.matches("vendor")).toBe(true);
    expect(m.canSkipDir("vendor")).toBe(false);
    expect(pm("**", "!a/[bc]").canSkipDir("x")).toBe(false);
    expect(pm("**", "!a/*").canSkipDir("x")).toBe(true); // a trailing /* does not count
  });

  it("takes the excluded flag from walkMatch when given", () => {
    const m = pm("build");
    expect(m.canSkipDir("build", m.walkMatch("build").excluded)).toBe(true);
    expect(m.canSkipDir("build", false)).toBe(false);
  });

  it("agrees with matching: a skipped directory holds nothing included", () => {
    const m = new IgnoreMatcher(parseDockerignore("**\n!subdir\nsubdir/subdir1\n!subdir/subdir1/subdir2\n"));
    expect(m.canSkipDir("other")).toBe(true);
    expect(m.canSkipDir("subdir")).toBe(false); // not excluded
    expect(m.canSkipDir("subdir/subdir1")).toBe(false);
    expect(m.matches("subdir/subdir1/subdir2/f")).toBe(false);
    expect(m.matches("subdir/subdir1/f")).toBe(true);
  });
});

describe("loadDockerignore", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tsbuild-dockerignore-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function layout(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      if (path.endsWith("/")) await mkdir(join(dir, path), { recursive: true });
      else await writeFile(join(dir, path), content);
    }
    await mkdir(dir, { recursive: true });
    return dir;
  }

  it("reads <context>/.dockerignore", async () => {
    const dir = await layout("ctx-only", { ".dockerignore": "node_modules\n", Dockerfile: "FROM x\n" });
    const got = await loadDockerignore(dir, join(dir, "Dockerfile"));
    expect(got.file).toBe(join(dir, ".dockerignore"));
    expect(got.patterns.map((p) => p.text)).toEqual(["node_modules"]);
    expect(got.patterns[0]?.file).toBe(join(dir, ".dockerignore"));
  });

  it("prefers <Dockerfile>.dockerignore next to the Dockerfile, without merging", async () => {
    const dir = await layout("per-dockerfile", {
      ".dockerignore": "a\n",
      "build/app.Dockerfile": "FROM x\n",
      "build/app.Dockerfile.dockerignore": "b\n",
    });
    const got = await loadDockerignore(dir, join(dir, "build/app.Dockerfile"));
    expect(got.file).toBe(join(dir, "build/app.Dockerfile.dockerignore"));
    expect(got.patterns.map((p) => p.text)).toEqual(["b"]);
  });

  it("uses an empty Dockerfile-specific file (it exists, so it wins)", async () => {
    const dir = await layout("empty-specific", { ".dockerignore": "a\n", "Dockerfile.dockerignore": "" });
    const got = await loadDockerignore(dir, "");
    expect(got.file).toBe(join(dir, "Dockerfile.dockerignore"));
    expect(got.patterns).toEqual([]);
  });

  it("finds the Dockerfile-specific file outside the context", async () => {
    const dir = await layout("outside", {
      "ctx/.dockerignore": "a\n",
      "dockerfiles/Dockerfile": "FROM x\n",
      "dockerfiles/Dockerfile.dockerignore": "c\n",
    });
    const got = await loadDockerignore(join(dir, "ctx"), join(dir, "dockerfiles/Dockerfile"));
    expect(got.patterns.map((p) => p.text)).toEqual(["c"]);
  });

  it("falls back to the context for a stdin Dockerfile, and to nothing", async () => {
    const dir = await layout("stdin", { ".dockerignore": "z\n" });
    expect((await loadDockerignore(dir, "-")).patterns.map((p) => p.text)).toEqual(["z"]);
    const none = await layout("none", { Dockerfile: "FROM x\n" });
    expect(await loadDockerignore(none, join(none, "Dockerfile"))).toEqual({ patterns: [], file: undefined });
  });

  it("treats a directory named .dockerignore as absent", async () => {
    const dir = await layout("dir-named", { ".dockerignore/": "" });
    expect((await loadDockerignore(dir, "")).file).toBeUndefined();
  });

  it("keeps the BOM handling of ReadAll for files on disk", async () => {
    const dir = await layout("bom", { ".dockerignore": "\uFEFF# comment\r\n/tmp\r\n" });
    expect((await loadDockerignore(dir, "")).patterns.map((p) => p.text)).toEqual(["tmp"]);
  });
});
