/**
 * The Dockerfile line grammar: how physical lines group into instructions.
 *
 * ```
 * dockerfile   := ( Newline | CommentLine | BlankLine | instruction )*
 * instruction  := ( Text | ε ) continued*
 * continued    := Continuation ( Newline skipped* Text? )?
 * skipped      := Newline | CommentLine Newline? | BlankLine Newline?
 * ```
 *
 * An instruction is one logical line: a first physical line, then, for as
 * long as a line ends with the escape character, the next line. Comment
 * lines and blank lines inside it are skipped (BuildKit skips them too, and
 * warns about the blank ones). What a logical line *means* (keyword, flags,
 * JSON or shell form, heredoc bodies that follow it) is decided in
 * `src/syntax/`, which folds the tokens of each `instruction` the way
 * BuildKit's parser folds lines.
 *
 * Every token sequence the lexer can produce is accepted by this grammar, so
 * parsing itself never fails; problems are found when lines are interpreted.
 * The parser is stateless between inputs and reused (setting `input` resets it).
 */
import { CstParser, type CstNode, type IToken } from "chevrotain";
import { lineTokens, type EscapeChar, type LineTokens } from "./tokens.js";

/** A CstParser for one token set. Rules are properties so a misspelt SUBRULE is a type error. */
export class DockerfileLineParser extends CstParser {
  private readonly t: LineTokens;

  constructor(tokens: LineTokens) {
    super([...tokens.all], { recoveryEnabled: false, maxLookahead: 2, nodeLocationTracking: "none" });
    this.t = tokens;
    this.performSelfAnalysis();
  }

  /** The whole file. */
  public dockerfile = this.RULE("dockerfile", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(this.t.Newline) },
        { ALT: () => this.CONSUME(this.t.CommentLine) },
        { ALT: () => this.CONSUME(this.t.BlankLine) },
        { ALT: () => this.SUBRULE(this.instruction) },
      ]);
    });
  });

  /** One logical line: an optional first text, then continued lines. */
  public instruction = this.RULE("instruction", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(this.t.Text);
          this.MANY(() => this.SUBRULE(this.continued));
        },
      },
      { ALT: () => this.AT_LEAST_ONE(() => this.SUBRULE2(this.continued)) },
    ]);
  });

  /** A continuation escape and what the next physical lines add. */
  public continued = this.RULE("continued", () => {
    this.CONSUME(this.t.Continuation);
    this.OPTION(() => {
      this.CONSUME(this.t.Newline);
      this.MANY(() => this.SUBRULE(this.skipped));
      this.OPTION2(() => this.CONSUME(this.t.Text));
    });
  });

  /** Lines a continuation passes over: empty, blank and comment lines. */
  public skipped = this.RULE("skipped", () => {
    this.OR([
      { ALT: () => this.CONSUME(this.t.Newline) },
      {
        ALT: () => {
          this.CONSUME(this.t.CommentLine);
          this.OPTION(() => this.CONSUME2(this.t.Newline));
        },
      },
      {
        ALT: () => {
          this.CONSUME(this.t.BlankLine);
          this.OPTION2(() => this.CONSUME3(this.t.Newline));
        },
      },
    ]);
  });
}

/** The lexer and parser for one escape character, built once. */
export interface LineGrammar {
  /** Token types and lexer. */
  readonly tokens: LineTokens;
  /** The shared parser instance. */
  readonly parser: DockerfileLineParser;
}

const grammars = new Map<EscapeChar, LineGrammar>();

/** The grammar for an escape character (lexer + parser, cached). */
export function lineGrammar(escape: EscapeChar): LineGrammar {
  let g = grammars.get(escape);
  if (!g) {
    const tokens = lineTokens(escape);
    g = { tokens, parser: new DockerfileLineParser(tokens) };
    grammars.set(escape, g);
  }
  return g;
}

/** The result of lexing and parsing a whole file with the line grammar. */
export interface LineParse {
  /** All tokens in source order. */
  readonly tokens: readonly IToken[];
  /** The `dockerfile` CST node. */
  readonly cst: CstNode;
  /** Lexer or parser errors; empty for every input by construction, kept as a safety net. */
  readonly errors: readonly { message: string; offset: number; line?: number; column?: number }[];
}

/** Lexes and parses `text` (BOM already removed) with the line grammar for `escape`. */
export function parseLines(text: string, escape: EscapeChar): LineParse {
  const { tokens, parser } = lineGrammar(escape);
  const lexed = tokens.lexer.tokenize(text);
  parser.input = lexed.tokens;
  const cst = parser.dockerfile();
  const errors = [
    ...lexed.errors.map((e) => ({ message: e.message, offset: e.offset, line: e.line, column: e.column })),
    ...parser.errors.map((e) => ({
      message: e.message,
      offset: e.token.startOffset,
      line: e.token.startLine,
      column: e.token.startColumn,
    })),
  ];
  return { tokens: lexed.tokens, cst, errors };
}
