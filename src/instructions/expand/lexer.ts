import { CH, EOF, isDigit, isNameChar, isSpecialParam, runeString } from "./chars.js";
import { ExpansionFailure } from "./failure.js";
import { replaceAll, replaceFirst, trimPrefix, trimSuffix } from "./pattern-ops.js";
import { CodePointScanner } from "./scanner.js";
import type { ExpandOptions } from "./types.js";
import { WordAccumulator } from "./words.js";

/**
 * One run of BuildKit's shell-word lexer (`shellWord` in
 * `frontend/dockerfile/shell/lex.go`) over one input. The method structure
 * mirrors BuildKit's so that the order of side effects (which nested word
 * is expanded first, when a missing `}` is reported) is the same.
 */
export class ShellWordLexer {
  /** Names looked up and found set. */
  readonly matched = new Set<string>();
  /** Names looked up and found unset. */
  readonly unmatched = new Set<string>();

  private readonly scanner: CodePointScanner;
  private readonly escape: number;
  private readonly rawQuotes: boolean;
  private readonly skipUnset: boolean;
  private readonly skipProcessQuotes: boolean;
  private readonly lookup: (name: string) => string | undefined;
  // Whether escape characters are kept in the output. True while reading a
  // pattern or replacement, so the pattern compiler still sees `\*`.
  private rawEscapes = false;

  /** Prepares to lex `source`. */
  constructor(source: string, options: ExpandOptions) {
    this.scanner = new CodePointScanner(source);
    this.escape = options.escapeChar.codePointAt(0) ?? CH.BACKSLASH;
    this.rawQuotes = options.rawQuotes ?? false;
    this.skipUnset = options.skipUnset ?? false;
    this.skipProcessQuotes = options.skipProcessQuotes ?? false;
    this.lookup = options.lookup;
  }

  /**
   * Expands the whole input. When `words` is given, the top-level fields
   * are collected into it.
   */
  run(words?: WordAccumulator): string {
    return this.processStopOn(EOF, false, words);
  }

