/**
 * Dockerfile word expansion with BuildKit's semantics (the shell lexer of
 * `frontend/dockerfile/shell/lex.go`): `$VAR`, `${VAR}`, the `-`, `+`, `?`
 * modifiers with and without `:`, `#`/`##`/`%`/`%%` pattern trimming,
 * `/`/`//` replacement, quotes and the Dockerfile escape character.
 *
 * This is not a POSIX shell: there is no command substitution, arithmetic,
 * tilde or glob expansion, `${#VAR}` or `${VAR:=w}`, and patterns have no
 * bracket expressions.
 */
import { ExpansionFailure, toBuildError } from "./failure.js";
import { ShellWordLexer } from "./lexer.js";
import type { ExpandOptions, ExpansionResult, WordsExpansionResult } from "./types.js";
import { WordAccumulator } from "./words.js";

export type { ExpandOptions, ExpansionResult, WordsExpansionResult } from "./types.js";

// Either escape character is checked, whichever is in force: a false
// positive only costs the slow path.
const NEEDS_LEXER = /^\ufeff|[$'"\\`]/;

function run(word: string, lexer: ShellWordLexer, words?: WordAccumulator): string {
  try {
    return lexer.run(words);
  } catch (err) {
    if (err instanceof ExpansionFailure) throw toBuildError(word, err);
    throw err;
  }
}

/**
 * Expands `word` as one word (BuildKit `ProcessWord`): variables are
 * substituted, quotes and escapes removed, and white space is kept as is.
 *
 * @throws BuildError with code `DF_EXPANSION` and BuildKit's message, e.g.
 *   `failed to process "${X:?need X}": X: need X`, for `:?`/`?` failures,
 *   unterminated quotes, `${}`, missing `}`, unsupported modifiers and bad
 *   patterns.
 */
export function expandWord(word: string, opts: ExpandOptions): ExpansionResult {
  // Most arguments hold nothing to expand. Without `$`, quotes, an escape
  // character or a leading byte order mark (which the lexer drops) the
  // result is the input itself, and no name is referenced.
  if (!NEEDS_LEXER.test(word)) return { value: word, matched: new Set(), unmatched: new Set() };
  const lexer = new ShellWordLexer(word, opts);
  const value = run(word, lexer);
  return { value, matched: lexer.matched, unmatched: lexer.unmatched };
}

/**
 * Expands `word` and splits it into fields (BuildKit `ProcessWords`):
 * unquoted text and unquoted expansion results split on white space, quoted
 * text and escaped characters do not, and empty fields are dropped.
 *
 * @throws BuildError with code `DF_EXPANSION`, as {@link expandWord}.
 */
export function expandWords(word: string, opts: ExpandOptions): WordsExpansionResult {
  const lexer = new ShellWordLexer(word, opts);
  const accumulator = new WordAccumulator();
  const value = run(word, lexer, accumulator);
  return { value, words: accumulator.finish(), matched: lexer.matched, unmatched: lexer.unmatched };
}
