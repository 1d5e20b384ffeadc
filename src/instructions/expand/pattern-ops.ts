import { ExpansionFailure } from "./failure.js";
import { compilePattern, PatternMatcher, PatternSyntaxError, reversePattern, type PatternToken } from "./pattern.js";
import { ReplacementTemplate } from "./replacement.js";

function compileOrFail(pattern: string): PatternToken[] {
  try {
    return compilePattern(pattern);
  } catch (err) {
    if (err instanceof PatternSyntaxError) {
      throw new ExpansionFailure(`invalid pattern (${pattern}) in substitution: ${err.message}`);
    }
    throw err;
  }
}

/**
 * `${VAR#pattern}` / `${VAR##pattern}`: removes the shortest (or, when
 * `greedy`, longest) prefix of `value` matching `pattern`.
 */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const tokens = compileOrFail(pattern);
  const chars = Array.from(value);
  const end = new PatternMatcher(tokens, chars, greedy).matchAt(0);
  return end < 0 ? value : chars.slice(end).join("");
}

/**
 * `${VAR%pattern}` / `${VAR%%pattern}`: removes the shortest (or longest)
 * matching suffix. As BuildKit does, this matches the reversed pattern
 * against the reversed value; that is also why a bad pattern is reported
 * reversed (`${X%a\b}` complains about `b\a`).
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const tokens = compileOrFail(reversePattern(pattern));
  const chars = Array.from(value).reverse();
  const end = new PatternMatcher(tokens, chars, greedy).matchAt(0);
  return end < 0 ? value : chars.slice(end).reverse().join("");
}

/** `${VAR/pattern/replacement}`: replaces the leftmost match, verbatim. */
export function replaceFirst(pattern: string, value: string, replacement: string): string {
  const tokens = compileOrFail(pattern);
  const chars = Array.from(value);
  const match = new PatternMatcher(tokens, chars, true).find(0);
  if (match === undefined) return value;
  return chars.slice(0, match[0]).join("") + replacement + chars.slice(match[1]).join("");
}

/**
 * `${VAR//pattern/replacement}`: Go's `ReplaceAllString` loop. Its details
 * differ from `String.prototype.replace` with `/g`: an empty match right
 * after a match is not replaced (pattern `*`, replacement `y` turns `abc`
 * into `y`, not `yy`), and
 * `$0` in the replacement stands for the matched text.
 */
export function replaceAll(pattern: string, value: string, replacement: string): string {
  const tokens = compileOrFail(pattern);
  const template = ReplacementTemplate.parse(replacement);
  const chars = Array.from(value);
  const n = chars.length;
  const matcher = new PatternMatcher(tokens, chars, true);
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= n) {
    const match = matcher.find(searchPos);
    if (match === undefined) break;
    const [start, end] = match;
    out += chars.slice(lastMatchEnd, start).join("");
    if (end > lastMatchEnd || start === 0) out += template.render(chars.slice(start, end).join(""));
    lastMatchEnd = end;
    // Always advance at least one character.
    const width = searchPos < n ? 1 : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + chars.slice(lastMatchEnd).join("");
}
