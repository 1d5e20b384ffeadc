import { readFile } from "node:fs/promises";
import type { NetworkMode } from "./sandbox.js";

/**
 * The `/etc/hosts` and `/etc/resolv.conf` a RUN step sees. Both are generated
 * by tsbuild and bind-mounted read-only, never taken from (or written into)
 * the image, as BuildKit does.
 */

/** An extra `/etc/hosts` entry (`RUN --add-host`, `--add-host`). */
export interface HostEntry {
  /** Host name. */
  readonly host: string;
  /** IPv4 or IPv6 address. */
  readonly ip: string;
}

/**
 * `/etc/hosts` content: BuildKit's, i.e. `localhost` and the container's
 * host name on 127.0.0.1, the IPv6 loopback names on ::1, then the extra
 * entries. Pure.
 */
export function hostsFileContent(hostname: string, extraHosts: readonly HostEntry[] = []): string {
  let text = `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  for (const entry of extraHosts) text += `${entry.ip}\t${entry.host}\n`;
  return text;
}

/** Nameservers Docker falls back to when none usable is left. */
const FALLBACK_NAMESERVERS = [
  "nameserver 8.8.8.8",
  "nameserver 8.8.4.4",
  "nameserver 2001:4860:4860::8888",
  "nameserver 2001:4860:4860::8844",
];

/** `nameserver 127.x.y.z` and `nameserver ::1` lines (libnetwork's localhostNSRegexp). */
const LOCALHOST_NAMESERVER = /^nameserver\s+(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)\s*\n*/gm;
/** IPv6 link-local nameservers with a zone (`fe80::1%eth0`), whose zone means nothing in another netns. */
const ZONED_NAMESERVER = /^nameserver\s+[0-9A-Fa-f:.]+%\S*\s*\n*/gm;
/** Any nameserver line. */
const NAMESERVER = /^\s*nameserver\s+\S+/m;

/**
 * The container's resolv.conf from the host's (libnetwork `FilterResolvDNS`,
 * as BuildKit uses it). With the host network the host's file is used as is.
 * Otherwise loopback nameservers are removed, since in the container's own
 * network namespace 127.0.0.53 is the container itself, not the host's
 * resolver; if no nameserver is left, Google's public ones are added. Pure.
 */
export function containerResolvConf(hostResolvConf: string, network: NetworkMode): string {
  if (network === "host" && NAMESERVER.test(hostResolvConf)) return hostResolvConf;
  let text = hostResolvConf.replace(LOCALHOST_NAMESERVER, "").replace(ZONED_NAMESERVER, "");
  if (!NAMESERVER.test(text)) {
    text = `${text}\n${FALLBACK_NAMESERVERS.join("\n")}\n`;
  }
  return text;
}

/** Options for {@link readHostResolvConf}. */
export interface ReadHostResolvConfOptions {
  /** The host file to read (default `/etc/resolv.conf`). */
  readonly path?: string;
  /**
   * With systemd-resolved, the file listing the real upstream servers
   * (default `/run/systemd/resolve/resolv.conf`).
   */
  readonly systemdResolvedPath?: string;
}

/**
 * The host's resolv.conf, as libnetwork's `resolvconf.Path` picks it: when
 * `/etc/resolv.conf` only points at systemd-resolved's stub (127.0.0.53),
 * the upstream list systemd-resolved maintains is used instead, since the
 * stub is unreachable from another network namespace. A missing file reads
 * as empty.
 */
export async function readHostResolvConf(options: ReadHostResolvConfOptions = {}): Promise<string> {
  const path = options.path ?? "/etc/resolv.conf";
  const resolvedPath = options.systemdResolvedPath ?? "/run/systemd/resolve/resolv.conf";
  const main = await readOptional(path);
  const nameservers = [...main.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (nameservers.length > 0 && nameservers.every((ns) => ns === "127.0.0.53")) {
    const upstream = await readOptional(resolvedPath);
    if (upstream !== "") return upstream;
  }
  return main;
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}
