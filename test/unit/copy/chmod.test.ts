import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseChmod } from "../../../src/copy/chmod.js";
import { BuildError } from "../../../src/diagnostics/build-error.js";

describe("parseChmod: octal (BuildKit testCopyChmod / testCopyInvalidChmod)", () => {
  it.each([
    ["0644", 0o644],
    ["777", 0o777],
    ["0", 0],
    ["4755", 0o4755],
    ["07777", 0o7777],
  ])("%s sets %o on files and directories alike", (text, mode) => {
    const spec = parseChmod(text);
    expect(spec.octal).toBe(mode);
    expect(spec.apply(0o600, false)).toBe(mode);
    expect(spec.apply(0o700, true)).toBe(mode);
  });

  it.each(["64a", "10000", "8", "0x1f"])("rejects %s with BuildKit's message", (text) => {
    let err: unknown;
    try {
      parseChmod(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("DF_FLAG");
    expect((err as BuildError).message).toContain(`invalid chmod parameter: '${text}'. it should be octal string and between 0 and 07777`);
  });
});

describe("parseChmod: symbolic (dchapes-mode, BuildKit testChmodNonOctal)", () => {
  // The cases of frontend/dockerfile/dockerfile_chmod_non_octal_test.go:
  // a 0666 file and a 0124 directory, with the result `chmod` gives.
  it.each([
    ["go-w", false, 0o666, 0o644],
    ["u=rw,g=r,o=r", false, 0o666, 0o644],
    ["a+X", false, 0o666, 0o666],
    ["go-w", true, 0o124, 0o104],
    ["u+rw,g+r,o-x,o+w", true, 0o124, 0o766],
    ["a+X", true, 0o124, 0o135],
  ])("%s on %s %o gives %o", (text, isDir, from, to) => {
    expect(parseChmod(text).apply(from, isDir)).toBe(to);
  });

  // tonistiigi/dchapes-mode mode_test.go TestApply, the rows with umask 0
  // (buildkitd's): [from, to, mode]; 0o40000 marks a directory.
  const DIR = 0o40000;
  const DCHAPES: [number, number, string][] = [
    [0o777, 0o000, "="],
    [0o777, 0o777, "+"],
    [0o421, 0o421, "+"],
    [0o777, 0o777, "-"],
    [0o421, 0o421, "-"],
    [0o421, 0o1421, "+t"],
    [0o1421, 0o421, "-t"],
    [0o000, 0o400, "u+r"],
    [0o000, 0o200, "u+w"],
    [0o000, 0o100, "u+x"],
    [0o000, 0o000, "u+X"],
    [0o001, 0o101, "u+X"],
    [DIR | 0o000, DIR | 0o100, "u+X"],
    [0o000, 0o4000, "u+s"],
    [0o000, 0o040, "g+r"],
    [0o000, 0o020, "g+w"],
    [0o000, 0o010, "g+x"],
    [0o000, 0o000, "g+X"],
    [0o100, 0o110, "g+X"],
    [DIR | 0o000, DIR | 0o010, "g+X"],
    [0o000, 0o2000, "g+s"],
    [0o000, 0o004, "o+r"],
    [0o000, 0o002, "o+w"],
    [0o000, 0o001, "o+x"],
    [0o000, 0o000, "o+X"],
    [0o100, 0o101, "o+X"],
    [DIR | 0o000, DIR | 0o001, "o+X"],
    [0o000, 0o000, "o+s"],
    [0o000, 0o444, "+r"],
    [0o000, 0o222, "+w"],
    [0o000, 0o111, "+x"],
    [0o000, 0o000, "+X"],
    [0o010, 0o111, "+X"],
    [DIR | 0o000, DIR | 0o111, "+X"],
    [0o000, 0o6000, "+s"],
    [0o777, 0o333, "-r"],
    [0o777, 0o555, "-w"],
    [0o777, 0o666, "-x"],
    [0o777, 0o777, "-X"],
    [DIR | 0o777, DIR | 0o777, "-X"],
    [0o6777, 0o777, "-s"],
    [0o777, 0o377, "u-r"],
    [0o777, 0o577, "u-w"],
    [0o777, 0o677, "u-x"],
    [0o777, 0o777, "u-X"],
    [DIR | 0o777, DIR | 0o777, "u-X"],
    [0o4777, 0o777, "u-s"],
    [0o000, 0o600, "u=rw"],
    [0o777, 0o677, "u=rw"],
    [0o777, 0o077, "u="],
    [0o000, 0o666, "=rw"],
    [0o777, 0o666, "=rw"],
    [0o042, 0o442, "u=g"],
    [0o742, 0o442, "u=g"],
    [0o722, 0o022, "u=g-w"],
    [0o742, 0o442, "u=g-w"],
    [0o762, 0o462, "u=g-w"],
    [0o772, 0o572, "u=g-w"],
    [0o021, 0o121, "u+o"],
    [0o021, 0o221, "u+g"],
    [0o021, 0o321, "u+go"],
    [0o000, 0o764, "a=r,ug=rw,u+x"],
    [0o777, 0o764, "a=r,ug=rw,u+x"],
    [0o000, 0o1624, "o+r,g+w,a+t,g-s,u+og"],
    [0o2100, 0o1724, "o+r,g+w,a+t,g-s,u+og"],
    [DIR | 0o6000, DIR | 0o5624, "o+r,g+w,a+t,g-s,u+og"],
    [0o777, 0o755, "go-w"],
    [0o000, 0o755, "u=rwx,go=rx"],
    [0o000, 0o755, "u=rwx,go=u-w"],
    [0o777, 0o700, "go="],
    [0o770, 0o755, "go=u-w"],
    [0o670, 0o644, "go=u-w"],
    [0o570, 0o555, "go=u-w"],
    [0o370, 0o311, "go=u-w"],
  ];
  it.each(DCHAPES)("dchapes TestApply: %o -> %o via %j", (from, to, text) => {
    expect(parseChmod(text).apply(from & 0o7777, (from & DIR) !== 0)).toBe(to & 0o7777);
  });

  it("evaluates X against the original mode, as BSD getmode does (not the mode being built)", () => {
    // GNU chmod would give 0755 here; dchapes-mode (BuildKit) looks at the original 0644.
    expect(parseChmod("u+x,go+X").apply(0o644, false)).toBe(0o744);
  });

  it("ignores X after = or - (dchapes-mode only honours +X), as BuildKit then does", () => {
    expect(parseChmod("u=rwX,go=rX").apply(0o700, true)).toBe(0o644);
    expect(parseChmod("u=rwX,go=rX").apply(0o600, false)).toBe(0o644);
  });

  it.each(["u", "u+x,", "x+u", "+q", "u+x;g+w"])("rejects %j", (text) => {
    expect(() => parseChmod(text)).toThrow(BuildError);
  });
});

describe("parseChmod agrees with coreutils chmod where BSD and GNU agree", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-chmod-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // No clause combining X with an earlier +x: there GNU (mode being built) and BSD (original mode) differ.
  const modes = ["u+x", "go-rwx", "a+rX", "u=rwx,g=rx,o=", "o+w,g-r", "a-x", "ug=rw", "go+X"];
  const starts = [0o644, 0o600, 0o751, 0o124];
  for (const m of modes) {
    for (const start of starts) {
      for (const isDir of [false, true]) {
        it(`${m} on ${isDir ? "dir" : "file"} ${start.toString(8)}`, () => {
          const p = join(dir, `${m.replace(/[^a-z]/g, "_")}-${start.toString(8)}-${isDir ? "d" : "f"}`);
          if (isDir) mkdirSync(p);
          else writeFileSync(p, "");
          chmodSync(p, start);
          execFileSync("chmod", [m, p]);
          expect(parseChmod(m).apply(start, isDir).toString(8)).toBe((statSync(p).mode & 0o7777).toString(8));
        });
      }
    }
  }
});
