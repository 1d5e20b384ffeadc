import { describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { exposedPorts } from "../../../src/plan/expose.js";

// BuildKit's dockerfile2llb parsePortSpecs (dispatch_expose.go) is the reference.
describe("exposedPorts", () => {
  it("defaults to tcp, lowercases the protocol and keeps the order", () => {
    expect(exposedPorts(["80", "53/UDP", "9000/sctp"])).toEqual(["80/tcp", "53/udp", "9000/sctp"]);
  });

  it("expands a range into each of its ports", () => {
    expect(exposedPorts(["8000-8002/udp"])).toEqual(["8000/udp", "8001/udp", "8002/udp"]);
  });

  it("keeps only the container port of ip:host:container specs, IPv6 included", () => {
    expect(exposedPorts(["127.0.0.1:8080:80", "8081:81/udp", "[::1]:8082:82", "7000-7001:70"])).toEqual(["80/tcp", "81/udp", "82/tcp", "70/tcp"]);
  });

  it("refuses what BuildKit refuses, with its messages", () => {
    const cases: [string, string][] = [
      ["80/http", "invalid proto: http"],
      ["/tcp", "invalid proto: "],
      ["abc", "invalid containerPort: abc"],
      ["70000", "invalid containerPort: 70000"],
      ["90-80", "invalid containerPort: 90-80"],
      ["x:80", "invalid hostPort: x"],
      ["8000-8001:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"],
      ["300.1.1.1:80:80", "invalid IP address: 300.1.1.1"],
    ];
    for (const [spec, message] of cases) {
      let err: unknown;
      try {
        exposedPorts([spec]);
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(BuildError);
      expect((err as BuildError).message, spec).toBe(message);
    }
  });
});
