/**
 * Table cases taken from github.com/distribution/reference's tests
 * (normalize_test.go: TestValidateReferenceName, TestValidateRemoteName,
 * TestParseRepositoryInfo, TestParseReferenceWithTagAndDigest,
 * TestParseAnyReference, TestNormalizedSplitHostname; reference_test.go:
 * TestReferenceParse), adapted to normalised parsing: every input goes
 * through Docker's normalisation, as `docker pull` does.
 */
import { describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import {
  parseReference,
  registryHost,
  referenceFromParts,
  repositoryOf,
  withDefaultTag,
  withDigest,
  withTag,
} from "../../../src/registry/reference.js";
import type { Digest } from "../../../src/oci/digest.js";

const F64 = "f".repeat(64);
const D1 = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";

function refError(s: string): BuildError {
  try {
    parseReference(s);
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("REF_INVALID");
    return err as BuildError;
  }
  throw new Error(`expected ${JSON.stringify(s)} to be rejected`);
}

describe("parseReference: valid names (normalize_test.go TestValidateReferenceName)", () => {
  const valid = [
    "docker/docker",
    "library/debian",
    "debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "Docker/docker",
    "DOCKER/docker",
    // TestValidateRemoteName
    "docker-rules/docker",
    "docker---rules/docker",
    "doc/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
  ];
  it.each(valid)("accepts %s", (s) => {
    expect(() => parseReference(s)).not.toThrow();
  });
});

describe("parseReference: invalid names (TestValidateReferenceName, TestValidateRemoteName, TestReferenceParse)", () => {
  const invalid = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
    "",
    ":justtag",
    `@sha256:${F64}`,
    "repo@sha256:ffffffffffffffffffffffffffffffffff",
    `validname@invaliddigest:${F64}`,
    "Uppercase:tag",
    "test:5000/Uppercase/lowercase:tag",
    `${"a/".repeat(128)}a:tag`,
    "aa/asdf$$^/aa",
    "[2001:db8::1]",
    "[2001:db8::1]:5000",
    "[2001:db8::1]:tag",
    "[fe80::1%eth0]:5000/repo",
    "[fe80::1%@invalidzone]:5000/repo",
    // tag grammar: must start with a word character, at most 128 characters
    "alpine:-foo",
    "alpine:.foo",
    `alpine:${"a".repeat(129)}`,
    // sha256 hex must be lowercase (go-digest)
    `alpine@sha256:${"F".repeat(64)}`,
  ];
  it.each(invalid)("rejects %s", (s) => {
    refError(s);
  });
});

