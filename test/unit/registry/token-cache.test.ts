import { describe, expect, test } from "vitest";
import { TokenCache } from "../../../src/registry/auth.js";

describe("TokenCache", () => {
  test("finds unexpired tokens whose scopes cover the request", () => {
    let now = 1000;
    const cache = new TokenCache({ now: () => now });
    cache.put("k", { token: "pp", scopes: ["repository:a:pull,push"], expiresAt: 5000 });
    expect(cache.find("k", ["repository:a:pull"])?.token).toBe("pp");
    expect(cache.find("k", ["repository:a:push"])?.token).toBe("pp");
    expect(cache.find("k", ["repository:b:pull"])).toBeUndefined();
    expect(cache.find("k", ["repository:a:pull", "repository:b:pull"])).toBeUndefined();
    expect(cache.find("other", ["repository:a:pull"])).toBeUndefined();
    expect(cache.find("k", [])?.token).toBe("pp");
    now = 5000;
    expect(cache.find("k", ["repository:a:pull"])).toBeUndefined();
  });

  test("wildcard actions and invalidation", () => {
    const cache = new TokenCache({ now: () => 0 });
    cache.put("k", { token: "star", scopes: ["repository:a:*"], expiresAt: 10 });
    expect(cache.find("k", ["repository:a:pull,push,delete"])?.token).toBe("star");
    cache.invalidate("star");
    expect(cache.find("k", ["repository:a:pull"])).toBeUndefined();
  });
});
