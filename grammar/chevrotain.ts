/**
 * The chevrotain runtime the grammar uses. chevrotain's package entry
 * (`lib/src/api.js`) imports about 700 modules (each lodash-es function is
 * one), which took about half a second to load and dominated a no-op build;
 * the package also ships the same code as one file, `lib/chevrotain.mjs`,
 * which its `exports` map does not expose. This module loads that file next
 * to the resolved entry, and falls back to the normal import when the layout
 * differs or `import.meta.resolve` is unavailable (test runners).
 */
import type * as Chevrotain from "chevrotain";

async function load(): Promise<typeof Chevrotain> {
  try {
    const entry = import.meta.resolve("chevrotain");
    if (entry.endsWith("/lib/src/api.js")) {
      return (await import(entry.slice(0, -"/lib/src/api.js".length) + "/lib/chevrotain.mjs")) as typeof Chevrotain;
    }
  } catch {
    // No bundle, or no import.meta.resolve: use the package entry.
  }
  return import("chevrotain");
}

const chevrotain = await load();

/** chevrotain's `createToken`. */
export const createToken = chevrotain.createToken;
/** chevrotain's `Lexer`. */
export const Lexer = chevrotain.Lexer;
/** chevrotain's `EmbeddedActionsParser`. */
export const EmbeddedActionsParser = chevrotain.EmbeddedActionsParser;
