import type { CstNode, IToken } from "chevrotain";
import { parseLines } from "../../grammar/parser.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile, SourceRange } from "../diagnostics/source.js";
import { suggest } from "../diagnostics/suggest.js";
import type { FlagNode, HeredocNode, InstructionNode, ParseResult } from "./ast.js";
import { splitArguments } from "./arguments.js";
import { goTrimSpace, isGoSpace, leadingSpace } from "./chars.js";
import { scanDirectives, trimNewline } from "./directives.js";
import { extractFlags } from "./flags.js";
import { foldInstruction, type LogicalLine } from "./fold.js";
import { chompHeredoc, heredocsFromLine, type HeredocMarker } from "./heredoc.js";
import { HEREDOC_KEYWORDS, INSTRUCTION_KEYWORDS, isInstructionKeyword } from "./keywords.js";

/** An item at the top level of the file, in source order. */
type TopItem = { offset: number; line: number; token?: IToken; node?: CstNode };

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
  // Physical lines with their endings, split on \n only (as BuildKit's scanner).
  const rawLines = text === "" ? [] : text.split(/(?<=\n)/);
  const scan = scanDirectives(rawLines);
  const diagnostics: Diagnostic[] = [...scan.diagnostics];
  const instructions: InstructionNode[] = [];
  const escape = scan.escapeChar;

  const { tokens, cst, errors } = parseLines(text, escape);
  for (const e of errors) {
    // Unreachable by construction (the grammar accepts every token sequence); kept so a bug surfaces as a diagnostic.
    const line = e.line ?? 1;
    diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: e.message, range: { start: { line, column: e.column ?? 1 }, end: { line, column: e.column ?? 1 } } });
  }

  const items = topLevelItems(cst);
  let comments: string[] = [];
  let skipThroughLine = 0;
  for (const item of items) {
    if (item.line <= skipThroughLine) continue;
    if (item.token) {
      if (item.token.tokenType.name === "CommentLine" && !scan.directiveLines.has(item.line)) {
        // BuildKit drops the raw line's first character, then trims.
        const comment = goTrimSpace(trimNewline(rawLines[item.line - 1] ?? "").slice(1));
        if (comment === "") comments = [];
        else comments.push(comment);
      }
      continue;
    }
    const logical = foldInstruction(flattenTokens(item.node!));
    const built = buildInstruction(logical, 0, escape, comments, diagnostics);
    comments = [];
    let node = built.node;
    if (built.heredocs.length > 0) {
      const consumed = readHeredocBodies(rawLines, logical.end.line, built.heredocs);
      skipThroughLine = consumed.lastLine;
      if (consumed.error) {
        diagnostics.push({
          severity: "error",
          code: "DF_SYNTAX",
          message: "unterminated heredoc",
          range: { start: logical.positionAt(0), end: { line: consumed.lastLine, column: 1 } },
          hint: `the heredoc body must end with a line holding only "${consumed.error}"`,
        });
      }
      if (node) {
        const end = consumed.lastLine > logical.end.line
          ? { line: consumed.lastLine, column: Math.max(1, trimNewline(rawLines[consumed.lastLine - 1] ?? "").length) }
          : node.range.end;
        node = { ...node, heredocs: consumed.heredocs, range: { start: node.range.start, end } };
      }
    }
    if (node) instructions.push(node);
  }

  if (instructions.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    const line = Math.max(1, rawLines.length);
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

/** The top-level tokens and instruction nodes of the CST, in source order. */
function topLevelItems(cst: CstNode): TopItem[] {
  const items: TopItem[] = [];
  for (const [key, children] of Object.entries(cst.children)) {
    for (const child of children) {
      if (key === "instruction") {
        const first = firstToken(child as CstNode);
        items.push({ offset: first.startOffset, line: first.startLine!, node: child as CstNode });
      } else {
        const tok = child as IToken;
        items.push({ offset: tok.startOffset, line: tok.startLine!, token: tok });
      }
    }
  }
  return items.sort((a, b) => a.offset - b.offset);
}

function isToken(x: IToken | CstNode): x is IToken {
  return (x as IToken).image !== undefined;
}

function firstToken(node: CstNode): IToken {
  let best: IToken | undefined;
  for (const children of Object.values(node.children)) {
    const c = children[0];
    if (!c) continue;
    const t = isToken(c) ? c : firstToken(c);
    if (!best || t.startOffset < best.startOffset) best = t;
  }
  return best!;
}

/** All tokens under a CST node, in source order. */
function flattenTokens(node: CstNode): IToken[] {
  const out: IToken[] = [];
  const walk = (n: CstNode): void => {
    for (const children of Object.values(n.children)) {
      for (const c of children) {
        if (isToken(c)) out.push(c);
        else walk(c);
      }
    }
  };
  walk(node);
  return out.sort((a, b) => a.startOffset - b.startOffset);
}

/** What {@link buildInstruction} made of a logical line. */
interface Built {
  /** The node, or undefined when the line had an error that leaves no usable node. */
  readonly node: InstructionNode | undefined;
  /** Heredoc markers whose bodies follow the line (consumed even when the node is bad). */
  readonly heredocs: readonly HeredocMarker[];
}

/**
 * BuildKit's `newNodeFromLine` for the logical line's text from `base`
 * (ONBUILD recurses with the offset of its wrapped instruction).
 */
function buildInstruction(logical: LogicalLine, base: number, escape: string, comments: readonly string[], diagnostics: Diagnostic[]): Built {
  const text = logical.text;
  const pos = (offset: number) => logical.positionAt(offset);
  const range = (a: number, b: number): SourceRange => ({ start: pos(a), end: pos(Math.max(a, b - 1)) });
  let s0 = base + leadingSpace(text.slice(base));
  let e0 = text.length;
  while (e0 > s0 && isGoSpace(text[e0 - 1]!)) e0--;
  let cmdEnd = s0;
  while (cmdEnd < e0 && !/[\t\v\f\r ]/.test(text[cmdEnd]!)) cmdEnd++;
  const keywordText = text.slice(s0, cmdEnd);
  const keyword = keywordText.toUpperCase();
  let restStart = cmdEnd;
  while (restStart < e0 && /[\t\v\f\r ]/.test(text[restStart]!)) restStart++;
  const restText = text.slice(restStart, e0);
  const { flags: rawFlags, argsOffset } = extractFlags(restText, escape);
  let argsStart = restStart + argsOffset;
  while (argsStart < e0 && isGoSpace(text[argsStart]!)) argsStart++;
  const argsText = text.slice(argsStart, e0);
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
  const instructionRange: SourceRange = { start: pos(s0), end: logical.end };
  const argsRange: SourceRange = argsStart < e0 ? range(argsStart, e0) : { start: logical.end, end: logical.end };
  const keywordRange = range(s0, cmdEnd);

  let args: string[] = [];
  let json = false;
  let keyValues: InstructionNode["keyValues"] = [];
  let onbuild: InstructionNode | undefined;
  let heredocs: readonly HeredocMarker[] = [];
  let ok = true;

  if (keyword === "ONBUILD") {
    if (argsText !== "") {
      const inner = buildInstruction(logical, argsStart, escape, [], diagnostics);
      onbuild = inner.node;
      ok = inner.node !== undefined;
      heredocs = inner.heredocs;
    }
  } else {
    if (!isInstructionKeyword(keyword)) {
      const hint = suggest(keyword, INSTRUCTION_KEYWORDS);
      diagnostics.push({
        severity: "error",
        code: "DF_UNKNOWN_INSTRUCTION",
        message: `unknown instruction: ${keywordText}${hint ? ` (did you mean ${hint}?)` : ""}`,
        range: keywordRange,
        hint: hint ? undefined : `instructions are ${INSTRUCTION_KEYWORDS.join(", ")}`,
      });
    } else {
      const split = splitArguments(keyword, argsText, escape);
      if (split.error) {
        diagnostics.push({ severity: "error", code: "DF_SYNTAX", message: split.error, range: argsStart < e0 ? argsRange : instructionRange });
        ok = false;
      }
      args = split.args;
      json = split.json;
      keyValues = split.keyValues;
    }
    if (HEREDOC_KEYWORDS.has(keyword) && !json && text.includes("<<", s0)) {
      heredocs = heredocsFromLine(text.slice(s0, e0));
    }
  }

  const node: InstructionNode = {
    keyword,
    keywordText,
    keywordRange,
    flags,
    args,
    json,
    keyValues,
    heredocs: [],
    ...(onbuild ? { onbuild } : {}),
    original: text.slice(s0, e0),
    rest: restText,
    argsRange,
    comments: [...comments],
    range: instructionRange,
    hasEmptyContinuation: logical.hasEmptyContinuation,
  };
  return { node: ok ? node : undefined, heredocs };
}

/** Reads heredoc bodies after line `afterLine`, one per marker, as BuildKit's scanner loop does. */
function readHeredocBodies(
  rawLines: readonly string[],
  afterLine: number,
  markers: readonly HeredocMarker[],
): { heredocs: HeredocNode[]; lastLine: number; error?: string } {
  const heredocs: HeredocNode[] = [];
  let index = afterLine; // 0-based index of the next line to read
  for (const marker of markers) {
    const startLine = index + 1;
    let content = "";
    let terminated = false;
    while (index < rawLines.length) {
      const raw = rawLines[index++]!;
      let candidate = trimNewline(raw);
      if (marker.chomp) candidate = candidate.replace(/^\t+/, "");
      if (candidate === marker.name) {
        terminated = true;
        break;
      }
      content += raw;
    }
    if (!terminated) return { heredocs, lastLine: Math.max(afterLine, rawLines.length), error: marker.name };
    heredocs.push({
      name: marker.name,
      content: marker.chomp ? chompHeredoc(content) : content,
      quoted: marker.quoted,
      chomp: marker.chomp,
      ...(marker.fd ? { fd: marker.fd } : {}),
      range: { start: { line: startLine, column: 1 }, end: { line: index, column: 1 } },
    });
  }
  return { heredocs, lastLine: index };
}
