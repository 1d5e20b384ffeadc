import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../../src/diagnostics/index.js";
import { parseDockerfile } from "../../../src/syntax/index.js";

// Invalid Dockerfiles and how their errors read: fixtures/dockerfiles-invalid/
// <case>/Dockerfile and, next to it, error.txt with every diagnostic rendered
// by formatDiagnostic (blank line between two). A new case needs no code: add
// a directory with a Dockerfile, run
// `npx vitest run test/unit/syntax/invalid.test.ts -u`, and read error.txt
// as a user would (line:col, the >>> lines, the carets) before committing.

const root = join(import.meta.dirname, "../../../fixtures/dockerfiles-invalid");
const cases = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, e.name, "Dockerfile")))
  .map((e) => e.name)
  .sort();

describe("invalid Dockerfiles (fixtures/dockerfiles-invalid)", () => {
  test("there are cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  test.each(cases)("%s", async (name) => {
    const dir = join(root, name);
    const text = readFileSync(join(dir, "Dockerfile"), "utf8");
    const source = { path: "Dockerfile", text };
    const { diagnostics } = parseDockerfile(source);
    expect(diagnostics.filter((d) => d.severity === "error").length).toBeGreaterThanOrEqual(1);
    const rendered = diagnostics.map((d) => formatDiagnostic(source, d)).join("\n\n") + "\n";
    await expect(rendered).toMatchFileSnapshot(join(dir, "error.txt"));
  });
});