describe("parseReference: normalisation (TestParseRepositoryInfo)", () => {
  const cases: { path: string; familiar: string; full: string; ambiguous?: string; domain: string }[] = [
    { path: "fooo/bar", familiar: "fooo/bar", full: "docker.io/fooo/bar", ambiguous: "index.docker.io/fooo/bar", domain: "docker.io" },
    { path: "library/ubuntu", familiar: "ubuntu", full: "docker.io/library/ubuntu", ambiguous: "library/ubuntu", domain: "docker.io" },
    { path: "nonlibrary/ubuntu", familiar: "nonlibrary/ubuntu", full: "docker.io/nonlibrary/ubuntu", domain: "docker.io" },
    { path: "other/library", familiar: "other/library", full: "docker.io/other/library", domain: "docker.io" },
    { path: "private/moonbase", familiar: "127.0.0.1:8000/private/moonbase", full: "127.0.0.1:8000/private/moonbase", domain: "127.0.0.1:8000" },
    { path: "privatebase", familiar: "127.0.0.1:8000/privatebase", full: "127.0.0.1:8000/privatebase", domain: "127.0.0.1:8000" },
    { path: "private/moonbase", familiar: "example.com/private/moonbase", full: "example.com/private/moonbase", domain: "example.com" },
    { path: "privatebase", familiar: "example.com/privatebase", full: "example.com/privatebase", domain: "example.com" },
    { path: "private/moonbase", familiar: "example.com:8000/private/moonbase", full: "example.com:8000/private/moonbase", domain: "example.com:8000" },
    { path: "privatebasee", familiar: "example.com:8000/privatebasee", full: "example.com:8000/privatebasee", domain: "example.com:8000" },
    { path: "library/ubuntu-12.04-base", familiar: "ubuntu-12.04-base", full: "docker.io/library/ubuntu-12.04-base", ambiguous: "index.docker.io/library/ubuntu-12.04-base", domain: "docker.io" },
    { path: "library/foo", familiar: "foo", full: "docker.io/library/foo", ambiguous: "docker.io/foo", domain: "docker.io" },
    { path: "library/foo/bar", familiar: "library/foo/bar", full: "docker.io/library/foo/bar", domain: "docker.io" },
    { path: "store/foo/bar", familiar: "store/foo/bar", full: "docker.io/store/foo/bar", domain: "docker.io" },
    // An uppercase first component is a domain (domains are case-insensitive).
    { path: "bar", familiar: "Foo/bar", full: "Foo/bar", domain: "Foo" },
    { path: "bar", familiar: "FOO/bar", full: "FOO/bar", domain: "FOO" },
  ];
  for (const c of cases) {
    for (const input of [c.familiar, c.full, ...(c.ambiguous === undefined ? [] : [c.ambiguous])]) {
      it(`${input} → ${c.full}`, () => {
        const ref = parseReference(input);
        expect(ref.domain).toBe(c.domain);
        expect(ref.path).toBe(c.path);
        expect(ref.name).toBe(c.full);
        expect(ref.toString()).toBe(c.full);
        expect(ref.familiar()).toBe(c.familiar);
      });
    }
  }
});

describe("parseReference: domain split (TestNormalizedSplitHostname)", () => {
  const cases: [string, string, string][] = [
    ["test.com/foo", "test.com", "foo"],
    ["test_com/foo", "docker.io", "test_com/foo"],
    ["docker/migrator", "docker.io", "docker/migrator"],
    ["test.com:8080/foo", "test.com:8080", "foo"],
    ["test-com:8080/foo", "test-com:8080", "foo"],
    ["foo", "docker.io", "library/foo"],
    ["xn--n3h.com/foo", "xn--n3h.com", "foo"],
    ["xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"],
    ["docker.io/foo", "docker.io", "library/foo"],
    ["docker.io/library/foo", "docker.io", "library/foo"],
    ["docker.io/library/foo/bar", "docker.io", "library/foo/bar"],
    ["localhost/foo", "localhost", "foo"],
    ["localhost:5000/foo/bar", "localhost:5000", "foo/bar"],
  ];
  it.each(cases)("%s → %s + %s", (input, domain, path) => {
    const ref = parseReference(input);
    expect(ref.domain).toBe(domain);
    expect(ref.path).toBe(path);
  });
});

