import { describe, expect, test } from "vitest";
import { DockerfileLineParser, lineGrammar } from "../../../grammar/parser.js";
import { lineTokens } from "../../../grammar/tokens.js";

// The shared parser skips chevrotain's grammar validations to start faster;
// this is where they run. A grammar change that introduces an ambiguity or
// left recursion makes the constructor throw here.
describe.each(["\\", "`"] as const)("line grammar for escape %s", (escape) => {
  test("passes chevrotain's grammar validations", () => {
    expect(() => new DockerfileLineParser(lineTokens(escape), true)).not.toThrow();
  });

  test("the validated parser and the shared one group lines identically", () => {
    const e = escape;
    const text = `# syntax=x\nFROM a\nRUN one ${e}\n  # comment\n\n  two ${e}\n   \nCMD x\n${e}\n`;
    const validated = new DockerfileLineParser(lineTokens(escape), true);
    const shared = lineGrammar(escape).parser;
    validated.input = lineTokens(escape).tokenize(text);
    const a = validated.dockerfile();
    shared.input = lineTokens(escape).tokenize(text);
    const b = shared.dockerfile();
    const shape = (items: unknown[]): unknown => JSON.stringify(items, (k, v: unknown) => (k === "tokenType" ? undefined : v));
    expect(shape(a)).toEqual(shape(b));
    // FROM; RUN continued over the comment, empty and blank lines up to CMD x; the lone escape line.
    expect(a.filter((i) => Array.isArray(i))).toHaveLength(3);
  });
});
