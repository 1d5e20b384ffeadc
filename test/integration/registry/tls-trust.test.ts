import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectOption, extraTrustContext } from "../../../src/registry/tls-trust.js";
import { UndiciAgent, undiciRequest } from "../../../src/registry/undici-lite.js";

// A real TLS server whose certificate is signed by a private CA (made with
// openssl): only a client trusting that CA can talk to it.
describe("extra CA certificates (TSBUILD_EXTRA_CA_CERTS)", () => {
  let dir: string;
  let server: Server;
  let url: URL;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsbuild-tls-"));
    const sh = (args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tsbuild test CA"]);
    sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
    sh(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]);
    server = createServer({ key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.pem")) }, (_req, res) => res.end("trusted"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fetchWith(env: NodeJS.ProcessEnv): Promise<string> {
    const agent = new UndiciAgent({ connect: connectOption(5_000, env) });
    try {
      const res = await undiciRequest(url, { method: "GET", dispatcher: agent });
      return await res.body.text();
    } finally {
      await agent.close();
    }
  }

  test("a connection trusts the CA file named by TSBUILD_EXTRA_CA_CERTS", async () => {
    expect(await fetchWith({ TSBUILD_EXTRA_CA_CERTS: join(dir, "ca.pem") })).toBe("trusted");
  });

  test("without it, the private CA is not trusted", async () => {
    await expect(fetchWith({})).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  test("an unreadable file is ignored, as Node ignores an unreadable NODE_EXTRA_CA_CERTS", async () => {
    const env = { TSBUILD_EXTRA_CA_CERTS: join(dir, "missing.pem") };
    expect(extraTrustContext(env)).toBeUndefined();
    await expect(fetchWith(env)).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  test("the TLS context is built once per file and reused by every connection", () => {
    const context = extraTrustContext({ TSBUILD_EXTRA_CA_CERTS: join(dir, "ca.pem") });
    expect(context).toBeDefined();
    expect(extraTrustContext({ TSBUILD_EXTRA_CA_CERTS: join(dir, "ca.pem") })).toBe(context);
  });
});
