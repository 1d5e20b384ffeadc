/**
 * The small rules behind the image commands, checked against the values
 * Docker's Go code gives: go-units sizes and durations (and Go's `%g`),
 * archive naming (annotations, ref.name, RepoTags), rmi's single-reference
 * rule, archive path cleaning and layer compression sniffing.
 */
import { describe, expect, it } from "vitest";
import { nameAnnotations, nameFromAnnotations, recordableName } from "../../../src/image/archive-names.js";
import { cleanArchivePath } from "../../../src/image/archive-reader.js";
import { sniffCompression } from "../../../src/image/diff-id.js";
import { createdSince, formatGoG, humanDuration, humanSize, shortDigest, shortId } from "../../../src/image/display.js";
import { queryLabel } from "../../../src/image/find.js";
import { isSingleReference } from "../../../src/image/remove.js";
import type { Digest } from "../../../src/oci/digest.js";
import { parseReference } from "../../../src/registry/reference.js";

const D1 = `sha256:${"a".repeat(64)}` as Digest;
const D2 = `sha256:${"b".repeat(64)}` as Digest;

describe("display", () => {
  it("formats like Go's %.3g", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [4.264, "4.26"],
      [12.345, "12.3"],
      [123.4, "123"],
      [1.5, "1.5"],
      [100, "100"],
      [999.5, "1e+03"],
      [0.0001, "0.0001"],
      [0.00001234, "1.23e-05"],
    ];
    for (const [x, want] of cases) expect([x, formatGoG(x, 3)]).toEqual([x, want]);
  });

  it("sizes like go-units HumanSizeWithPrecision(size, 3)", () => {
    const cases: [number, string][] = [
      [0, "0B"],
      [999, "999B"],
      [1000, "1kB"],
      [1_056_758, "1.06MB"],
      [4_264_000, "4.26MB"],
      [12_345_678, "12.3MB"],
      [123_456_789, "123MB"],
      [7_780_000_000, "7.78GB"],
      [999_500, "1e+03kB"],
    ];
    for (const [n, want] of cases) expect([n, humanSize(n)]).toEqual([n, want]);
  });

  it("durations like go-units HumanDuration", () => {
    const s = 1000;
    const m = 60 * s;
    const h = 60 * m;
    const d = 24 * h;
    const cases: [number, string][] = [
      [0, "Less than a second"],
      [-5 * s, "Less than a second"],
      [999, "Less than a second"],
      [s, "1 second"],
      [59 * s, "59 seconds"],
      [m, "About a minute"],
      [119 * s, "About a minute"],
      [2 * m, "2 minutes"],
      [59 * m, "59 minutes"],
      [60 * m, "About an hour"],
      [89 * m, "About an hour"],
      [90 * m, "2 hours"],
      [47 * h, "47 hours"],
      [48 * h, "2 days"],
      [13 * d, "13 days"],
      [14 * d, "2 weeks"],
      [59 * d, "8 weeks"],
      [60 * d, "2 months"],
      [729 * d, "24 months"],
      [730 * d, "2 years"],
    ];
    for (const [ms, want] of cases) expect([ms, humanDuration(ms)]).toEqual([ms, want]);
    const now = new Date("2024-06-01T12:00:00Z");
    expect(createdSince(new Date("2024-06-01T10:00:00Z"), now)).toBe("2 hours ago");
    expect(createdSince(undefined, now)).toBe("N/A");
    expect(shortId(D1)).toBe("aaaaaaaaaaaa");
    expect(shortDigest(D1)).toBe("sha256:aaaaaaaaaaaa");
  });

  it("labels queries as Docker's No such image does", () => {
    expect(queryLabel("foo")).toBe("foo:latest");
    expect(queryLabel("docker.io/library/foo:1")).toBe("foo:1");
    expect(queryLabel("localhost:5000/x")).toBe("localhost:5000/x:latest");
    expect(queryLabel("sha256:abc")).toBe("sha256:abc");
    expect(queryLabel("a".repeat(64))).toBe("a".repeat(64));
    expect(queryLabel("Not Valid")).toBe("Not Valid");
  });
});

describe("archive names", () => {
  it("writes the full name for containerd and only the tag as ref.name", () => {
    expect(nameAnnotations(parseReference("busybox:1.36"))).toEqual({
      "io.containerd.image.name": "docker.io/library/busybox:1.36",
      "org.opencontainers.image.ref.name": "1.36",
    });
    expect(nameAnnotations(parseReference(`busybox@${D1}`))).toEqual({ "io.containerd.image.name": `docker.io/library/busybox@${D1}` });
  });

  it("reads names from io.containerd.image.name, or a ref.name that is a full reference", () => {
    const name = (a: Record<string, string> | undefined) => nameFromAnnotations(a)?.toString();
    expect(name(undefined)).toBeUndefined();
    expect(name({ "io.containerd.image.name": "docker.io/library/busybox:latest", "org.opencontainers.image.ref.name": "latest" })).toBe(
      "docker.io/library/busybox:latest",
    );
    expect(name({ "org.opencontainers.image.ref.name": "latest" })).toBeUndefined();
    expect(name({ "org.opencontainers.image.ref.name": "v1.0" })).toBeUndefined();
    expect(name({ "org.opencontainers.image.ref.name": "busybox:v1" })).toBe("docker.io/library/busybox:v1");
    expect(name({ "org.opencontainers.image.ref.name": "example.com/app" })).toBe("example.com/app");
    expect(() => nameFromAnnotations({ "io.containerd.image.name": "Not A Name" })).toThrow(/not a valid reference/);
  });

  it("records a bare repository as :latest, keeps the tag of tag@digest, checks digests", () => {
    expect(recordableName(parseReference("example.com/app"), D1).toString()).toBe("example.com/app:latest");
    expect(recordableName(parseReference(`app:1@${D1}`), D1).toString()).toBe("docker.io/library/app:1");
    expect(recordableName(parseReference(`app@${D1}`), D1).toString()).toBe(`docker.io/library/app@${D1}`);
    expect(() => recordableName(parseReference(`app@${D2}`), D1)).toThrow(/digest differs/);
  });
});

describe("rmi's single-reference rule", () => {
  it("is Docker's isSingleReference: one repository, at most one tag", () => {
    const refs = (...names: string[]) => names.map((n) => parseReference(n));
    expect(isSingleReference(refs())).toBe(false);
    expect(isSingleReference(refs("a:1"))).toBe(true);
    expect(isSingleReference(refs("a:1", `a@${D1}`))).toBe(true);
    expect(isSingleReference(refs(`a@${D1}`, `a@${D2}`))).toBe(true);
    expect(isSingleReference(refs("a:1", "a:2"))).toBe(false);
    expect(isSingleReference(refs("a:1", `b@${D1}`))).toBe(false);
  });
});

describe("archive reading", () => {
  it("cleans member paths and refuses ones outside the root", () => {
    expect(cleanArchivePath("./manifest.json")).toBe("manifest.json");
    expect(cleanArchivePath("blobs//sha256/")).toBe("blobs/sha256");
    expect(cleanArchivePath("/abs/x")).toBe("abs/x");
    expect(cleanArchivePath("a/../b")).toBe("b");
    expect(cleanArchivePath("../x")).toBe("x"); // clamped at the root, like filepath.Clean on "/../x"
    expect(cleanArchivePath("./")).toBeUndefined();
  });

  it("sniffs gzip and zstd magic", () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe("gzip");
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(sniffCompression(Buffer.from("ustar"))).toBe("none");
    expect(sniffCompression(Buffer.alloc(0))).toBe("none");
  });
});
