/**
 * Options for {@link expandWord} and {@link expandWords}. The defaults give
 * BuildKit's behaviour for instruction arguments (`ProcessWord` with a plain
 * `NewLex(escapeToken)`).
 */
export interface ExpandOptions {
  /** The Dockerfile escape character (`# escape=` directive): `\` or `` ` ``. */
  escapeChar: "\\" | "`";
  /**
   * Returns the value of a variable, or `undefined` when it is unset. An
   * empty string is *set* (`${X-d}` keeps it, `${X:-d}` replaces it).
   * Special and positional parameters (`1`, `@`, `#`...) and even the empty
   * name (from `${+x}`) are looked up too, as BuildKit does; a normal
   * environment never sets them, so they expand as unset.
   */
  lookup(name: string): string | undefined;
  /** Keep quotes in the result (BuildKit `RawQuotes`). Default false. */
  rawQuotes?: boolean;
  /**
   * Leave references to unset variables as written (BuildKit
   * `SkipUnsetEnv`), re-serialised from the parsed parts: `${X:-a b}` stays
   * `${X:-a b}`, but `${X//a/b}` comes back as `${X/a/b}`. Default false.
   */
  skipUnset?: boolean;
  /**
   * Treat quotes as ordinary characters (BuildKit `SkipProcessQuotes`): no
   * quoting rules apply, so `$X` inside quotes still expands and an
   * unmatched quote is just text. BuildKit expands COPY/ADD heredoc bodies
   * this way. Default false.
   */
  skipProcessQuotes?: boolean;
}

/** The outcome of {@link expandWord}. */
export interface ExpansionResult {
  /** The expanded text, with quotes and escapes removed (unless `rawQuotes`). */
  readonly value: string;
  /** Names that were referenced and set, in any position (even unused `${A:+$B}`). */
  readonly matched: ReadonlySet<string>;
  /** Names that were referenced and unset. */
  readonly unmatched: ReadonlySet<string>;
}

/** The outcome of {@link expandWords}: the expansion plus its fields. */
export interface WordsExpansionResult extends ExpansionResult {
  /**
   * The fields after word splitting. Unquoted text and unquoted expansion
   * results split on white space; quoted text and escaped characters never
   * do; empty fields (including `""`) are dropped.
   */
  readonly words: string[];
}
