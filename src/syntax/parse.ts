import type { IToken } from "chevrotain";
import { isInstructionItem, parseLines, type LineItem } from "../../grammar/parser.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile, SourceRange } from "../diagnostics/source.js";
import { suggest } from "../diagnostics/suggest.js";
import type { FlagNode, HeredocNode, InstructionNode, ParseResult } from "./ast.js";
import { splitArguments } from "./arguments.js";
import { goToLower, goTrimSpace, isGoSpaceCode } from "./chars.js";
import { scanDirectives, trimNewline } from "./directives.js";
import { extractFlags } from "./flags.js";
import { foldInstruction, type LogicalLine } from "./fold.js";
import { chompHeredoc, heredocsFromLine, type HeredocMarker } from "./heredoc.js";
import { HEREDOC_KEYWORDS, INSTRUCTION_KEYWORDS, instructionForLower } from "./keywords.js";

/** Keywords longer than this are not compared with the instruction names (no typo is that long). */
const MAX_SUGGEST_LENGTH = 32;
/**
 * ONBUILD wraps instructions recursively. BuildKit's parser accepts any
 * depth (its next stage rejects ONBUILD ONBUILD); past this depth we report
 * an error instead of recursing, so no input can exhaust the stack.
 */
const MAX_ONBUILD_NESTING = 64;
/** How much of an unknown keyword an error message quotes. */
const MAX_QUOTED_KEYWORD = 40;

/**
 * Parses Dockerfile text into a line AST, the way BuildKit's parser does,
 * collecting every problem as a diagnostic. Never throws on any input.
 *
 * Differences from BuildKit, on purpose: BuildKit stops at the first error;
 * we report each bad instruction and go on, and an unknown instruction is a
 * syntax error here (BuildKit's parser accepts it and its next stage
 * rejects it).
 */
export function parseDockerfile(source: SourceFile | string): ParseResult {
  const file: SourceFile = typeof source === "string" ? { path: "Dockerfile", text: source } : source;
  const text = file.text.charCodeAt(0) === 0xfeff ? file.text.slice(1) : file.text;
  const scan = scanDirectives(text);
  const diagnostics: Diagnostic[] = [...scan.diagnostics];
  const instructions: InstructionNode[] = [];
  const escape = scan.escapeChar;

  let { items, errors } = parseLines(text, escape);
  for (const e of errors) syntaxSafetyNet(diagnostics, e);

  let comments: string[] = [];
  // Lines before this offset were consumed as heredoc bodies: the line
  // grammar saw them as ordinary lines, BuildKit's scanner does not.
  let resume = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (!isInstructionItem(item)) {
      if (item.startOffset < resume) continue;
      if (item.tokenType.name === "CommentLine" && !scan.directiveLines.has(item.startLine!)) {
        // BuildKit drops the raw line's first character, then trims (the
        // token starts at the line start and ends before the line end).
        const comment = goTrimSpace(item.image.slice(1));
        if (comment === "") comments = [];
        else comments.push(comment);
      }
      continue;
    }
    if (item[0]!.startOffset < resume) continue;
    const logical = foldInstruction(item);
    const built = buildInstruction(logical, 0, escape, comments, diagnostics);
    comments = [];
    let node = built.node;
    if (built.heredocs.length > 0) {
      const consumed = readHeredocBodies(text, item[item.length - 1]!, built.heredocs);
      resume = consumed.next;
      // The instruction now ends with its last body line (or where it ended, if no line was read).
      const end = consumed.lastLine > logical.end.line ? { line: consumed.lastLine, column: Math.max(1, consumed.lastLineLength) } : logical.end;
      if (consumed.error) {
        const near = consumed.nearMiss ? `; line ${consumed.nearMiss} comes close but has white space around it` : "";
        diagnostics.push({
          severity: "error",
          code: "DF_SYNTAX",
          message: "unterminated heredoc",
          range: { start: logical.start, end },
          hint: `the heredoc body must end with a line holding only "${consumed.error}"${near}`,
        });
      }
      if (node) node = { ...node, heredocs: consumed.heredocs, range: { start: node.range.start, end } };
      // A body line ending in the escape character may have made the line
      // grammar join the terminator line, or lines after it, into one
      // instruction. Such an item straddles the end of the body: lex the
      // rest of the file again from the line after the terminator.
      if (straddles(items, i + 1, resume)) {
        const again = parseLines(text.slice(resume), escape);
        for (const e of again.errors) syntaxSafetyNet(diagnostics, e);
        shiftItems(again.items, resume, consumed.lastLine);
        items = again.items;
        i = -1;
      }
    }
    if (node) instructions.push(node);
  }

  if (instructions.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    const line = Math.max(1, countLines(text));
    diagnostics.push({
      severity: "error",
      code: "DF_STRUCTURE",
      message: "file with no instructions",
      range: { start: { line, column: 1 }, end: { line, column: 1 } },
      hint: "a Dockerfile needs at least a FROM instruction",
    });
  }
  diagnostics.sort((a, b) => (a.range?.start.line ?? 0) - (b.range?.start.line ?? 0));
  return { ast: { source: file, directives: scan.directives, escapeChar: escape, instructions }, diagnostics };
}

