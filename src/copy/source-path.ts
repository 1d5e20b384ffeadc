import { goClean } from "../context/go-compat.js";

/**
 * Cleans a COPY/ADD source as written in the Dockerfile into a path
 * relative to the source root, the way BuildKit normalises it
 * (`system.NormalizePath("/", src)`): the path is taken as absolute (`/x`
 * and `x` are the same), cleaned lexically, and `..` can never climb above
 * the root (`../x` is `x`, `a/../../b` is `b`). Trailing `/` and `/.` are
 * dropped: a directory source always copies its contents. The root itself
 * is `""`.
 */
export function cleanSourcePath(source: string): string {
  const cleaned = goClean(`/${source}`);
  return cleaned === "/" ? "" : cleaned.slice(1);
}

/** The path as BuildKit shows it in errors: absolute (`"/missing.txt"`). */
export function displayPath(rel: string): string {
  return `/${rel}`;
}

/** True for an `http://` or `https://` source (ADD downloads it). */
export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * True for a source BuildKit would treat as a Git repository
 * (`git@host:repo`, `git://`, `ssh://`, or an http(s) URL ending in `.git`
 * or with a `.git#ref` fragment); `ADD` copies them (`git-source.ts`).
 */
export function isGitSource(source: string): boolean {
  if (/^git@[^:]+:/.test(source) || /^git:\/\//i.test(source) || /^ssh:\/\//i.test(source)) return true;
  if (!isUrlSource(source)) return false;
  const noFragment = source.split("#")[0] ?? source;
  const noQuery = noFragment.split("?")[0] ?? noFragment;
  return noQuery.endsWith(".git");
}
