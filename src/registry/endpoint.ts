/**
 * Which scheme to talk to a registry host with. TLS is the default
 * everywhere; plain HTTP only for loopback hosts (a registry on this
 * machine, as in tests and local development, where TLS protects nothing)
 * and for hosts the user explicitly lists as insecure.
 */
import { isIP } from "node:net";

/** Environment variable holding a comma-separated list of insecure registry hosts. */
export const INSECURE_REGISTRIES_ENV = "TSBUILD_INSECURE_REGISTRIES";

/**
 * Splits a host into hostname and port: `127.0.0.1:5000` → `127.0.0.1`,
 * `5000`; `[::1]:5000` → `::1`, `5000`; `::1` → `::1`; `example.com` →
 * `example.com`, undefined. Hostnames are lowercased.
 */
export function splitHostPort(host: string): { hostname: string; port: string | undefined } {
  const h = host.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
  if (bracketed !== null) return { hostname: bracketed[1] ?? "", port: bracketed[2] };
  // More than one colon without brackets: a bare IPv6 address, no port.
  if ((h.match(/:/g) ?? []).length > 1) return { hostname: h, port: undefined };
  const i = h.lastIndexOf(":");
  if (i >= 0 && /^\d+$/.test(h.slice(i + 1))) return { hostname: h.slice(0, i), port: h.slice(i + 1) };
  return { hostname: h, port: undefined };
}

/** True for `localhost`, `*.localhost`, any `127.0.0.0/8` address, and `::1`. */
export function isLoopbackHost(host: string): boolean {
  const { hostname } = splitHostPort(host);
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  if (isIP(hostname) === 4) return hostname.startsWith("127.");
  if (isIP(hostname) === 6) return hostname === "::1" || hostname === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * Parses a comma-separated insecure-registry list (the
 * `TSBUILD_INSECURE_REGISTRIES` format): entries are trimmed, lowercased,
 * stripped of a `http://`/`https://` prefix and trailing slashes; empty
 * entries are dropped.
 */
export function parseInsecureRegistries(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((s) => s.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, ""))
    .filter((s) => s !== "");
}

/**
 * True when `host` may be spoken to over plain HTTP: loopback, or listed in
 * `insecureRegistries`. A list entry with a port matches that host:port
 * only; an entry without a port matches the hostname on any port.
 */
export function isInsecureHost(host: string, insecureRegistries: readonly string[] = []): boolean {
  if (isLoopbackHost(host)) return true;
  const target = splitHostPort(host);
  return insecureRegistries.some((entry) => {
    const e = splitHostPort(entry.replace(/^https?:\/\//i, "").replace(/\/+$/, ""));
    return e.hostname === target.hostname && (e.port === undefined || e.port === target.port);
  });
}

/** `http://HOST` or `https://HOST` per {@link isInsecureHost}, without a trailing slash. */
export function registryBaseUrl(host: string, insecureRegistries: readonly string[] = []): string {
  const scheme = isInsecureHost(host, insecureRegistries) ? "http" : "https";
  const { hostname, port } = splitHostPort(host);
  // A bare IPv6 address must be bracketed to be a URL authority.
  const authority = isIP(hostname) === 6 ? `[${hostname}]${port === undefined ? "" : `:${port}`}` : host;
  return `${scheme}://${authority}`;
}

/** Sources of the insecure-registry list, for {@link insecureRegistriesFrom}. */
export interface InsecureRegistrySources {
  /** Values of repeated `--insecure-registry` flags (each may itself be comma-separated). */
  readonly flags?: readonly string[];
  /** Environment holding {@link INSECURE_REGISTRIES_ENV}. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The insecure-registry list from `--insecure-registry` flags plus `TSBUILD_INSECURE_REGISTRIES`, deduplicated. */
export function insecureRegistriesFrom(sources: InsecureRegistrySources = {}): string[] {
  const env = sources.env ?? process.env;
  const all = [...(sources.flags ?? []).flatMap((f) => parseInsecureRegistries(f)), ...parseInsecureRegistries(env[INSECURE_REGISTRIES_ENV])];
  return [...new Set(all)];
}
