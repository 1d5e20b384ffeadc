// BuildKit's own data-file vectors for the shell lexer, run line by line:
// shell/envVarTest (TestShellParser4EnvVars, ProcessWord) and
// shell/wordsTest (TestShellParser4Words, ProcessWords). The formats are
// described in /work/shared/corpus/buildkit/README.md.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { BuildError } from "../../../../src/diagnostics/build-error.js";
import { expandWord, expandWords, type ExpandOptions } from "../../../../src/instructions/expand/index.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const corpus = resolve(repoRoot, "../shared/corpus/buildkit/shell");

/** Lines as Go's bufio.Scanner yields them: no trailing empty line, no `\r`. */
function readLines(file: string): string[] {
  const lines = readFileSync(resolve(corpus, file), "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

function optionsFor(env: readonly string[]): ExpandOptions {
  // Go's EnvsFromSlice: split at the first `=`, later entries win.
  const map = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf("=");
    if (i < 0) map.set(e, "");
    else map.set(e.slice(0, i), e.slice(i + 1));
  }
  return { escapeChar: "\\", lookup: (name) => map.get(name) };
}

interface EnvVarCase {
  line: number;
  platform: string;
  source: string;
  expected: string;
}

function parseEnvVarTest(): EnvVarCase[] {
  const cases: EnvVarCase[] = [];
  readLines("envVarTest").forEach((raw, index) => {
    if (raw.startsWith("#")) return;
    const line = raw.trim();
    if (line === "") return;
    const cols = line.split("|");
    if (cols.length !== 3) throw new Error(`envVarTest line ${index + 1}: expected 3 columns`);
    const [platform, source, expected] = cols.map((c) => c.trim()) as [string, string, string];
    if (!["A", "U", "W"].includes(platform)) throw new Error(`envVarTest line ${index + 1}: bad platform ${platform}`);
    cases.push({ line: index + 1, platform, source, expected });
  });
  return cases;
}

interface WordsCase {
  line: number;
  source: string;
  expected: string[];
  env: string[];
}

function parseWordsTest(): WordsCase[] {
  const cases: WordsCase[] = [];
  const env: string[] = [];
  readLines("wordsTest").forEach((line, index) => {
    if (line.startsWith("#")) return;
    if (line.startsWith("ENV ")) {
      env.push(line.slice(3).replace(/^ +/, ""));
      return;
    }
    const cols = line.split("|");
    if (cols.length !== 2) throw new Error(`wordsTest line ${index + 1}: expected exactly one |`);
    const [source, expected] = cols as [string, string];
    cases.push({ line: index + 1, source: source.trim(), expected: expected.replace(/^ +/, "").split(","), env: [...env] });
  });
  return cases;
}

const envVarCases = parseEnvVarTest();
// W lines are for Windows, where BuildKit matches names case-insensitively.
// tsbuild builds Linux images with case-sensitive names, so only A and U apply.
const applicable = envVarCases.filter((c) => c.platform !== "W");
const windowsOnly = envVarCases.filter((c) => c.platform === "W");
const envVarOptions = optionsFor(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]);
const wordsCases = parseWordsTest();

describe("BuildKit envVarTest (ProcessWord)", () => {
  test("the file has the documented number of lines", () => {
    const count = (p: string): number => envVarCases.filter((c) => c.platform === p).length;
    expect({ A: count("A"), U: count("U"), W: count("W") }).toEqual({ A: 226, U: 2, W: 2 });
    expect(applicable.length).toBeGreaterThan(200);
  });

  test.each(applicable)("line $line: $source", ({ source, expected }) => {
    if (expected === "error") {
      let thrown: unknown;
      try {
        expandWord(source, envVarOptions);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(BuildError);
      expect((thrown as BuildError).code).toBe("DF_EXPANSION");
    } else {
      expect(expandWord(source, envVarOptions).value).toBe(expected);
    }
  });

  // Listed so the report shows them as skipped rather than silently absent.
  test.skip.each(windowsOnly)("line $line (Windows only): $source", () => {});
});

describe("BuildKit wordsTest (ProcessWords)", () => {
  test("the file has test lines", () => {
    expect(wordsCases.length).toBeGreaterThan(20);
  });

  test.each(wordsCases)("line $line: $source", ({ source, expected, env }) => {
    let words: string[];
    try {
      words = expandWords(source, optionsFor(env)).words;
    } catch (err) {
      expect(err).toBeInstanceOf(BuildError);
      words = ["error"];
    }
    expect(words).toEqual(expected);
  });
});
