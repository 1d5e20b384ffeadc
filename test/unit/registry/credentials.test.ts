/** Docker config.json reading and writing, without credential helpers (those are in test/integration/registry). */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  DockerConfigCredentials,
  dockerAuthKey,
  dockerConfigDir,
  eraseCredentials,
  normalizeHost,
  storeCredentials,
} from "../../../src/registry/credentials.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-creds-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const write = (config: unknown): Promise<void> => writeFile(join(dir, "config.json"), JSON.stringify(config));
const provider = (): DockerConfigCredentials => new DockerConfigCredentials({ env: { DOCKER_CONFIG: dir, PATH: "" } });

describe("locating config.json", () => {
  test("$DOCKER_CONFIG, else ~/.docker", () => {
    expect(dockerConfigDir({ DOCKER_CONFIG: "/x" })).toBe("/x");
    expect(dockerConfigDir({ HOME: "/home/u" })).toBe("/home/u/.docker");
  });
});

describe("keys", () => {
  test("normalizeHost strips scheme and path", () => {
    expect(normalizeHost("https://index.docker.io/v1/")).toBe("index.docker.io");
    expect(normalizeHost("http://Reg.Example:5000/v2/")).toBe("reg.example:5000");
    expect(normalizeHost("reg.example")).toBe("reg.example");
  });

  test("Docker Hub's names all use the legacy key", () => {
    for (const h of ["docker.io", "index.docker.io", "registry-1.docker.io"]) expect(dockerAuthKey(h)).toBe("https://index.docker.io/v1/");
    expect(dockerAuthKey("ghcr.io")).toBe("ghcr.io");
  });
});

describe("DockerConfigCredentials", () => {
  test("no config file means anonymous", async () => {
    expect(await provider().get("127.0.0.1:5000")).toBeUndefined();
  });

  test("auth (base64 user:pass, password may contain colons)", async () => {
    await write({ auths: { "127.0.0.1:5000": { auth: b64("alice:pa:ss") } } });
    expect(await provider().get("127.0.0.1:5000")).toEqual({ kind: "basic", username: "alice", password: "pa:ss" });
    expect(await provider().get("127.0.0.1:5001")).toBeUndefined();
  });

  test("username/password fields and keys with a scheme", async () => {
    await write({ auths: { "https://reg.example/v2/": { username: "bob", password: "pw" } } });
    expect(await provider().get("reg.example")).toEqual({ kind: "basic", username: "bob", password: "pw" });
  });

  test("identity tokens", async () => {
    await write({ auths: { "reg.example": { auth: b64("carol:"), identitytoken: "refresh-me" } } });
    expect(await provider().get("reg.example")).toEqual({ kind: "identity-token", identityToken: "refresh-me", username: "carol" });
  });

  test("Docker Hub's legacy key serves registry-1.docker.io", async () => {
    await write({ auths: { "https://index.docker.io/v1/": { auth: b64("dave:hub") } } });
    expect(await provider().get("registry-1.docker.io")).toEqual({ kind: "basic", username: "dave", password: "hub" });
    expect(await provider().get("docker.io")).toEqual({ kind: "basic", username: "dave", password: "hub" });
  });

  test("broken files are CREDENTIALS errors that do not quote the file", async () => {
    await writeFile(join(dir, "config.json"), '{"auths": {"x": {"auth": "c2VjcmV0"}}');
    const err = await provider().get("x").catch((e: unknown) => e as Error & { code: string });
    expect(err).toMatchObject({ code: "CREDENTIALS" });
    expect((err as Error).message).not.toContain("c2VjcmV0");
    await write({ auths: { x: { auth: b64("no-colon") } } });
    await expect(provider().get("x")).rejects.toMatchObject({ code: "CREDENTIALS" });
  });

  test("helper names cannot be paths", async () => {
    await write({ credsStore: "../../bin/sh" });
    await expect(provider().get("x")).rejects.toMatchObject({ code: "CREDENTIALS", message: expect.stringContaining("invalid credential helper name") });
  });
});

describe("storeCredentials / eraseCredentials without helpers", () => {
  test("store writes Docker's format, keeps other settings, mode 0600", async () => {
    await write({ auths: { "other.example": { auth: b64("o:p") } }, psFormat: "table" });
    await storeCredentials("127.0.0.1:5000", { username: "eve", password: "s3cret" }, { configDir: dir });
    const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(config).toEqual({
      auths: { "other.example": { auth: b64("o:p") }, "127.0.0.1:5000": { auth: b64("eve:s3cret") } },
      psFormat: "table",
    });
    expect((await stat(join(dir, "config.json"))).mode & 0o777).toBe(0o600);
    expect(await provider().get("127.0.0.1:5000")).toEqual({ kind: "basic", username: "eve", password: "s3cret" });
  });

  test("store replaces entries under other spellings of the host; Hub uses its legacy key", async () => {
    await write({ auths: { "https://127.0.0.1:5000": { auth: b64("old:old") } } });
    await storeCredentials("127.0.0.1:5000", { username: "new", password: "new" }, { configDir: dir });
    await storeCredentials("docker.io", { username: "hub", password: "h" }, { configDir: dir });
    const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as { auths: Record<string, unknown> };
    expect(Object.keys(config.auths).sort()).toEqual(["127.0.0.1:5000", "https://index.docker.io/v1/"]);
  });

  test("store creates the directory and file", async () => {
    const nested = join(dir, "new", "dir");
    await storeCredentials("h", { username: "u", password: "p" }, { configDir: nested });
    expect(JSON.parse(await readFile(join(nested, "config.json"), "utf8"))).toEqual({ auths: { h: { auth: b64("u:p") } } });
  });

  test("erase removes every spelling and reports whether anything was removed", async () => {
    await write({ auths: { "127.0.0.1:5000": { auth: b64("a:b") }, "http://127.0.0.1:5000/v2/": { auth: b64("a:b") }, keep: {} } });
    expect(await eraseCredentials("127.0.0.1:5000", { configDir: dir })).toBe(true);
    expect(JSON.parse(await readFile(join(dir, "config.json"), "utf8"))).toEqual({ auths: { keep: {} } });
    expect(await eraseCredentials("127.0.0.1:5000", { configDir: dir })).toBe(false);
  });
});
