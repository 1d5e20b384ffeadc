// Runs the table in fixtures/expand/extra.txt (format documented at its top):
// the pattern, replacement, colon-less, error-message, quoting and backtick
// cases that BuildKit tests inline in lex_test.go rather than in data files.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { BuildError } from "../../../../src/diagnostics/build-error.js";
import { expandWord, expandWords, type ExpandOptions } from "../../../../src/instructions/expand/index.js";

interface TableCase {
  line: number;
  input: string;
  expected: string;
  env: ReadonlyMap<string, string>;
  escapeChar: "\\" | "`";
  rawQuotes: boolean;
  skipUnset: boolean;
  words: boolean;
}

const tablePath = fileURLToPath(new URL("../../../../fixtures/expand/extra.txt", import.meta.url));

function parseTable(text: string): TableCase[] {
  const cases: TableCase[] = [];
  let env = new Map<string, string>();
  let opts = { escapeChar: "\\" as "\\" | "`", rawQuotes: false, skipUnset: false, words: false };
  const defaults = { ...opts };
  text.split("\n").forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const where = `extra.txt line ${index + 1}`;
    if (line.startsWith("#") || line.trim() === "") return;
    if (line === "RESET") {
      env = new Map();
      opts = { ...defaults };
      return;
    }
    if (line.startsWith("ENV ")) {
      const assignment = line.slice(4).replace(/^ +/, "");
      const eq = assignment.indexOf("=");
      env = new Map(env);
      if (eq < 0) env.set(assignment, "");
      else env.set(assignment.slice(0, eq), assignment.slice(eq + 1));
      return;
    }
    if (line.startsWith("OPTIONS")) {
      opts = { ...defaults };
      for (const word of line.slice("OPTIONS".length).trim().split(/ +/)) {
        if (word === "escape=`") opts.escapeChar = "`";
        else if (word === "escape=\\") opts.escapeChar = "\\";
        else if (word === "rawQuotes") opts.rawQuotes = true;
        else if (word === "skipUnset") opts.skipUnset = true;
        else if (word === "words") opts.words = true;
        else throw new Error(`${where}: unknown option ${word}`);
      }
      return;
    }
    let sep = line.lastIndexOf(" | ");
    let expected: string;
    if (line.endsWith(" |") && (sep < 0 || sep < line.length - 2)) {
      sep = line.length - 2;
      expected = "";
    } else if (sep >= 0) {
      expected = line.slice(sep + 3);
    } else {
      throw new Error(`${where}: no " | " separator`);
    }
    cases.push({ line: index + 1, input: line.slice(0, sep).trim(), expected, env, ...opts });
  });
  return cases;
}

function run(c: TableCase): string | string[] {
  const options: ExpandOptions = {
    escapeChar: c.escapeChar,
    lookup: (name) => c.env.get(name),
    rawQuotes: c.rawQuotes,
    skipUnset: c.skipUnset,
  };
  return c.words ? expandWords(c.input, options).words : expandWord(c.input, options).value;
}

const cases = parseTable(readFileSync(tablePath, "utf8"));

describe("fixtures/expand/extra.txt", () => {
  test("the table has cases", () => {
    expect(cases.length).toBeGreaterThan(100);
  });

  test.each(cases)("line $line: $input", (c) => {
    if (c.expected === "error" || c.expected.startsWith("error: ")) {
      let thrown: unknown;
      try {
        run(c);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, "expansion should fail").toBeInstanceOf(BuildError);
      const err = thrown as BuildError;
      expect(err.code).toBe("DF_EXPANSION");
      expect(err.message.startsWith("failed to process ")).toBe(true);
      if (c.expected !== "error") {
        expect((err.cause as Error).message).toBe(c.expected.slice("error: ".length));
      }
      return;
    }
    const result = run(c);
    if (c.words) expect(result).toEqual(c.expected === "" ? [] : c.expected.split(","));
    else expect(result).toBe(c.expected);
  });
});
