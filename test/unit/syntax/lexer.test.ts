import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { IToken } from "chevrotain";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { lineTokens } from "../../../grammar/tokens.js";

// The parser lexes with a direct loop (LineTokens.tokenize) for speed; the
// chevrotain Lexer over the same token types is the reference. They must
// produce the same tokens, field for field, on every input.

const dir = join(import.meta.dirname, "../../../../shared/corpus/dockerfiles");
const corpus = readdirSync(dir)
  .filter((n) => n !== "README.md" && n !== "SOURCES.tsv")
  .map((n) => readFileSync(join(dir, n), "utf8"));

function fields(tokens: readonly IToken[]): unknown[] {
  return tokens.map((t) => [t.tokenType.name, t.tokenTypeIdx, t.image, t.startOffset, t.endOffset, t.startLine, t.endLine, t.startColumn, t.endColumn]);
}

/** Characters that decide where tokens start and end. */
const ALPHABET = ["\\", "`", "\\\\", "``", "\r", "\n", "\r\n", " ", "\t", "\v", "\u00a0", "\u2028", "#", "a", "RUN x"];

describe.each(["\\", "`"] as const)("escape %s", (escape) => {
  const t = lineTokens(escape);

  test("same tokens as the chevrotain lexer on the corpus", () => {
    for (const text of corpus) {
      const reference = t.lexer.tokenize(text);
      expect(reference.errors).toEqual([]);
      expect(fields(t.tokenize(text))).toEqual(fields(reference.tokens));
    }
  });

  test("same tokens as the chevrotain lexer on random text", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }), (pieces) => {
        const text = pieces.join("");
        const reference = t.lexer.tokenize(text);
        expect(reference.errors).toEqual([]);
        expect(fields(t.tokenize(text))).toEqual(fields(reference.tokens));
      }),
      { numRuns: 3000 },
    );
  });
});