  /**
   * Reads until `stop` (consumed) or the end of input, expanding `$`,
   * quotes and escapes. Reaching the end while looking for `stop` fails.
   *
   * Nested calls (for `${VAR:-word}` and patterns) get no accumulator: only
   * the top level splits words. Recent BuildKit (the lex.go with
   * `EnvGetter`) shares one word buffer between levels and resets it on
   * entry, so `ProcessWords` loses the text before a nested `${X:-..}`
   * (`a${X:-b}` gives `b`); that is a bug we deliberately do not copy.
   */
  private processStopOn(stop: number, rawEscapes: boolean, words?: WordAccumulator): string {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const sc = this.scanner;
      let result = "";
      for (let ch = sc.peek(); ch !== EOF; ch = sc.peek()) {
        if (stop !== EOF && ch === stop) {
          sc.next();
          return result;
        }
        if (ch === CH.DOLLAR) {
          const value = this.processDollar();
          result += value;
          words?.addString(value);
          continue;
        }
        if ((ch === CH.SQUOTE || ch === CH.DQUOTE) && !this.skipProcessQuotes) {
          const value = ch === CH.SQUOTE ? this.processSingleQuote() : this.processDoubleQuote();
          result += value;
          words?.addRaw(value);
          continue;
        }
        let c = sc.next();
        if (c === this.escape) {
          if (this.rawEscapes) {
            const esc = String.fromCodePoint(c);
            words?.addRaw(esc);
            result += esc;
          }
          c = sc.next();
          // An escape at the very end of the input is dropped.
          if (c === EOF) break;
          words?.addRaw(String.fromCodePoint(c));
        } else {
          words?.addChar(c);
        }
        result += String.fromCodePoint(c);
      }
      if (stop !== EOF) {
        throw new ExpansionFailure(`unexpected end of statement while looking for matching ${runeString(stop)}`);
      }
      return result;
    } finally {
      this.rawEscapes = saved;
    }
  }

  /**
   * A nested {@link processStopOn} whose failures become `eofMessage` when
   * the input is exhausted: BuildKit reports `${X:-'a}` as a missing `}`
   * rather than as the unterminated quote inside it.
   */
  private nested(stop: number, rawEscapes: boolean, eofMessage: string): string {
    try {
      return this.processStopOn(stop, rawEscapes);
    } catch (err) {
      if (err instanceof ExpansionFailure && this.scanner.peek() === EOF) throw new ExpansionFailure(eofMessage);
      throw err;
    }
  }

  /** `'...'`: everything literal up to the next `'`; no escapes at all. */
  private processSingleQuote(): string {
    const sc = this.scanner;
    sc.next();
    let result = this.rawQuotes ? "'" : "";
    for (;;) {
      const c = sc.next();
      if (c === EOF) throw new ExpansionFailure("unexpected end of statement while looking for matching single-quote");
      if (c === CH.SQUOTE) return this.rawQuotes ? result + "'" : result;
      result += String.fromCodePoint(c);
    }
  }

  /**
   * `"..."`: `$` expands; the escape character escapes only `"`, `$` and
   * itself and is otherwise kept (`"a\tb"` stays `a\tb`).
   */
  private processDoubleQuote(): string {
    const sc = this.scanner;
    sc.next();
    let result = this.rawQuotes ? '"' : "";
    for (;;) {
      const p = sc.peek();
      if (p === EOF) throw new ExpansionFailure("unexpected end of statement while looking for matching double-quote");
      if (p === CH.DQUOTE) {
        sc.next();
        return this.rawQuotes ? result + '"' : result;
      }
      if (p === CH.DOLLAR) {
        result += this.processDollar();
        continue;
      }
      let c = sc.next();
      if (c === this.escape) {
        // In raw mode the escape is written here *and*, if it escapes
        // nothing, again below: BuildKit doubles it (`"\t"` -> `\\t`).
        if (this.rawEscapes) result += String.fromCodePoint(c);
        const following = sc.peek();
        if (following === EOF) continue;
        if (following === CH.DQUOTE || following === CH.DOLLAR || following === this.escape) c = sc.next();
      }
      result += String.fromCodePoint(c);
    }
  }

  /** `$name`, `${name}` and `${name<modifier>...}`, the `$` not yet consumed. */
  private processDollar(): string {
    const sc = this.scanner;
    sc.next();

    if (sc.peek() !== CH.LBRACE) {
      const name = this.processName();
      // `$` before a non-name character (`$.`, `$/`, end) is literal.
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.skipUnset) return "$" + name;
      return value ?? "";
    }

    sc.next();
    const first = sc.peek();
    if (first === EOF) throw new ExpansionFailure("syntax error: missing '}'");
    if (first === CH.LBRACE || first === CH.RBRACE || first === CH.COLON) {
      throw new ExpansionFailure("syntax error: bad substitution");
    }
    const name = this.processName();
    let ch = sc.next();
    let modifier = runeString(ch);

    if (ch === CH.RBRACE) {
      const value = this.getEnv(name);
      if (value === undefined && this.skipUnset) return "${" + name + "}";
      return value ?? "";
    }
    if (ch === CH.SLASH) return this.processReplace(name);

    let nullIsUnset = false;
    if (ch === CH.COLON) {
      nullIsUnset = true;
      ch = sc.next();
      modifier += runeString(ch);
    } else if (ch !== CH.PLUS && ch !== CH.MINUS && ch !== CH.QUESTION && ch !== CH.HASH && ch !== CH.PERCENT) {
      throw unsupported(modifier);
    }
    const isTrim = ch === CH.HASH || ch === CH.PERCENT;
    if (nullIsUnset && isTrim) throw unsupported(modifier);

    // The word is expanded before the modifier is checked and whether or
    // not it is used: `${X:=a}` fails only after `a` is read, and
    // `${SET:-${Y:?}}` fails although the default is not needed.
    const word = this.nested(CH.RBRACE, isTrim, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.skipUnset) return "${" + name + modifier + word + "}";
    const unset = value === undefined || (nullIsUnset && value === "");

    switch (ch) {
      case CH.MINUS:
        return unset ? word : (value ?? "");
      case CH.PLUS:
        return unset ? "" : word;
      case CH.QUESTION:
        if (value === undefined) throw new ExpansionFailure(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
        if (unset) throw new ExpansionFailure(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
        return value;
      case CH.HASH:
      case CH.PERCENT: {
        // `##`/`%%` are recognised on the *expanded* word, so a pattern that
        // expands to `#x` (from `'#x'` or a variable) is greedy too.
        const marker = ch === CH.HASH ? "#" : "%";
        const greedy = word.startsWith(marker);
        const pattern = greedy ? word.slice(1) : word;
        return ch === CH.HASH ? trimPrefix(pattern, value ?? "", greedy) : trimSuffix(pattern, value ?? "", greedy);
      }
      default:
        throw unsupported(modifier);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`, after the first `/`. */
  private processReplace(name: string): string {
    const sc = this.scanner;
    const all = sc.peek() === CH.SLASH;
    if (all) sc.next();
    const pattern = this.nested(CH.SLASH, true, "syntax error: missing '/' in ${}");
    const replacement = this.nested(CH.RBRACE, true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    // BuildKit writes a single `/` back even for the `//` form.
    if (value === undefined && this.skipUnset) return "${" + name + "/" + pattern + "/" + replacement + "}";
    return all ? replaceAll(pattern, value ?? "", replacement) : replaceFirst(pattern, value ?? "", replacement);
  }

  /**
   * A variable name: a run of digits (positional, `$10` is one name), one
   * special parameter character, or letters, digits and `_`. Empty when
   * none of these follows.
   */
  private processName(): string {
    const sc = this.scanner;
    let name = "";
    for (let ch = sc.peek(); ch !== EOF; ch = sc.peek()) {
      if (name === "" && isDigit(ch)) {
        while (isDigit(sc.peek())) name += String.fromCodePoint(sc.next());
        return name;
      }
      if (name === "" && isSpecialParam(ch)) return String.fromCodePoint(sc.next());
      if (!isNameChar(ch)) break;
      name += String.fromCodePoint(sc.next());
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const value = this.lookup(name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }
}

function unsupported(modifier: string): ExpansionFailure {
  return new ExpansionFailure(`unsupported modifier (${modifier}) in substitution`);
}
