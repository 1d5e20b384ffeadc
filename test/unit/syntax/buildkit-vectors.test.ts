import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { dumpSexp, parseDockerfile } from "../../../src/syntax/index.js";

// BuildKit's parser test vectors (frontend/dockerfile/parser/testfiles*),
// copied byte-for-byte into ../shared/corpus/buildkit (see its README).
const root = join(import.meta.dirname, "../../../../shared/corpus/buildkit/parser");
const positive = readdirSync(join(root, "testfiles")).sort();
const negative = readdirSync(join(root, "testfiles-negative")).sort();

describe("BuildKit TestParseCases", () => {
  test("the corpus is present", () => {
    expect(positive.length).toBeGreaterThanOrEqual(33);
  });
  test.each(positive)("%s", (name) => {
    const dir = join(root, "testfiles", name);
    const text = readFileSync(join(dir, "Dockerfile"), "utf8");
    const { ast, diagnostics } = parseDockerfile({ path: "Dockerfile", text });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const expected = readFileSync(join(dir, "result"), "utf8");
    expect(dumpSexp(ast)).toBe(expected);
  });
});

describe("BuildKit TestParseErrorCases", () => {
  test.each(negative)("%s", (name) => {
    const text = readFileSync(join(root, "testfiles-negative", name, "Dockerfile"), "utf8");
    const { diagnostics } = parseDockerfile({ path: "Dockerfile", text });
    expect(diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});

describe("BuildKit TestParseIncludesLineNumbers", () => {
  test("testfile-line", () => {
    const file = join(root, "testfile-line", "Dockerfile");
    expect(existsSync(file)).toBe(true);
    const { ast } = parseDockerfile({ path: "Dockerfile", text: readFileSync(file, "utf8") });
    expect(ast.instructions.map((n) => [n.range.start.line, n.range.end.line])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});
