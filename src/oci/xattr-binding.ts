/**
 * The @napi-rs/xattr native addon, loaded on first use.
 *
 * Why lazily: loading the addon (dlopen and its N-API registration) cost
 * ~8 ms of every start-up, and a no-op rebuild never reads or writes an
 * extended attribute (its file hashes come from the cache). Every module
 * that touches xattrs goes through {@link xattr}.
 */
import { createRequire } from "node:module";
import type * as Xattr from "@napi-rs/xattr";

const require = createRequire(import.meta.url);
let binding: typeof Xattr | undefined;

/** The addon's functions (`getAttributeSync`, `setAttribute`, ...). */
export function xattr(): typeof Xattr {
  return (binding ??= require("@napi-rs/xattr") as typeof Xattr);
}
