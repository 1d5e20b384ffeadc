import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../../src/diagnostics/index.js";
import { dumpText, parseDockerfile } from "../../../src/syntax/index.js";

// Golden ASTs: fixtures/dockerfiles/<case>/Dockerfile and its dumpText output
// in ast.txt next to it. A new case needs no code: add a directory with a
// Dockerfile, run `npx vitest run test/unit/syntax/golden.test.ts -u`, and
// check the new ast.txt by eye against BuildKit's behaviour before committing.

const root = join(import.meta.dirname, "../../../fixtures/dockerfiles");
const cases = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, e.name, "Dockerfile")))
  .map((e) => e.name)
  .sort();

describe("golden ASTs (fixtures/dockerfiles)", () => {
  test("there are cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(cases)("%s", async (name) => {
    const dir = join(root, name);
    const text = readFileSync(join(dir, "Dockerfile"), "utf8");
    const { ast, diagnostics } = parseDockerfile({ path: "Dockerfile", text });
    // These are valid Dockerfiles: invalid ones live in fixtures/dockerfiles-invalid.
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => formatDiagnostic(ast.source, d))).toEqual([]);
    await expect(dumpText(ast)).toMatchFileSnapshot(join(dir, "ast.txt"));
  });
});
