import type { IToken } from "chevrotain";
import type { SourcePosition } from "../diagnostics/source.js";
import { leadingSpace } from "./chars.js";

/** A piece of a logical line and where it starts in the file. */
interface Segment {
  /** Offset of the piece in the logical line. */
  readonly offset: number;
  /** 1-based line of the piece's first character. */
  readonly line: number;
  /** 1-based column of the piece's first character. */
  readonly column: number;
}

/** One logical line: the folded text and a map back to file positions. */
export interface LogicalLine {
  /** The folded text (first physical line left-trimmed, continuations removed). */
  readonly text: string;
  /** True when an empty or blank line sat inside the continuation. */
  readonly hasEmptyContinuation: boolean;
  /** Position just after the instruction's last token (inclusive end). */
  readonly end: SourcePosition;
  /** 1-based line of the first token. */
  readonly firstLine: number;
  /**
   * Where the instruction starts: its first non-blank character, which is
   * the keyword unless the instruction begins with lines holding only the
   * escape character (BuildKit counts those lines as part of it).
   */
  readonly start: SourcePosition;
  /** Maps an offset in {@link text} to a file position. */
  positionAt(offset: number): SourcePosition;
}

/**
 * Folds the tokens of one `instruction` (in source order) into a logical
 * line, as BuildKit's `Parse` loop does: the first physical line is trimmed
 * on the left, later lines keep their leading white space, continuation
 * escapes are removed, comment lines are skipped, and empty or blank lines
 * are skipped but noted.
 */
export function foldInstruction(tokens: readonly IToken[]): LogicalLine {
  const segments: Segment[] = [];
  let text = "";
  let first = true;
  let hasEmptyContinuation = false;
  let prevName = "";
  let last = tokens[0]!;
  let start: SourcePosition | undefined;
  for (const tok of tokens) {
    const name = tok.tokenType.name;
    if (name === "Text") {
      const lead = first ? leadingSpace(tok.image) : 0;
      if (!start && lead < tok.image.length) start = { line: tok.startLine!, column: tok.startColumn! + lead };
      segments.push({ offset: text.length, line: tok.startLine!, column: tok.startColumn! + lead });
      text += lead ? tok.image.slice(lead) : tok.image;
    } else if (name === "BlankLine" || (name === "Newline" && prevName === "Newline")) {
      hasEmptyContinuation = true;
    } else if (name === "Continuation" && !start) {
      start = { line: tok.startLine!, column: tok.startColumn! };
    }
    first = false;
    prevName = name;
    if (name !== "Newline") last = tok;
  }
  if (segments.length === 0) segments.push({ offset: 0, line: tokens[0]!.startLine!, column: tokens[0]!.startColumn! });
  const end = { line: last.endLine ?? last.startLine!, column: last.endColumn ?? last.startColumn! };
  return {
    text,
    hasEmptyContinuation,
    end,
    firstLine: tokens[0]!.startLine!,
    start: start ?? { line: tokens[0]!.startLine!, column: tokens[0]!.startColumn! },
    positionAt(offset: number): SourcePosition {
      // Binary search for the last segment starting at or before offset.
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (segments[mid]!.offset <= offset) lo = mid;
        else hi = mid - 1;
      }
      const seg = segments[lo]!;
      return { line: seg.line, column: seg.column + Math.max(0, offset - seg.offset) };
    },
  };
}
