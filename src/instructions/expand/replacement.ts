import { isNameChar } from "./chars.js";

/** A piece of a parsed replacement: literal text, or the matched text. */
type Part = string | typeof MATCH;
const MATCH = Symbol("match");

/**
 * The replacement of `${VAR//pattern/replacement}` as Go's
 * `Regexp.ReplaceAllString` reads it.
 *
 * BuildKit hands the replacement to `ReplaceAllString`, which treats it as a
 * template: `$$` is `$`, `$0`/`${0}` is the matched text, and every other
 * `$name`/`${name}` names a group the pattern never has, so it is dropped.
 * A `$` that starts no valid name stays literal. The single-replacement
 * form `${VAR/p/r}` does not use this: it inserts the replacement verbatim.
 */
export class ReplacementTemplate {
  private constructor(private readonly parts: readonly Part[]) {}

  /** Parses `template` with Go's `Regexp.Expand` rules. */
  static parse(template: string): ReplacementTemplate {
    const parts: Part[] = [];
    let text = "";
    let i = 0;
    for (;;) {
      const dollar = template.indexOf("$", i);
      if (dollar < 0) break;
      text += template.slice(i, dollar);
      i = dollar + 1;
      if (template[i] === "$") {
        text += "$";
        i++;
        continue;
      }
      const ref = extractName(template, i);
      if (ref === undefined) {
        text += "$";
        continue;
      }
      i = ref.rest;
      // The pattern has no capture groups, so only group 0 (the whole match)
      // exists. Go parses numbers strictly: "00" or "01" are names, not 0.
      if (ref.name === "0") {
        parts.push(text, MATCH);
        text = "";
      }
    }
    parts.push(text + template.slice(i));
    return new ReplacementTemplate(parts);
  }

  /** The replacement for one match whose text is `matched`. */
  render(matched: string): string {
    let out = "";
    for (const part of this.parts) out += part === MATCH ? matched : part;
    return out;
  }
}

/** Go's `regexp.extract`: a `name` or `{name}` at `start`, or undefined. */
function extractName(template: string, start: number): { name: string; rest: number } | undefined {
  let i = start;
  const brace = template[i] === "{";
  if (brace) i++;
  const nameStart = i;
  while (i < template.length) {
    const cp = template.codePointAt(i) ?? 0;
    if (!isNameChar(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  if (i === nameStart) return undefined;
  const name = template.slice(nameStart, i);
  if (brace) {
    if (template[i] !== "}") return undefined;
    i++;
  }
  return { name, rest: i };
}
