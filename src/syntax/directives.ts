import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DirectiveNode } from "./ast.js";
import { leadingSpace } from "./chars.js";

/** Directive names BuildKit recognises; any other `# name=value` ends the directive block. */
const KNOWN_DIRECTIVES: ReadonlySet<string> = new Set(["syntax", "escape", "check"]);

/** RE2's `\s`: `[\t\n\f\r ]` (narrower than JavaScript's). */
function isRe2Space(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * BuildKit's `directiveRegexp`, `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
 * (RE2 syntax), applied to the text after `#` and leading white space.
 * Written out by hand: the regex backtracks quadratically on a value
 * followed by a long run of blanks. Note the regex's quirk, kept here: when
 * only blanks follow `=`, the lazy `(.+?)` still takes the last one, so
 * `# escape= ` has the value `" "`.
 */
export function matchDirective(body: string): { name: string; value: string } | undefined {
  const n = body.length;
  if (n === 0 || !isAsciiLetter(body.charCodeAt(0))) return undefined;
  let p = 1;
  for (let c = 0; p < n && (isAsciiLetter((c = body.charCodeAt(p))) || (c >= 48 && c <= 57)); ) p++;
  const name = body.slice(0, p);
  while (p < n && isRe2Space(body.charCodeAt(p))) p++;
  if (p === n || body.charCodeAt(p) !== 61 /* = */) return undefined;
  const afterEq = ++p;
  while (p < n && isRe2Space(body.charCodeAt(p))) p++;
  if (p === n) return n > afterEq ? { name, value: body.slice(n - 1) } : undefined;
  let end = n;
  while (isRe2Space(body.charCodeAt(end - 1))) end--;
  return { name, value: body.slice(p, end) };
}

/** What the directive block at the top of a file says. */
export interface DirectiveScan {
  /** Directives found, in order. */
  readonly directives: DirectiveNode[];
  /** The escape character in force for the rest of the file. */
  readonly escapeChar: "\\" | "`";
  /** 1-based numbers of the lines that are directives (they are not comments). */
  readonly directiveLines: ReadonlySet<number>;
  /** Errors: repeated directives, invalid escape characters. */
  readonly diagnostics: Diagnostic[];
}

/**
 * Reads parser directives the way BuildKit's `DirectiveParser` does: only
 * from the first lines, each `# name=value` with a known name; the first
 * line that is anything else (an instruction, an ordinary comment, an empty
 * line, an unknown directive) ends the block for good.
 */
export function scanDirectives(text: string): DirectiveScan {
  const directives: DirectiveNode[] = [];
  const directiveLines = new Set<number>();
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  let escapeChar: "\\" | "`" = "\\";
  // Only the first lines are read: the block ends at the first other line.
  for (let i = 0, start = 0; start < text.length; i++) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl + 1;
    const raw = trimNewline(text.slice(start, end));
    start = end;
    const indent = leadingSpace(raw);
    const line = raw.slice(indent);
    if (!line.startsWith("#")) break;
    const body = line.slice(1);
    const m = matchDirective(body.slice(leadingSpace(body)));
    if (!m) break;
    const name = m.name.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(name)) break;
    const lineNo = i + 1;
    const range = { start: { line: lineNo, column: indent + 1 }, end: { line: lineNo, column: Math.max(1, raw.length) } };
    if (seen.has(name)) {
      diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: `only one ${name} parser directive can be used`, range });
      // BuildKit stops parsing here; we keep the first value and go on collecting.
      directiveLines.add(lineNo);
      continue;
    }
    seen.add(name);
    const value = m.value;
    directives.push({ name, value, range });
    directiveLines.add(lineNo);
    if (name === "escape") {
      if (value === "\\" || value === "`") {
        escapeChar = value;
      } else {
        diagnostics.push({
          severity: "error",
          code: "DF_SYNTAX",
          message: `invalid escape token '${value}' does not match \` or \\`,
          range,
          hint: "use `# escape=\\` (the default) or `# escape=``",
        });
      }
    }
  }
  return { directives, escapeChar, directiveLines, diagnostics };
}

/** BuildKit's `trimNewline`: drops every trailing `\r` and `\n`. */
export function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 13 || s.charCodeAt(end - 1) === 10)) end--;
  return end === s.length ? s : s.slice(0, end);
}