/** Reports a lexer or parser error; unreachable by construction (the grammar accepts every token sequence). */
function syntaxSafetyNet(diagnostics: Diagnostic[], e: { message: string; line?: number; column?: number }): void {
  const line = e.line ?? 1;
  const column = e.column ?? 1;
  diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: e.message, range: { start: { line, column }, end: { line, column } } });
}

/** True when an instruction item from `from` on starts before `offset` and ends at or after it. */
function straddles(items: readonly LineItem[], from: number, offset: number): boolean {
  for (let j = from; j < items.length; j++) {
    const item = items[j]!;
    if (!isInstructionItem(item)) {
      if (item.startOffset >= offset) return false;
      continue;
    }
    if (item[0]!.startOffset >= offset) return false;
    if (item[item.length - 1]!.endOffset! >= offset) return true;
  }
  return false;
}

/** Moves tokens lexed from `text.slice(offset)` to their place in the whole text. */
function shiftItems(items: readonly LineItem[], offset: number, lines: number): void {
  const shift = (t: IToken): void => {
    t.startOffset += offset;
    if (t.endOffset !== undefined) t.endOffset += offset;
    if (t.startLine !== undefined) t.startLine += lines;
    if (t.endLine !== undefined) t.endLine += lines;
  };
  for (const item of items) {
    if (isInstructionItem(item)) item.forEach(shift);
    else shift(item);
  }
}

/** Number of physical lines (split on `\n`, a final line without newline counts). */
function countLines(text: string): number {
  let n = 0;
  for (let p = text.indexOf("\n"); p >= 0; p = text.indexOf("\n", p + 1)) n++;
  return text.length > 0 && !text.endsWith("\n") ? n + 1 : n;
}

/** What {@link buildInstruction} made of a logical line. */
interface Built {
  /** The node, or undefined when the line had an error that leaves no usable node. */
  readonly node: InstructionNode | undefined;
  /** Heredoc markers whose bodies follow the line (consumed even when the node is bad). */
  readonly heredocs: readonly HeredocMarker[];
}

// Did-you-mean answers for unknown keywords: a bad file repeats the same few.
const suggestions = new Map<string, string | undefined>();

/** The instruction an unknown (upper-cased) keyword is probably a typo of. */
function suggestKeyword(keyword: string): string | undefined {
  if (keyword.length > MAX_SUGGEST_LENGTH) return undefined;
  if (suggestions.has(keyword)) return suggestions.get(keyword);
  if (suggestions.size >= 1024) suggestions.clear();
  const hint = suggest(keyword, INSTRUCTION_KEYWORDS);
  suggestions.set(keyword, hint);
  return hint;
}

/** `T` with its properties writable, to build a readonly node in steps. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** BuildKit's `reWhitespace` class `[\t\v\f\r ]` on a code unit. */
function isSplitSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13 && c !== 10);
}

