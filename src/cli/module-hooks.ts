/**
 * Module resolution hook of the tsbuild process (registered by `run.ts`,
 * never imported by the library): resolves `chevrotain` to the single-file
 * bundle its package ships (`lib/chevrotain.mjs`) instead of `lib/src/api.js`,
 * whose graph pulls in about 700 files (every lodash-es function is a module
 * of its own). Same code, same exports; loading it takes a few milliseconds
 * instead of about half a second, which dominated a no-op build.
 * Anything unexpected (another layout, no bundle) keeps the normal resolution.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface Resolved {
  readonly url: string;
  readonly format?: string | null;
  readonly shortCircuit?: boolean;
}

const API = "/lib/src/api.js";

/** Node's `resolve` hook (see `module.register`). */
export async function resolve(specifier: string, context: unknown, nextResolve: (specifier: string, context?: unknown) => Promise<Resolved>): Promise<Resolved> {
  const result = await nextResolve(specifier, context);
  if (specifier !== "chevrotain" || !result.url.endsWith(API)) return result;
  const bundle = `${result.url.slice(0, -API.length)}/lib/chevrotain.mjs`;
  try {
    if (!existsSync(fileURLToPath(bundle))) return result;
  } catch {
    return result;
  }
  return { ...result, url: bundle, format: "module" };
}
