import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DirectiveNode } from "./ast.js";
import { leadingSpace } from "./chars.js";

/** Directive names BuildKit recognises; any other `# name=value` ends the directive block. */
const KNOWN_DIRECTIVES: ReadonlySet<string> = new Set(["syntax", "escape", "check"]);

// BuildKit's directiveRegexp, applied after `#` and leading white space.
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

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
export function scanDirectives(lines: readonly string[]): DirectiveScan {
  const directives: DirectiveNode[] = [];
  const directiveLines = new Set<number>();
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  let escapeChar: "\\" | "`" = "\\";
  for (let i = 0; i < lines.length; i++) {
    const raw = trimNewline(lines[i]!);
    const indent = leadingSpace(raw);
    const line = raw.slice(indent);
    if (!line.startsWith("#")) break;
    const body = line.slice(1);
    const m = DIRECTIVE_RE.exec(body.slice(leadingSpace(body)));
    if (!m) break;
    const name = m[1]!.toLowerCase();
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
    const value = m[2]!;
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