/**
 * BuildKit's `newNodeFromLine` for the logical line's text from `base`
 * (ONBUILD recurses with the offset of its wrapped instruction).
 */
function buildInstruction(logical: LogicalLine, base: number, escape: string, comments: readonly string[], diagnostics: Diagnostic[], depth = 0): Built {
  const text = logical.text;
  const pos = (offset: number) => logical.positionAt(offset);
  const range = (a: number, b: number): SourceRange => ({ start: pos(a), end: pos(Math.max(a, b - 1)) });
  // strings.TrimSpace, then split off the keyword at the first [\t\v\f\r ] run.
  let s0 = base;
  while (s0 < text.length && isGoSpaceCode(text.charCodeAt(s0))) s0++;
  let e0 = text.length;
  while (e0 > s0 && isGoSpaceCode(text.charCodeAt(e0 - 1))) e0--;
  let cmdEnd = s0;
  while (cmdEnd < e0 && !isSplitSpace(text.charCodeAt(cmdEnd))) cmdEnd++;
  const keywordText = text.slice(s0, cmdEnd);
  const known = instructionForLower(goToLower(keywordText));
  const keyword = known ?? keywordText.toUpperCase();
  let restStart = cmdEnd;
  while (restStart < e0 && isSplitSpace(text.charCodeAt(restStart))) restStart++;
  const restText = text.slice(restStart, e0);
  const { flags: rawFlags, argsOffset } = extractFlags(restText);
  let argsStart = restStart + argsOffset;
  while (argsStart < e0 && isGoSpaceCode(text.charCodeAt(argsStart))) argsStart++;
  const argsText = argsStart === restStart ? restText : text.slice(argsStart, e0);
  const flags: FlagNode[] = rawFlags.map((f) => {
    const body = f.text.slice(2);
    const eq = body.indexOf("=");
    return {
      name: eq < 0 ? body : body.slice(0, eq),
      value: eq < 0 ? undefined : body.slice(eq + 1),
      text: f.text,
      range: range(restStart + f.start, restStart + f.end),
    };
  });
  // At the top level the instruction starts at its first line (which may
  // hold only an escape); a wrapped ONBUILD instruction at its keyword.
  const instructionRange: SourceRange = { start: base === 0 ? logical.start : pos(s0), end: logical.end };
  const argsRange: SourceRange = argsStart < e0 ? range(argsStart, e0) : { start: logical.end, end: logical.end };
  const keywordRange = range(s0, cmdEnd);

  let args: string[] = [];
  let json = false;
  let keyValues: InstructionNode["keyValues"] = [];
  let onbuild: InstructionNode | undefined;
  let heredocs: readonly HeredocMarker[] = [];
  let ok = true;

  if (known === "ONBUILD") {
    if (argsText !== "" && depth >= MAX_ONBUILD_NESTING) {
      diagnostics.push({
        severity: "error",
        code: "DF_SYNTAX",
        message: `ONBUILD nested more than ${MAX_ONBUILD_NESTING} levels deep`,
        range: argsRange,
        hint: "an ONBUILD trigger cannot itself be an ONBUILD",
      });
      ok = false;
    } else if (argsText !== "") {
      const inner = buildInstruction(logical, argsStart, escape, [], diagnostics, depth + 1);
      onbuild = inner.node;
      ok = inner.node !== undefined;
      heredocs = inner.heredocs;
    }
  } else {
    if (!known) {
      const hint = suggestKeyword(keyword);
      const quoted = keywordText.length > MAX_QUOTED_KEYWORD ? `${keywordText.slice(0, MAX_QUOTED_KEYWORD)}…` : keywordText;
      diagnostics.push({
        severity: "error",
        code: "DF_UNKNOWN_INSTRUCTION",
        message: `unknown instruction: ${quoted}${hint ? ` (did you mean ${hint}?)` : ""}`,
        range: keywordRange,
        hint: hint ? undefined : `instructions are ${INSTRUCTION_KEYWORDS.join(", ")}`,
      });
    } else {
      const split = splitArguments(known, argsText, escape);
      if (split.error) {
        const where = split.errorSpan ? range(argsStart + split.errorSpan[0], argsStart + split.errorSpan[1]) : argsStart < e0 ? argsRange : instructionRange;
        diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: split.error, range: where });
        ok = false;
      }
      args = split.args;
      json = split.json;
      keyValues = split.keyValues;
    }
    if (known && HEREDOC_KEYWORDS.has(known) && !json && text.includes("<<", s0)) {
      heredocs = heredocsFromLine(text.slice(s0, e0));
    }
  }

  const node: Mutable<InstructionNode> = {
    keyword,
    keywordText,
    keywordRange,
    flags,
    args,
    json,
    keyValues,
    heredocs: [],
    original: text.slice(s0, e0),
    rest: restText,
    argsRange,
    comments: comments.length > 0 ? [...comments] : [],
    range: instructionRange,
    hasEmptyContinuation: logical.hasEmptyContinuation,
  };
  // (Not an object spread in the literal: that takes V8's slow path for every instruction.)
  if (onbuild) node.onbuild = onbuild;
  return { node: ok ? node : undefined, heredocs };
}

