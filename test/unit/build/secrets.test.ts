import { describe, expect, it } from "vitest";
import { parseSecretSpec } from "../../../src/build/secrets.js";

// buildx's parseSecret and BuildKit's secretsprovider are the reference.
describe("parseSecretSpec", () => {
  it("reads id with src/source, env, and type", () => {
    expect(parseSecretSpec("id=a,src=f.txt", {})).toEqual({ id: "a", file: "f.txt" });
    expect(parseSecretSpec("id=a,source=f.txt", {})).toEqual({ id: "a", file: "f.txt" });
    expect(parseSecretSpec("id=a,env=VAR", {})).toEqual({ id: "a", env: "VAR" });
    expect(parseSecretSpec("id=a,type=env,src=VAR", {})).toEqual({ id: "a", env: "VAR" });
    expect(parseSecretSpec("type=file,id=a,src=f", {})).toEqual({ id: "a", file: "f" });
  });

  it("with only an id, takes the variable of that name if set, else the file", () => {
    expect(parseSecretSpec("id=API_TOKEN", { API_TOKEN: "x" })).toEqual({ id: "API_TOKEN", env: "API_TOKEN" });
    expect(parseSecretSpec("id=API_TOKEN", {})).toEqual({ id: "API_TOKEN", file: "API_TOKEN" });
  });

  it("refuses what buildx refuses", () => {
    expect(() => parseSecretSpec("src=f", {})).toThrow(/secret ID missing/);
    expect(() => parseSecretSpec("id=a,src=f,env=V", {})).toThrow(/both file path and env/);
    expect(() => parseSecretSpec("id=a,type=ssh", {})).toThrow(/unsupported secret type/);
    expect(() => parseSecretSpec("id=a,color=red", {})).toThrow(/unexpected key 'color'/);
    expect(() => parseSecretSpec("id=a,oops", {})).toThrow(/invalid field 'oops'/);
  });
});
