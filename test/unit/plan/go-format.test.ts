import { describe, expect, it } from "vitest";
import { goDuration, goList, goQuote, goQuoteList, goQuoteRune } from "../../../src/plan/go-format.js";

// Expected values are what Go's fmt/strconv/time print (go1.22), as in BuildKit's history lines.
describe("Go renderings for history lines", () => {
  it("time.Duration.String()", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [999, "999ns"],
      [1500, "1.5µs"],
      [1_500_000, "1.5ms"],
      [1_000_000_000, "1s"],
      [1_500_000_000, "1.5s"],
      [30e9, "30s"],
      [90e9, "1m30s"],
      [3600e9, "1h0m0s"],
      [3723.25e9, "1h2m3.25s"],
    ];
    for (const [ns, text] of cases) expect(goDuration(ns), String(ns)).toBe(text);
  });

  it("strconv.Quote and %q of a []string", () => {
    expect(goQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(goQuote("a\tb\nc\x01\x7f")).toBe('"a\\tb\\nc\\x01\\x7f"');
    expect(goQuote("héllo ✓")).toBe('"héllo ✓"');
    expect(goQuote("\u0085\u200b")).toBe('"\\u0085\\u200b"');
    expect(goQuoteList(["/bin/sh", "-c", "echo hi"])).toBe('["/bin/sh" "-c" "echo hi"]');
    expect(goQuoteList([])).toBe("[]");
    expect(goList(["/bin/sh", "-c"])).toBe("[/bin/sh -c]");
  });

  it("%q of an int is a rune literal", () => {
    expect([0, 3, 9, 10, 39, 65, 92].map(goQuoteRune)).toEqual(["'\\x00'", "'\\x03'", "'\\t'", "'\\n'", "'\\''", "'A'", "'\\\\'"]);
  });
});
