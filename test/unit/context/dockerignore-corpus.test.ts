/**
 * Real-world ignore files (../shared/corpus/dockerignore, copied from public
 * repositories; see its README.md and SOURCES.tsv): every one must parse and
 * compile, and a few are spot-checked against sample paths. The README speaks
 * of 38 files; SOURCES.tsv lists 37, and 37 are present.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IgnoreMatcher, parseDockerignore } from "../../../src/context/dockerignore.js";

const CORPUS = fileURLToPath(new URL("../../../../shared/corpus/dockerignore/", import.meta.url));
const present = existsSync(CORPUS);
const files = present ? readdirSync(CORPUS).filter((f) => f.endsWith(".dockerignore")).sort() : [];

function load(name: string): IgnoreMatcher {
  const file = join(CORPUS, name);
  return new IgnoreMatcher(parseDockerignore(readFileSync(file, "utf8"), file));
}

describe.skipIf(!present)("dockerignore corpus", () => {
  it("holds exactly the files SOURCES.tsv lists", () => {
    const listed = readFileSync(join(CORPUS, "SOURCES.tsv"), "utf8")
      .split("\n")
      .slice(1)
      .filter((line) => line.trim() !== "")
      .map((line) => line.split("\t")[0])
      .sort();
    expect(files).toEqual(listed);
    expect(files.length).toBeGreaterThanOrEqual(37);
  });

  it.each(files)("%s parses and compiles", (name) => {
    const text = readFileSync(join(CORPUS, name), "utf8");
    const patterns = parseDockerignore(text, name);
    const matcher = new IgnoreMatcher(patterns);
    expect(matcher.patterns.length).toBeLessThanOrEqual(patterns.length);
    for (const p of patterns) {
      expect(p.line).toBeGreaterThan(0);
      expect(p.text).not.toMatch(/^\s|\s$/);
    }
    // Smoke: every compiled pattern can be evaluated.
    expect(typeof matcher.matches("some/deep/path/file.txt")).toBe("boolean");
  });

  const spot: [string, [string, boolean][]][] = [
    [
      // "**" plus a long allowlist of exceptions, some of them globs.
      "openzipkin__zipkin__.dockerignore",
      [
        ["README.md", true],
        ["zipkin-server/target/zipkin-server-3.4.0-exec.jar", false], // "!/zipkin-server/..." lost its "/"
        ["zipkin-server/target/zipkin-server-3.4.0.jar", true],
        ["zipkin/src/main/java/zipkin2/Span.java", false],
        ["zipkin/src/test/java/zipkin2/SpanTest.java", true],
        ["some/module/pom.xml", false], // !**/pom.xml
        ["docker/test-images/zipkin-elasticsearch9/anything/else", false],
        ["zipkin-lens/node_modules/x/index.js", true],
      ],
    ],
    [
      "louislam__uptime-kuma__.dockerignore",
      [
        ["docker/dockerfile", true], // **/[Dd]ockerfile*
        ["Dockerfile", true],
        ["data", true], // /data*
        ["data.db", true],
        ["server/data.js", false],
        ["src/.git/HEAD", true], // **/.git
        [".github/workflows/ci.yml", true],
        ["server/server.js", false],
        ["#node_modules", false], // comment lines are not patterns
        ["node_modules/x", true],
      ],
    ],
    [
      "moby__moby__.dockerignore",
      [
        [".git/config", true],
        ["bundles/binary/dockerd", true],
        ["cmd/dockerd/rsrc_amd64.syso", true],
        ["cmd/dockerd/sub/rsrc.syso", false],
        ["cmd/dockerd/main.go", false],
      ],
    ],
    [
      "containers__buildah__tests__bud__dockerignore3__.dockerignore",
      [
        ["test2.txt", false], // !test*
        ["test1.txt", true],
        ["src/a.go", false], // !src
        ["src/etc/passwd", true],
        ["src/x.in", true], // **/*.in
        ["README.md", false], // !README*.md
        ["README-secret.md", true],
        ["other", true],
      ],
    ],
    [
      "containers__buildah__tests__conformance__testdata__dockerignore__allowlist__alternating-other__.dockerignore",
      [
        ["file", true],
        ["subdir/file", false],
        ["subdir/subdir1/file", true],
        ["subdir/subdir1/subdir2/file", false],
        ["subdir/subdir1/subdir2/subdir3/subdir4/subdir5/file", false],
        ["subdir/subdir1/subdir2/subdir3/subdir4/subdir5/other", true],
      ],
    ],
    [
      "GoogleContainerTools__kaniko__integration__dockerfiles__Dockerfile_dockerignore_relative.dockerignore",
      [
        ["ignore_relative", false], // ignore_relative/** does not match the directory itself
        ["ignore_relative/foo", false],
        ["ignore_relative/bar", true],
      ],
    ],
  ];

  describe.each(spot)("%s", (name, cases) => {
    const matcher = present ? load(name) : new IgnoreMatcher([]);
    it.each(cases)("%s excluded: %s", (path, excluded) => {
      expect(matcher.matches(path)).toBe(excluded);
    });
  });

  it("skips directories only when fsutil would", () => {
    const allow = load(
      "containers__buildah__tests__conformance__testdata__dockerignore__allowlist__alternating-nothing__.dockerignore",
    );
    expect(allow.canSkipDir("other")).toBe(true);
    expect(allow.canSkipDir("subdir")).toBe(false);
    expect(allow.canSkipDir("subdir/subdir1")).toBe(false);
    // zipkin re-includes globs (!**/pom.xml): nothing may be skipped.
    const zipkin = load("openzipkin__zipkin__.dockerignore");
    expect(zipkin.canSkipDir("node_modules")).toBe(false);
    const moby = load("moby__moby__.dockerignore");
    expect(moby.canSkipDir(".git")).toBe(true);
  });
});