describe("parseReference: tags and digests (TestReferenceParse, TestParseAnyReference)", () => {
  const cases: { input: string; name: string; tag?: string; digest?: string; familiar?: string }[] = [
    { input: "test_com", name: "docker.io/library/test_com" },
    { input: "test.com:tag", name: "docker.io/library/test.com", tag: "tag" },
    { input: "test.com:5000", name: "docker.io/library/test.com", tag: "5000" },
    { input: "test.com/repo:tag", name: "test.com/repo", tag: "tag" },
    { input: "test:5000/repo", name: "test:5000/repo" },
    { input: "test:5000/repo:tag", name: "test:5000/repo", tag: "tag" },
    { input: `test:5000/repo@sha256:${F64}`, name: "test:5000/repo", digest: `sha256:${F64}` },
    { input: `test:5000/repo:tag@sha256:${F64}`, name: "test:5000/repo", tag: "tag", digest: `sha256:${F64}` },
    { input: "lowercase:Uppercase", name: "docker.io/library/lowercase", tag: "Uppercase" },
    { input: `${"a/".repeat(127)}a:tag-puts-this-over-max`, name: `docker.io/${"a/".repeat(127)}a`, tag: "tag-puts-this-over-max" },
    { input: "sub-dom1.foo.com/bar/baz/quux", name: "sub-dom1.foo.com/bar/baz/quux" },
    { input: "sub-dom1.foo.com/bar/baz/quux:some-long-tag", name: "sub-dom1.foo.com/bar/baz/quux", tag: "some-long-tag" },
    { input: "b.gcr.io/test.example.com/my-app:test.example.com", name: "b.gcr.io/test.example.com/my-app", tag: "test.example.com" },
    { input: "xn--n3h.com/myimage:xn--n3h.com", name: "xn--n3h.com/myimage", tag: "xn--n3h.com" },
    { input: "foo_bar.com:8080", name: "docker.io/library/foo_bar.com", tag: "8080" },
    { input: "foo/foo_bar.com:8080", name: "docker.io/foo/foo_bar.com", tag: "8080" },
    { input: "192.168.1.1", name: "docker.io/library/192.168.1.1" },
    { input: "192.168.1.1:tag", name: "docker.io/library/192.168.1.1", tag: "tag" },
    { input: "192.168.1.1:5000", name: "docker.io/library/192.168.1.1", tag: "5000" },
    { input: "192.168.1.1/repo", name: "192.168.1.1/repo" },
    { input: "192.168.1.1:5000/repo", name: "192.168.1.1:5000/repo" },
    { input: "192.168.1.1:5000/repo:5050", name: "192.168.1.1:5000/repo", tag: "5050" },
    { input: "[2001:db8::1]/repo", name: "[2001:db8::1]/repo" },
    { input: "[2001:db8:1:2:3:4:5:6]/repo:tag", name: "[2001:db8:1:2:3:4:5:6]/repo", tag: "tag" },
    { input: "[2001:db8::1]:5000/repo", name: "[2001:db8::1]:5000/repo" },
    { input: "[2001:db8::1]:5000/repo:tag", name: "[2001:db8::1]:5000/repo", tag: "tag" },
    { input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`, name: "[2001:db8::1]:5000/repo", tag: "tag", digest: `sha256:${F64}` },
    { input: "[2001:db8::]:5000/repo", name: "[2001:db8::]:5000/repo" },
    { input: "[::1]:5000/repo", name: "[::1]:5000/repo" },
    { input: "redis", name: "docker.io/library/redis", familiar: "redis" },
    { input: "redis:latest", name: "docker.io/library/redis", tag: "latest", familiar: "redis:latest" },
    { input: `redis@${D1}`, name: "docker.io/library/redis", digest: D1, familiar: `redis@${D1}` },
    { input: "dmcgowan/myapp:latest", name: "docker.io/dmcgowan/myapp", tag: "latest", familiar: "dmcgowan/myapp:latest" },
    { input: `docker.io/dmcgowan/myapp@${D1}`, name: "docker.io/dmcgowan/myapp", digest: D1, familiar: `dmcgowan/myapp@${D1}` },
    // 63 hex digits is a name, not an identifier
    { input: "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", name: "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9" },
    { input: "dbcc1", name: "docker.io/library/dbcc1" },
    { input: "localhost:5000/x:y", name: "localhost:5000/x", tag: "y", familiar: "localhost:5000/x:y" },
    { input: `alpine:${"a".repeat(128)}`, name: "docker.io/library/alpine", tag: "a".repeat(128) },
    { input: "alpine:_x", name: "docker.io/library/alpine", tag: "_x" },
  ];
  it.each(cases)("$input", (c) => {
    const ref = parseReference(c.input);
    expect(ref.name).toBe(c.name);
    expect(ref.tag).toBe(c.tag);
    expect(ref.digest).toBe(c.digest);
    expect(ref.toString()).toBe(`${c.name}${c.tag === undefined ? "" : `:${c.tag}`}${c.digest === undefined ? "" : `@${c.digest}`}`);
    if (c.familiar !== undefined) expect(ref.familiar()).toBe(c.familiar);
    // The canonical form parses back to itself.
    expect(parseReference(ref.toString()).toString()).toBe(ref.toString());
  });

  it("keeps both tag and digest (TestParseReferenceWithTagAndDigest)", () => {
    const short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    const ref = parseReference(short);
    expect(ref.toString()).toBe(`docker.io/library/${short}`);
    expect(ref.tag).toBe("latest");
    expect(ref.digest).toBe("sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa");
    expect(ref.familiar()).toBe(short);
  });
});

describe("error messages name the rule broken", () => {
  it.each([
    ["docker/Docker", "repository name must be lowercase"],
    ["Uppercase:tag", "repository name must be lowercase"],
    ["", "at least one component"],
    [`${"a/".repeat(128)}a`, "not be more than 255 characters"],
    ["repo@sha256:ffff", "invalid digest format"],
    ["repo@sha256:ffffffffffffffffffffffffffffffffff", "invalid checksum digest length"],
    [`repo@md5:${F64}`, "unsupported digest algorithm"],
    [`repo@sha512:${"f".repeat(128)}`, "only sha256"],
    ["alpine:-x", "invalid tag format"],
    [F64, "image ID"],
    ["aa/asdf$$^/aa", "invalid reference format"],
  ])("%s", (input, fragment) => {
    const err = refError(input);
    expect(err.message).toContain(`invalid reference ${JSON.stringify(input)}`);
    expect(err.message).toContain(fragment);
  });
});

describe("helpers", () => {
  it("withDefaultTag adds latest only when there is neither tag nor digest", () => {
    expect(withDefaultTag(parseReference("alpine")).toString()).toBe("docker.io/library/alpine:latest");
    expect(withDefaultTag(parseReference("alpine:3")).toString()).toBe("docker.io/library/alpine:3");
    expect(withDefaultTag(parseReference(`alpine@${D1}`)).toString()).toBe(`docker.io/library/alpine@${D1}`);
    expect(withDefaultTag(parseReference("user/img")).familiar()).toBe("user/img:latest");
  });

  it("withTag / withDigest / repositoryOf", () => {
    const ref = parseReference("localhost:5000/x:y");
    expect(withTag(ref, "z").toString()).toBe("localhost:5000/x:z");
    expect(() => withTag(ref, "-bad")).toThrow(BuildError);
    expect(withDigest(ref, D1 as Digest).toString()).toBe(`localhost:5000/x:y@${D1}`);
    expect(repositoryOf(withDigest(ref, D1 as Digest)).toString()).toBe("localhost:5000/x");
  });

  it("referenceFromParts validates without normalising (TestWithTag)", () => {
    expect(referenceFromParts({ domain: "test.com:8000", path: "foo", tag: "TAG5" }).toString()).toBe("test.com:8000/foo:TAG5");
    expect(() => referenceFromParts({ domain: "test.com", path: "Foo" })).toThrow(/must be lowercase/);
    expect(() => referenceFromParts({ domain: "bad domain", path: "foo" })).toThrow(BuildError);
  });

  it("registryHost maps Docker Hub to registry-1.docker.io", () => {
    expect(registryHost(parseReference("alpine"))).toBe("registry-1.docker.io");
    expect(registryHost(parseReference("index.docker.io/user/img"))).toBe("registry-1.docker.io");
    expect(registryHost(parseReference("localhost:5000/x"))).toBe("localhost:5000");
    expect(registryHost(parseReference("ghcr.io/o/r"))).toBe("ghcr.io");
  });

  it("references are immutable and serialise as their canonical form", () => {
    const ref = parseReference("alpine:3");
    expect(Object.isFrozen(ref)).toBe(true);
    expect(JSON.stringify({ ref })).toBe('{"ref":"docker.io/library/alpine:3"}');
    expect(`${ref}`).toBe("docker.io/library/alpine:3");
  });

  it("long hostile input fails fast", () => {
    const start = Date.now();
    refError(`${"a-".repeat(2000)}!`);
    refError(`${"a.".repeat(2000)}a/${"b".repeat(100)}$`);
    refError("x".repeat(5000));
    expect(Date.now() - start).toBeLessThan(2000);
  });
});
