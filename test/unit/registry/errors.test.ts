import { describe, expect, test } from "vitest";
import { displayName, formatStatus, parseErrorBody, redactUrl, registryError, unreachableError } from "../../../src/registry/errors.js";

describe("parseErrorBody", () => {
  test("distribution's error list", () => {
    expect(
      parseErrorBody('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"DENIED","message":"no"}]}'),
    ).toEqual([
      { code: "MANIFEST_UNKNOWN", message: "manifest unknown" },
      { code: "DENIED", message: "no" },
    ]);
  });

  test("OAuth2 and token-server shapes", () => {
    expect(parseErrorBody('{"error":"invalid_grant","error_description":"bad token"}')).toEqual([{ code: "", message: "invalid_grant: bad token" }]);
    expect(parseErrorBody('{"details":"incorrect username or password"}')).toEqual([{ code: "", message: "incorrect username or password" }]);
  });

  test("HTML and text bodies become shortened text; empty bodies nothing", () => {
    expect(parseErrorBody("<html><body><h1>502 Bad Gateway</h1></body></html>")).toEqual([{ code: "", message: "502 Bad Gateway" }]);
    expect(parseErrorBody("x".repeat(1000))[0]?.message).toHaveLength(303);
    expect(parseErrorBody("   ")).toEqual([]);
  });
});

describe("redactUrl", () => {
  test("drops userinfo, query and fragment", () => {
    expect(redactUrl("https://user:secret@example.com/v2/x?X-Amz-Signature=abc#frag")).toBe("https://example.com/v2/x?...");
    expect(redactUrl("http://127.0.0.1:5000/token")).toBe("http://127.0.0.1:5000/token");
    expect(redactUrl("not a url secret")).toBe("<url>");
  });
});

describe("registryError", () => {
  const ctx = { host: "127.0.0.1:5000", repository: "foo", action: "pulling manifest", pull: true };

  test("Docker's pull access denied for unknown repositories", () => {
    const e = registryError(ctx, 404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
    expect(e.code).toBe("REGISTRY_ERROR");
    expect(e.message).toBe("pull access denied for 127.0.0.1:5000/foo: 404 Not Found: NAME_UNKNOWN: repository name not known to registry");
    expect(e.hint).toContain("login");
  });

  test("unknown manifests name the reference", () => {
    const e = registryError({ ...ctx, reference: "v1" }, 404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    expect(e.message).toBe("manifest for 127.0.0.1:5000/foo:v1 not found: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown");
  });

  test("401 and 403 are REGISTRY_AUTH", () => {
    expect(registryError({ ...ctx, pull: false, action: "pushing blob to" }, 401, "").code).toBe("REGISTRY_AUTH");
    const e = registryError({ ...ctx, pull: false, action: "pushing manifest" }, 403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
    expect(e.code).toBe("REGISTRY_AUTH");
    expect(e.message).toBe("pushing manifest 127.0.0.1:5000/foo: 403 Forbidden: DENIED: requested access to the resource is denied");
  });

  test("digest complaints are DIGEST_MISMATCH; other statuses REGISTRY_ERROR", () => {
    expect(registryError({ ...ctx, pull: false }, 400, '{"errors":[{"code":"DIGEST_INVALID","message":"x"}]}').code).toBe("DIGEST_MISMATCH");
    const e = registryError({ host: "h", action: "checking registry" }, 500, "");
    expect(e.code).toBe("REGISTRY_ERROR");
    expect(e.message).toBe("checking registry h: 500 Internal Server Error");
  });

  test("names", () => {
    expect(displayName({ host: "h", repository: "r", reference: "sha256:abc" })).toBe("h/r@sha256:abc");
    expect(displayName({ host: "h", repository: "r", reference: "t" })).toBe("h/r:t");
    expect(displayName({ host: "h" })).toBe("h");
    expect(formatStatus(418)).toBe("418 I'm a Teapot");
    expect(formatStatus(599)).toBe("599");
  });

  test("unreachable registries, with a hint for TLS to a plain-HTTP port", () => {
    const e = unreachableError("example.com:5000", Object.assign(new Error("SSL routines::wrong version number"), { code: "ERR_SSL_WRONG_VERSION_NUMBER" }));
    expect(e.code).toBe("REGISTRY_UNREACHABLE");
    expect(e.message).toContain("cannot reach registry example.com:5000");
    expect(e.hint).toContain("--insecure-registry example.com:5000");
  });
});
