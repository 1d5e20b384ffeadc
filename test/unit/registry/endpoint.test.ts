import { describe, expect, test } from "vitest";
import { insecureRegistriesFrom, isInsecureHost, isLoopbackHost, parseInsecureRegistries, registryBaseUrl, splitHostPort } from "../../../src/registry/endpoint.js";

describe("endpoint", () => {
  test("splitHostPort", () => {
    expect(splitHostPort("127.0.0.1:5000")).toEqual({ hostname: "127.0.0.1", port: "5000" });
    expect(splitHostPort("[::1]:5000")).toEqual({ hostname: "::1", port: "5000" });
    expect(splitHostPort("::1")).toEqual({ hostname: "::1", port: undefined });
    expect(splitHostPort("Example.COM")).toEqual({ hostname: "example.com", port: undefined });
  });

  test("loopback hosts", () => {
    for (const h of ["localhost", "localhost:5000", "LOCALHOST:1", "x.localhost", "127.0.0.1", "127.1.2.3:80", "[::1]:5000", "::1"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["example.com", "10.0.0.1:5000", "128.0.0.1", "localhost.example.com", "[::2]:5000", "127.example.com"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  test("insecure registries from the flag/env list", () => {
    const list = parseInsecureRegistries(" reg.internal:5000, http://other.lan/ ,,");
    expect(list).toEqual(["reg.internal:5000", "other.lan"]);
    expect(isInsecureHost("reg.internal:5000", list)).toBe(true);
    expect(isInsecureHost("reg.internal:5001", list)).toBe(false);
    expect(isInsecureHost("other.lan:443", list)).toBe(true);
    expect(isInsecureHost("registry-1.docker.io", list)).toBe(false);
    expect(parseInsecureRegistries(undefined)).toEqual([]);
  });

  test("scheme: TLS unless loopback or listed", () => {
    expect(registryBaseUrl("127.0.0.1:5000")).toBe("http://127.0.0.1:5000");
    expect(registryBaseUrl("::1")).toBe("http://[::1]");
    expect(registryBaseUrl("registry-1.docker.io")).toBe("https://registry-1.docker.io");
    expect(registryBaseUrl("reg.internal:5000", ["reg.internal"])).toBe("http://reg.internal:5000");
  });

  test("flags and TSBUILD_INSECURE_REGISTRIES combine", () => {
    expect(insecureRegistriesFrom({ flags: ["a:5000", "b,c"], env: { TSBUILD_INSECURE_REGISTRIES: "c, d" } })).toEqual(["a:5000", "b", "c", "d"]);
    expect(insecureRegistriesFrom({ env: {} })).toEqual([]);
  });
});
