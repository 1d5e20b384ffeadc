import { describe, expect, test } from "vitest";
import { mergeScopes, parseWwwAuthenticate, repositoryScope } from "../../../src/registry/auth.js";

describe("parseWwwAuthenticate", () => {
  test("Docker Hub's Bearer challenge", () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'),
    ).toEqual([
      {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
      },
    ]);
  });

  test("commas and spaces inside quoted values", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://127.0.0.1:1/token",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"');
    expect(c?.params.scope).toBe("repository:a/b:pull,push repository:c:pull");
    expect(c?.params.error).toBe("insufficient_scope");
  });

  test("Basic challenge; scheme and parameter names are case-insensitive", () => {
    expect(parseWwwAuthenticate('BASIC Realm="registry"')).toEqual([{ scheme: "basic", params: { realm: "registry" } }]);
  });

  test("unquoted values, whitespace around = and after commas", () => {
    expect(parseWwwAuthenticate("Bearer realm = https://x/token ,  service=svc")).toEqual([
      { scheme: "bearer", params: { realm: "https://x/token", service: "svc" } },
    ]);
  });

  test("backslash escapes inside quoted strings", () => {
    expect(parseWwwAuthenticate('Basic realm="a \\"quoted\\" \\\\ realm"')[0]?.params.realm).toBe('a "quoted" \\ realm');
  });

  test("several challenges in one header", () => {
    const cs = parseWwwAuthenticate('Basic realm="r1", Bearer realm="https://t/token",service="s"');
    expect(cs.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(cs[1]?.params).toEqual({ realm: "https://t/token", service: "s" });
  });

  test("several headers", () => {
    const cs = parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b"']);
    expect(cs.map((c) => [c.scheme, c.params.realm])).toEqual([
      ["basic", "a"],
      ["bearer", "b"],
    ]);
  });

  test("token68 challenges, with and without padding", () => {
    expect(parseWwwAuthenticate("Negotiate abc==, Basic realm=x")).toEqual([
      { scheme: "negotiate", params: {}, token68: "abc==" },
      { scheme: "basic", params: { realm: "x" } },
    ]);
    expect(parseWwwAuthenticate("Negotiate abc")).toEqual([{ scheme: "negotiate", params: {}, token68: "abc" }]);
  });

  test("a scheme without parameters", () => {
    expect(parseWwwAuthenticate("Bearer")).toEqual([{ scheme: "bearer", params: {} }]);
  });

  test("malformed input never throws", () => {
    for (const s of ["", ",,,", '"', 'Bearer realm="unterminated', "Bearer realm=", "= = =", "Bearer ,,, realm=x"]) {
      expect(() => parseWwwAuthenticate(s)).not.toThrow();
    }
    expect(parseWwwAuthenticate('Bearer realm="unterminated')[0]?.params.realm).toBe("unterminated");
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });
});

describe("scopes", () => {
  test("repositoryScope", () => {
    expect(repositoryScope("library/alpine", ["pull"])).toBe("repository:library/alpine:pull");
    expect(repositoryScope("a", ["pull", "push"])).toBe("repository:a:pull,push");
  });

  test("mergeScopes unions actions per resource, splits space-separated lists, sorts", () => {
    expect(mergeScopes(["repository:b:push", "repository:a:pull", "repository:b:pull", "repository:a:pull"])).toEqual([
      "repository:a:pull",
      "repository:b:pull,push",
    ]);
    expect(mergeScopes(["repository:a:pull repository:c:pull", "garbage", "registry:catalog:*"])).toEqual([
      "registry:catalog:*",
      "repository:a:pull",
      "repository:c:pull",
    ]);
  });
});
