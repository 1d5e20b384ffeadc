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
 *
 * The rules return the tokens themselves rather than a CST: a top-level
 * line is its token, an instruction is the array of its tokens in source
 * order, which is all `src/syntax/` needs (no tree to walk or sort).
 */
import type { IToken } from "chevrotain";
import { EmbeddedActionsParser } from "./chevrotain.js";
import { lineTokens, type EscapeChar, type LineTokens } from "./tokens.js";

/**
 * One top-level element of a file, in source order: a lone `Newline`,
 * `CommentLine` or `BlankLine` token, or the tokens of one instruction
 * (its first text, continuations, skipped lines, in source order).
 */
export type LineItem = IToken | readonly IToken[];

/** True when `item` is an instruction (a token array) rather than a lone line token. */
export function isInstructionItem(item: LineItem): item is readonly IToken[] {
  return Array.isArray(item);
}

/** An EmbeddedActionsParser for one token set. Rules are properties so a misspelt SUBRULE is a type error. */
export class DockerfileLineParser extends EmbeddedActionsParser {
  private readonly t: LineTokens;

  /**
   * @param validate run chevrotain's grammar validations (ambiguities, left
   * recursion). Off by default: the grammar is fixed and a unit test
   * (test/unit/syntax/grammar.test.ts) constructs it with validations on;
   * at start-up they were half of the parser's construction time.
   */
  constructor(tokens: LineTokens, validate = false) {
    super([...tokens.all], { recoveryEnabled: false, maxLookahead: 2, skipValidations: !validate });
    this.t = tokens;
    this.performSelfAnalysis();
  }

  /** The whole file. */
  public dockerfile = this.RULE("dockerfile", (): LineItem[] => {
    const items: LineItem[] = [];
    this.MANY(() => {
      this.OR([
        { ALT: () => items.push(this.CONSUME(this.t.Newline)) },
        { ALT: () => items.push(this.CONSUME(this.t.CommentLine)) },
        { ALT: () => items.push(this.CONSUME(this.t.BlankLine)) },
        { ALT: () => items.push(this.SUBRULE(this.instruction)) },
      ]);
    });
    return items;
  });

  /** One logical line: an optional first text, then continued lines. */
  public instruction = this.RULE("instruction", (): IToken[] => {
    const tokens: IToken[] = [];
    this.OR([
      {
        ALT: () => {
          tokens.push(this.CONSUME(this.t.Text));
          this.MANY(() => this.SUBRULE(this.continued, { ARGS: [tokens] }));
        },
      },
      { ALT: () => this.AT_LEAST_ONE(() => this.SUBRULE2(this.continued, { ARGS: [tokens] })) },
    ]);
    return tokens;
  });

  /**
   * A continuation escape and what the next physical lines add, pushed onto
   * `tokens` (absent while chevrotain records the grammar).
   */
  public continued = this.RULE("continued", (tokens: IToken[] = []): void => {
    tokens.push(this.CONSUME(this.t.Continuation));
    this.OPTION(() => {
      tokens.push(this.CONSUME(this.t.Newline));
      this.MANY(() => this.SUBRULE(this.skipped, { ARGS: [tokens] }));
      this.OPTION2(() => tokens.push(this.CONSUME(this.t.Text)));
    });
  });

  /** Lines a continuation passes over: empty, blank and comment lines. */
  public skipped = this.RULE("skipped", (tokens: IToken[] = []): void => {
    this.OR([
      { ALT: () => tokens.push(this.CONSUME(this.t.Newline)) },
      {
        ALT: () => {
          tokens.push(this.CONSUME(this.t.CommentLine));
          this.OPTION(() => tokens.push(this.CONSUME2(this.t.Newline)));
        },
      },
      {
        ALT: () => {
          tokens.push(this.CONSUME(this.t.BlankLine));
          this.OPTION2(() => tokens.push(this.CONSUME3(this.t.Newline)));
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
  /** The file's top-level elements in source order. */
  readonly items: readonly LineItem[];
  /** Parser errors; empty for every input by construction, kept as a safety net. */
  readonly errors: readonly { message: string; offset: number; line?: number; column?: number }[];
}

/** Lexes and parses `text` (BOM already removed) with the line grammar for `escape`. */
export function parseLines(text: string, escape: EscapeChar): LineParse {
  const { tokens, parser } = lineGrammar(escape);
  parser.input = tokens.tokenize(text);
  const items = parser.dockerfile();
  if (parser.errors.length === 0) return { items, errors: [] };
  const errors = [
    ...parser.errors.map((e) => ({
      message: e.message,
      offset: e.token.startOffset,
      line: e.token.startLine,
      column: e.token.startColumn,
    })),
  ];
  return { items, errors };
}
