/**
 * Loads undici's modules by path for `undici-lite.ts`: the three internal
 * files a request needs, or the package entry as the fallback.
 *
 * One tiny module so the CLI bundle can replace it (`scripts/bundle.ts`)
 * by static `require`s that esbuild inlines: loading those files one by
 * one from node_modules cost 35-55 ms of every registry command; inside
 * the bundle they share its code cache. Everywhere else (the library, the
 * tests) this file loads them from node_modules.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The undici files `undici-lite.ts` uses, by role. */
export type UndiciPart = "agent" | "api-request" | "connect";

/** Where each part lives inside the undici package. */
export const UNDICI_PART_PATHS: Readonly<Record<UndiciPart, string>> = {
  agent: "undici/lib/dispatcher/agent.js",
  "api-request": "undici/lib/api/api-request.js",
  connect: "undici/lib/core/connect.js",
};

/** The module.exports of one of undici's internal files (throws if undici moved it). */
export function requireUndiciPart(part: UndiciPart): unknown {
  return require(UNDICI_PART_PATHS[part]);
}

/** undici's package entry (every export; slower to load). */
export function requireUndiciPackage(): unknown {
  return require("undici");
}
