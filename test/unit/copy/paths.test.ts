import { describe, expect, it } from "vitest";
import { destinationOf } from "../../../src/copy/dest-root.js";
import { urlFileName } from "../../../src/copy/http-source.js";
import { cleanSourcePath, isGitSource, isUrlSource } from "../../../src/copy/source-path.js";
import { mayMatchBelowPattern } from "../../../src/copy/tree.js";

describe("cleanSourcePath (BuildKit system.NormalizePath(\"/\", src))", () => {
  it.each([
    ["foo", "foo"],
    ["/foo", "foo"],
    ["./foo/", "foo"],
    ["foo/.", "foo"],
    ["../x", "x"],
    ["a/../../b", "b"],
    ["../../..", ""],
    [".", ""],
    ["/", ""],
    ["a//b/./c", "a/b/c"],
  ])("%j -> %j", (src, rel) => {
    expect(cleanSourcePath(src)).toBe(rel);
  });
});

describe("destinationOf (BuildKit pathRelativeToWorkingDir)", () => {
  it.each([
    ["/abs", "/w", "/abs", false],
    ["/abs/", "/w", "/abs", true],
    ["rel", "/w", "/w/rel", false],
    ["rel/", "/w", "/w/rel", true],
    [".", "/w", "/w", true],
    ["./", "/w", "/w", true],
    ["", "/w", "/w", true],
    ["x/.", "/w", "/w/x", true],
    ["..", "/w/sub", "/w", true],
    ["/", "/w", "/", true],
    ["a/../b", "/", "/b", false],
  ])("%j in %j -> %j (directory: %j)", (dest, workdir, path, dirShaped) => {
    expect(destinationOf(dest, workdir)).toEqual({ path, dirShaped });
  });
});

describe("URL and Git sources", () => {
  it("names downloads after the URL path (testDockerfileADDFromURL)", () => {
    expect(urlFileName("http://h/foo")).toBe("foo");
    expect(urlFileName("http://h/")).toBe("__unnamed__");
    expect(urlFileName("http://h")).toBe("__unnamed__");
    expect(urlFileName("https://h/a/b.tar.gz?x=1#frag")).toBe("b.tar.gz");
    expect(urlFileName("https://h/with%20space")).toBe("with space");
  });
  it("tells URLs and Git repositories apart", () => {
    expect(isUrlSource("https://example.com/x")).toBe(true);
    expect(isUrlSource("http.txt")).toBe(false);
    expect(isGitSource("https://github.com/moby/buildkit.git")).toBe(true);
    expect(isGitSource("https://github.com/moby/buildkit.git#v0.12")).toBe(true);
    expect(isGitSource("git@github.com:moby/buildkit.git")).toBe(true);
    expect(isGitSource("https://example.com/file.tar.gz")).toBe(false);
  });
});

describe("mayMatchBelowPattern (pruning the --parents walk)", () => {
  it("prunes only directories that cannot hold a match", () => {
    const m = mayMatchBelowPattern("c/**/e");
    expect(m("c")).toBe(true);
    expect(m("c/d")).toBe(true);
    expect(m("x")).toBe(false);
    const p = mayMatchBelowPattern("d*/x/y");
    expect(p("d1")).toBe(true);
    expect(p("d1/x")).toBe(true);
    expect(p("d1/z")).toBe(false);
    expect(p("d1/x/y")).toBe(false);
  });
});
