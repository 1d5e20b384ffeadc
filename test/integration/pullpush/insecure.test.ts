/**
 * Plain HTTP only where allowed: loopback always, other hosts only when
 * listed with `--insecure-registry` or `TSBUILD_INSECURE_REGISTRIES`. The
 * registry is reached through a proxy on this machine's non-loopback
 * address, which tsbuild must treat as a TLS host by default.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildBusyboxImage, type TestImage } from "../../helpers/busybox-image.js";
import { runCli } from "../../helpers/cli-io.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { skopeoPush } from "../../helpers/skopeo.js";

/** An IPv4 address of this machine that is not loopback, if it has one. */
const address = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;

let registry: TestRegistry;
let proxy: FaultProxy;
let image: TestImage;
let dir: string;

describe.skipIf(address === undefined)("insecure registries", () => {
  beforeAll(async () => {
    [registry, image, dir] = await Promise.all([startRegistry(), buildBusyboxImage(), mkdtemp(join(tmpdir(), "tsbuild-insecure-test-"))]);
    proxy = await startFaultProxy({ upstream: registry.host, listenHost: address });
    await skopeoPush(image, { host: registry.host, repository: "plain/busybox", tag: "v1" });
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { HOME: dir, DOCKER_CONFIG: join(dir, "docker"), ...env } });

  test("a non-loopback host is spoken to over TLS unless listed; the error says how to list it", async () => {
    const ref = `${proxy.host}/plain/busybox:v1`;
    const refused = await cli(["pull", "--root", join(dir, "s1"), ref]);
    expect(refused.code, refused.err).toBe(1);
    expect(refused.err).toContain(`cannot reach registry ${proxy.host}`);
    expect(refused.err).toContain(`--insecure-registry ${proxy.host}`);
    expect(proxy.requests.every((r) => r.status === 0)).toBe(true); // no HTTP request got through

    const byFlag = await cli(["pull", "--root", join(dir, "s2"), "--insecure-registry", proxy.host, ref]);
    expect(byFlag.err).not.toContain("error");
    expect(byFlag.code).toBe(0);
    expect(byFlag.out).toContain(`Digest: ${image.manifestBlob.descriptor.digest}`);

    // The variable takes a comma-separated list; an entry without a port matches any port.
    const byEnv = await cli(["pull", "--root", join(dir, "s3"), ref], { TSBUILD_INSECURE_REGISTRIES: `other.example, ${address ?? ""}` });
    expect(byEnv.code).toBe(0);

    const pushed = await cli(["push", "--root", join(dir, "s2"), "--insecure-registry", `http://${proxy.host}/`, ref]);
    expect(pushed.code).toBe(0);
    expect(pushed.out).toBe(`${ref}: digest: ${image.manifestBlob.descriptor.digest} size: ${image.manifestBlob.bytes.length}\n`);
  });
});
