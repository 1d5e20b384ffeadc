/**
 * Orders two strings by UTF-16 code unit, as `Array.prototype.sort` does
 * without a comparator: deterministic and locale-independent.
 *
 * Why not `localeCompare`: its first call in a process loads ICU's collator
 * (~10 ms), and the orders tsbuild needs (paths, names, scope actions) only
 * have to be stable, not linguistic.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
