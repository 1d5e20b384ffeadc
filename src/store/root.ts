/**
 * Where the local store lives. Precedence: `--root`, then `TSBUILD_ROOT`,
 * then `$XDG_DATA_HOME/tsbuild`, then `~/.local/share/tsbuild` (the XDG Base
 * Directory default for data that must survive reboots, unlike a cache).
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** The environment variables the store root depends on. */
export type StoreEnv = Readonly<Record<string, string | undefined>>;

/**
 * The default store root for `env` (normally `process.env`), ignoring
 * `TSBUILD_ROOT`: `$XDG_DATA_HOME/tsbuild`, or `$HOME/.local/share/tsbuild`.
 * A relative `XDG_DATA_HOME` is ignored, as the XDG spec requires.
 */
export function defaultStoreRoot(env: StoreEnv = process.env): string {
  const xdg = env["XDG_DATA_HOME"];
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "tsbuild");
  const home = env["HOME"] !== undefined && env["HOME"] !== "" ? env["HOME"] : homedir();
  return join(home, ".local", "share", "tsbuild");
}

/**
 * The store root to use: `root` (from `--root`) when given, else
 * `TSBUILD_ROOT`, else {@link defaultStoreRoot}. Relative paths are resolved
 * against the current directory, so the result is always absolute.
 */
export function resolveStoreRoot(options: { root?: string | undefined; env?: StoreEnv | undefined } = {}): string {
  const env = options.env ?? process.env;
  if (options.root !== undefined && options.root !== "") return resolve(options.root);
  const fromEnv = env["TSBUILD_ROOT"];
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  return defaultStoreRoot(env);
}
