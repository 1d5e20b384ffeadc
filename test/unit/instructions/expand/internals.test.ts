// Behaviour that the table files cannot express (newlines, invisible
// characters, error objects) and the pattern helpers BuildKit unit-tests.
import { describe, expect, test } from "vitest";
import { BuildError } from "../../../../src/diagnostics/build-error.js";
import { expandWord, expandWords, type ExpandOptions } from "../../../../src/instructions/expand/index.js";
import { goQuote } from "../../../../src/instructions/expand/go-quote.js";
import { reversePattern } from "../../../../src/instructions/expand/pattern.js";

function opts(env: Record<string, string>, extra: Partial<ExpandOptions> = {}): ExpandOptions {
  return { escapeChar: "\\", lookup: (name) => (Object.hasOwn(env, name) ? env[name] : undefined), ...extra };
}

function failure(word: string, options: ExpandOptions): BuildError {
  try {
    expandWord(word, options);
  } catch (err) {
    if (err instanceof BuildError) return err;
    throw err;
  }
  throw new Error(`expected ${word} to fail`);
}

describe("reversePattern (TestReversePattern)", () => {
  test.each([
    ["a\\*c", "c\\*a"],
    ["\\\\\\ab", "b\\a\\\\"],
    ["ab\\", "\\ba"],
    ["👽\\🚀🖖", "🖖\\🚀👽"],
    ["\\\\b", "b\\\\"],
  ])("%s", (pattern, reversed) => {
    expect(reversePattern(pattern)).toBe(reversed);
  });
});

describe("error messages", () => {
  test("are wrapped as BuildKit wraps them, with the reason as cause", () => {
    const err = failure("${X:?need X}", opts({}));
    expect(err.code).toBe("DF_EXPANSION");
    expect(err.message).toBe('failed to process "${X:?need X}": X: need X');
    expect((err.cause as Error).message).toBe("X: need X");
  });

  test("quote the source like Go's %q", () => {
    expect(failure('a"b\\\t한\u00a0${', opts({})).message).toBe(
      "failed to process \"a\\\"b\\\\\\t한\\u00a0${\": syntax error: missing '}'",
    );
    expect(goQuote("\x00\x7f😀\u{e0001}")).toBe('"\\x00\\x7f😀\\U000e0001"');
  });

  test("errors thrown by lookup are not wrapped", () => {
    const boom = new Error("boom");
    const options: ExpandOptions = {
      escapeChar: "\\",
      lookup: () => {
        throw boom;
      },
    };
    expect(() => expandWord("$X", options)).toThrow(boom);
  });
});

describe("newlines and Unicode", () => {
  test("? and * never match a newline (RE2 without the s flag)", () => {
    const env = { V: "ab\ncd\nef" };
    expect(expandWord("${V#*}", opts(env)).value).toBe("ab\ncd\nef");
    expect(expandWord("${V##*}", opts(env)).value).toBe("\ncd\nef");
    expect(expandWord("${V%%*}", opts(env)).value).toBe("ab\ncd\n");
    expect(expandWord("${V#ab?}", opts(env)).value).toBe("ab\ncd\nef");
    expect(expandWord("${V//*/x}", opts(env)).value).toBe("x\nx\nx");
    expect(expandWord("${V//?/.}", opts(env)).value).toBe("..\n..\n..");
  });

  test("names may contain any letter or decimal digit", () => {
    expect(expandWord("$한국어.$x١", opts({ 한국어: "ko", x١: "d" })).value).toBe("ko.d");
  });

  test("a leading byte order mark is dropped, as Go's text/scanner does", () => {
    expect(expandWord("\ufeff$A", opts({ A: "a" })).value).toBe("a");
    expect(expandWord("x\ufeff", opts({})).value).toBe("x\ufeff");
  });

  test("words split on Unicode white space, not on U+FEFF", () => {
    const env = { V: "a\u3000b\u0085c\ufeffd\u00a0e" };
    expect(expandWords("$V", opts(env)).words).toEqual(["a", "b", "c\ufeffd", "e"]);
  });

  test("astral characters are one character for ? and reversal", () => {
    expect(expandWord("${V#?}|${V%?}", opts({ V: "😀x😀" })).value).toBe("x😀|😀x");
  });
});

describe("cost", () => {
  test("star-heavy patterns on long values stay polynomial", () => {
    const value = "a".repeat(2000);
    const start = performance.now();
    expect(expandWord("${V//*a*a*a*b/x}", opts({ V: value })).value).toBe(value);
    expect(expandWord("${V%%*a*a*a*b}", opts({ V: value })).value).toBe(value);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
