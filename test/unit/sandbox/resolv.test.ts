import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { containerResolvConf, hostsFileContent, readHostResolvConf } from "../../../src/sandbox/resolv.js";

describe("hostsFileContent", () => {
  it("maps localhost and the hostname, then extra hosts", () => {
    expect(hostsFileContent("buildkitsandbox")).toBe(
      "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    expect(hostsFileContent("h", [{ host: "registry.local", ip: "10.0.0.5" }])).toBe(
      "127.0.0.1\tlocalhost h\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.5\tregistry.local\n",
    );
  });
});

describe("containerResolvConf", () => {
  it("drops loopback nameservers when the container has its own network", () => {
    const host = "search corp.example\nnameserver 127.0.0.53\nnameserver 10.1.2.3\nnameserver ::1\noptions edns0\n";
    expect(containerResolvConf(host, "none")).toBe("search corp.example\nnameserver 10.1.2.3\noptions edns0\n");
  });

  it("falls back to public resolvers when nothing usable is left", () => {
    const out = containerResolvConf("nameserver 127.0.0.1\nsearch lan\n", "none");
    expect(out).toBe(
      "search lan\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n",
    );
    expect(containerResolvConf("", "none")).toContain("nameserver 8.8.8.8");
  });

  it("drops zoned link-local IPv6 nameservers", () => {
    expect(containerResolvConf("nameserver fe80::1%eth0\nnameserver 10.0.0.1\n", "none")).toBe(
      "nameserver 10.0.0.1\n",
    );
  });

  it("keeps the host's file as is with the host network", () => {
    const host = "nameserver 127.0.0.53\noptions trust-ad\n";
    expect(containerResolvConf(host, "host")).toBe(host);
    expect(containerResolvConf("search x\n", "host")).toContain("nameserver 8.8.8.8");
  });
});

describe("readHostResolvConf", () => {
  it("reads the host file, preferring systemd-resolved's upstream list over its stub", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tsbuild-resolv-"));
    try {
      const main = join(dir, "resolv.conf");
      const upstream = join(dir, "upstream.conf");
      await writeFile(main, "nameserver 10.9.8.7\n");
      expect(await readHostResolvConf({ path: main, systemdResolvedPath: upstream })).toBe("nameserver 10.9.8.7\n");
      await writeFile(main, "nameserver 127.0.0.53\noptions edns0\n");
      expect(await readHostResolvConf({ path: main, systemdResolvedPath: upstream })).toBe(
        "nameserver 127.0.0.53\noptions edns0\n",
      );
      await writeFile(upstream, "nameserver 192.0.2.1\n");
      expect(await readHostResolvConf({ path: main, systemdResolvedPath: upstream })).toBe("nameserver 192.0.2.1\n");
      expect(await readHostResolvConf({ path: join(dir, "missing") })).toBe("");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
