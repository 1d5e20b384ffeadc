/**
 * Source text and positions. Every node the frontend produces carries a
 * {@link SourceRange} so that errors found at any later stage (typed
 * instructions, planning, a RUN failing at run time) can point back at the
 * Dockerfile lines that caused them.
 */

/** A file whose text travels with the AST, so error rendering never re-reads the disk. */
export interface SourceFile {
  /** Path as the user named it (for messages), e.g. `Dockerfile` or `sub/Dockerfile.dev`. */
  readonly path: string;
  /** The whole text, exactly as read (BOM and CRLF included). */
  readonly text: string;
}

/** A position in a file: both 1-based, columns counted in UTF-16 code units of the physical line. */
export interface SourcePosition {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/**
 * An inclusive range of source text. `end` is the position of the last
 * character in the range (so a one-character token has `start == end`).
 */
export interface SourceRange {
  /** First character of the range. */
  readonly start: SourcePosition;
  /** Last character of the range (inclusive). */
  readonly end: SourcePosition;
}