/** What {@link readHeredocBodies} consumed. */
interface HeredocBodies {
  /** One body per terminated marker. */
  readonly heredocs: HeredocNode[];
  /** 1-based number of the last line read (the last terminator, or the last line of the file). */
  readonly lastLine: number;
  /** Length of that line without its line ending. */
  readonly lastLineLength: number;
  /** Offset of the first line after the bodies. */
  readonly next: number;
  /** The delimiter of the first unterminated heredoc. */
  readonly error?: string;
  /** For an unterminated heredoc: the first line that is the delimiter once trimmed (a likely typo). */
  readonly nearMiss?: number;
}

/**
 * Reads heredoc bodies, one per marker, as BuildKit's scanner loop does:
 * from the line after the instruction's last token (its last line, or a
 * skipped empty line at the end of a continuation), line by line, each raw
 * line (ending kept) added to the body until one equals the delimiter.
 */
function readHeredocBodies(text: string, last: IToken, markers: readonly HeredocMarker[]): HeredocBodies {
  const heredocs: HeredocNode[] = [];
  // Every token but a Newline lies within one line.
  const nl = last.tokenType.name === "Newline" ? last.endOffset! : text.indexOf("\n", last.endOffset! + 1);
  let pos = nl < 0 ? text.length : nl + 1;
  let line = last.startLine!;
  let lastLineLength = 0;
  let nearMiss: number | undefined;
  for (const marker of markers) {
    const startLine = line + 1;
    let content = "";
    let terminated = false;
    nearMiss = undefined;
    while (pos < text.length) {
      const end = text.indexOf("\n", pos);
      const next = end < 0 ? text.length : end + 1;
      const raw = text.slice(pos, next);
      pos = next;
      line++;
      const trimmed = trimNewline(raw);
      lastLineLength = trimmed.length;
      const candidate = marker.chomp ? trimLeadingTabs(trimmed) : trimmed;
      if (candidate === marker.name) {
        terminated = true;
        break;
      }
      if (nearMiss === undefined && goTrimSpace(candidate) === marker.name) nearMiss = line;
      content += raw;
    }
    if (!terminated) return { heredocs, lastLine: line, lastLineLength, next: pos, error: marker.name, ...(nearMiss ? { nearMiss } : {}) };
    heredocs.push({
      name: marker.name,
      content: marker.chomp ? chompHeredoc(content) : content,
      quoted: marker.quoted,
      chomp: marker.chomp,
      ...(marker.fd ? { fd: marker.fd } : {}),
      range: { start: { line: startLine, column: 1 }, end: { line, column: 1 } },
    });
  }
  return { heredocs, lastLine: line, lastLineLength, next: pos };
}

/** BuildKit's `trimLeadingTabs`. */
function trimLeadingTabs(s: string): string {
  let i = 0;
  while (s.charCodeAt(i) === 9) i++;
  return i === 0 ? s : s.slice(i);
}
