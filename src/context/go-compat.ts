/**
 * Exact re-implementations of the few Go standard library functions whose
 * behaviour Docker's `.dockerignore` handling depends on. They work on
 * `/`-separated paths only, as Go does on Linux (the platform BuildKit's
 * rules are defined on); JavaScript's `path.posix` differs in the corners
 * (`path.posix.normalize("a/")` keeps the slash, `String#trim` strips U+FEFF
 * but not U+0085), and those corners are exactly what a port has to get right.
 */

/**
 * Go's `filepath.Clean` on a Unix system: the shortest path equivalent to
 * `p` by purely lexical processing.
 *
 * 1. Runs of `/` become one `/`.
 * 2. `.` elements are removed.
 * 3. `..` elements remove the preceding non-`..` element.
 * 4. `..` elements directly after a leading `/` are removed (`/..` is `/`).
 * 5. A trailing `/` is removed, except for the root `/` itself.
 *
 * The empty result is `"."`. No filesystem access, no symlink resolution.
 */
export function goClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.charCodeAt(0) === 0x2f;
  const out: string[] = [];
  for (const element of p.split("/")) {
    if (element === "" || element === ".") continue;
    if (element === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(element);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/**
 * Go's `filepath.Dir` on a Unix system: everything up to the last `/`,
 * cleaned with {@link goClean}. A path without `/` gives `"."`; `"a/b/"`
 * gives `"a/b"` (the trailing slash makes `b` a directory, not the last
 * element).
 */
export function goDir(p: string): string {
  const slash = p.lastIndexOf("/");
  return goClean(slash < 0 ? "" : p.slice(0, slash + 1));
}

/** Code points Go's `unicode.IsSpace` accepts (Latin-1 spaces plus White_Space). */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  }
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/**
 * Go's `strings.TrimSpace`: removes leading and trailing characters for
 * which `unicode.IsSpace` holds — ASCII `\t \n \v \f \r` and space, U+0085,
 * U+00A0 and the Unicode White_Space characters. Unlike `String#trim`, it
 * keeps U+FEFF (a byte order mark) and removes U+0085 (NEL).
 */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  // All Go space characters are in the BMP, so code units suffice.
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
