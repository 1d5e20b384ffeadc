import { isIP } from "node:net";
import { BuildError } from "../diagnostics/build-error.js";
import type { SourceRange } from "../diagnostics/source.js";

/**
 * The container ports an `EXPOSE` instruction declares, as BuildKit's
 * `parsePortSpecs` (dockerfile2llb) reads them: each spec is
 * `[ip:][hostPort:]containerPort[/proto]`; only the container port counts,
 * a range (`8000-8002`) stands for each of its ports, and the protocol is
 * lowercased and must be tcp, udp or sctp. Returns `port/proto` strings in
 * order, duplicates kept (the config's map drops them, the history line
 * shows them, as BuildKit's does).
 *
 * @throws BuildError DF_ARGS with BuildKit's message for a spec it refuses.
 */
export function exposedPorts(specs: readonly string[], range?: SourceRange): string[] {
  const fail = (message: string): BuildError => new BuildError("DF_ARGS", message, range ? { locations: [range] } : {});
  const out: string[] = [];
  for (const raw of specs) {
    const parts = splitParts(raw);
    let ip = parts.ip;
    const { hostPort } = parts;
    // splitProtoPort: no port means no protocol either (then refused as invalid proto).
    const slash = parts.containerPort.indexOf("/");
    const containerPort = slash < 0 ? parts.containerPort : parts.containerPort.slice(0, slash);
    const written = slash < 0 ? "" : parts.containerPort.slice(slash + 1);
    const proto = (containerPort === "" ? "" : written === "" ? "tcp" : written).toLowerCase();
    if (proto !== "tcp" && proto !== "udp" && proto !== "sctp") throw fail(`invalid proto: ${proto}`);
    if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (ip !== "" && isIP(ip) === 0) throw fail(`invalid IP address: ${ip}`);
    if (containerPort === "") throw fail(`no port specified: ${raw}<empty>`);
    const container = portRange(containerPort);
    if (container === undefined) throw fail(`invalid containerPort: ${containerPort}`);
    if (hostPort !== "") {
      const host = portRange(hostPort);
      if (host === undefined) throw fail(`invalid hostPort: ${hostPort}`);
      // A host range may only differ in size from a single container port (a dynamic range to allocate from).
      if (container.end - container.start !== host.end - host.start && container.end !== container.start) {
        throw fail(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
      }
    }
    for (let p = container.start; p <= container.end; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

/** `ip:host:container` → its three parts; extra colons belong to an IPv6 address. */
function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(":");
  const n = parts.length;
  if (n === 1) return { ip: "", hostPort: "", containerPort: parts[0]! };
  if (n === 2) return { ip: "", hostPort: parts[0]!, containerPort: parts[1]! };
  return { ip: parts.slice(0, n - 2).join(":"), hostPort: parts[n - 2]!, containerPort: parts[n - 1]! };
}

/** `80` or `8000-8002` as a 16-bit range; undefined when invalid (Go's ParseUint(s, 10, 16) rules). */
function portRange(text: string): { start: number; end: number } | undefined {
  const parse = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined);
  if (!text.includes("-")) {
    const p = parse(text);
    return p === undefined ? undefined : { start: p, end: p };
  }
  const pieces = text.split("-");
  if (pieces.length !== 2) return undefined;
  const [start, end] = [parse(pieces[0]!), parse(pieces[1]!)];
  if (start === undefined || end === undefined || end < start) return undefined;
  return { start, end };
}
