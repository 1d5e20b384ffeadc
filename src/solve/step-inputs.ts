import { BuildError, withLocation } from "../diagnostics/build-error.js";
import { checksumSelection } from "../copy/checksum.js";
import type { FileHashCache } from "../copy/file-hash-cache.js";
import type { DownloadedFile } from "../copy/http-source.js";
import { isGitSource, isUrlSource } from "../copy/source-path.js";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import type { StepNode } from "../plan/graph.js";

/**
 * What a step reads from outside the build graph, in the form its cache key
 * needs (the `checksums` of `stepKey`):
 *
 * - the content checksum of the context files each COPY/ADD source, or
 *   each bind mount of the context, selects;
 * - for each `ADD <URL>` without `--checksum`, the digest of the body the
 *   URL serves now, with the file name and `Last-Modified` time it will be
 *   written with (asked with a conditional GET against the store's copy,
 *   so an unchanged body is not downloaded again). As with BuildKit's HTTP
 *   source (its cache key hashes the filename, the content digest and the
 *   modification time), a URL whose content changed reruns the step, and
 *   an unchanged one is a cache hit.
 *   So the URL is fetched before the cache lookup, and a step that then
 *   runs copies those downloaded bytes ({@link downloads}), never a second
 *   download that could differ from what was keyed;
 * - for an `ADD --checksum=<digest> <URL>`, only the URL: the digest is in
 *   the step's definition, and the copy refuses any other content, so
 *   nothing is fetched unless the step runs;
 * - for an `ADD` of a Git repository, the commit its ref names now
 *   (`git ls-remote`, see `copy/git-source.ts`), with the remote and
 *   subdirectory: the copy then checks out that commit ({@link gitCommits}).
 */
export interface StepInputs {
  /** The key's checksums, in a fixed order: context selections first, then URLs in source order. */
  readonly checksums: readonly string[];
  /** The URL bodies fetched for the key, by URL; hand them to the copy. */
  readonly downloads: ReadonlyMap<string, DownloadedFile>;
  /** The commit each Git source resolved to for the key, by source; the copy fetches exactly that commit. */
  readonly gitCommits: ReadonlyMap<string, string>;
  /** Removes the downloads. Never throws. */
  dispose(): Promise<void>;
}

/** Where {@link stepInputs} reads from. */
export interface StepInputsContext {
  /** Absolute build context directory. */
  readonly contextDir: string;
  /** The store's root (where URL bodies are cached, see `copy/http-cache.ts`). */
  readonly storeRoot: string;
  /** The context's ignore rules. */
  readonly ignore?: IgnoreMatcher;
  /** Stat cache of context file hashes. */
  readonly hashCache?: FileHashCache;
  /** Cancels checksums and downloads. */
  readonly signal: AbortSignal;
  /** Called around each URL fetch (a progress phase: a big download otherwise shows as a silent pause). */
  readonly onPhase?: (name: string, status: "start" | "done") => void;
}

const NONE: StepInputs = { checksums: [], downloads: new Map(), gitCommits: new Map(), dispose: async () => undefined };

/**
 * The inputs of `step` (see {@link StepInputs}). Errors carry the
 * instruction's location; downloads made before an error are removed.
 */
export async function stepInputs(step: StepNode, ctx: StepInputsContext): Promise<StepInputs> {
  const op = step.op;
  const base = { root: ctx.contextDir, ...(ctx.ignore ? { ignore: ctx.ignore } : {}), followTopLevelSymlinks: true };
  const opts = { ...(ctx.hashCache ? { cache: ctx.hashCache } : {}), signal: ctx.signal };
  const downloads = new Map<string, DownloadedFile>();
  const gitCommits = new Map<string, string>();
  const dispose = async (): Promise<void> => {
    for (const file of downloads.values()) await file.dispose().catch(() => undefined);
  };
  try {
    if (op.kind === "copy" && op.source.kind === "context" && op.copy.sources.length > 0) {
      // A Git source of ADD is keyed by the commit its ref names now (BuildKit's Git source key), resolved without fetching.
      const git = op.copy.sources.filter(isGitSource);
      if (git.length > 0 && op.copy.kind !== "add") {
        throw new BuildError("DF_ARGS", `source can't be a Git repository for COPY: ${JSON.stringify(git[0])}`, { hint: "use ADD to copy a Git repository" });
      }
      const urls = op.copy.sources.filter((s) => isUrlSource(s) && !git.includes(s));
      const local = op.copy.sources.filter((s) => !isUrlSource(s) && !git.includes(s));
      const sums = local.length ? [(await checksumSelection({ ...base, sources: local, excludes: op.copy.excludes, parents: op.copy.parents }, opts)).digest] : [];
      if (git.length > 0) {
        const { checkGitChecksum, parseGitRef, resolveGitRef } = await import("../copy/git-source.js");
        for (const source of git) {
          const ref = parseGitRef(source);
          if (!gitCommits.has(source)) {
            ctx.onPhase?.(`resolve ${ref.remote}`, "start");
            const resolved = await resolveGitRef(ref, ctx.signal);
            ctx.onPhase?.(`resolve ${ref.remote}`, "done");
            if (op.copy.checksum !== undefined) checkGitChecksum(ref, resolved, op.copy.checksum);
            gitCommits.set(source, resolved.commit);
          }
          sums.push(`git ${JSON.stringify({ remote: ref.remote, commit: gitCommits.get(source), subdir: ref.subdir })}`);
        }
      }
      if (urls.length === 0) return { checksums: sums, downloads, gitCommits, dispose };
      if (op.copy.checksum !== undefined) return { checksums: [...sums, ...urls], downloads, gitCommits, dispose };
      const [{ downloadUrl }, { HttpCache }] = await Promise.all([import("../copy/http-source.js"), import("../copy/http-cache.js")]);
      // Bodies are kept in the store: an unchanged URL answers 304 and is not downloaded again.
      const cache = new HttpCache(ctx.storeRoot);
      for (const url of urls) {
        if (downloads.has(url)) continue;
        ctx.onPhase?.(`fetch ${url}`, "start");
        downloads.set(url, await downloadUrl(url, { signal: ctx.signal, cache }));
        ctx.onPhase?.(`fetch ${url}`, "done");
      }
      const keyed = urls.map((url) => {
        const file = downloads.get(url);
        if (file === undefined) throw new BuildError("INTERNAL", `download of ${url} missing`);
        return `${url} ${JSON.stringify({ name: file.name, digest: file.digest, lastModified: file.lastModified ?? "" })}`;
      });
      return { checksums: [...sums, ...keyed], downloads, gitCommits, dispose };
    }
    if (op.kind === "exec") {
      const sums: string[] = [];
      for (const m of op.mounts) {
        if (m.type === "bind" && (m.sourceRef === undefined || m.sourceRef.kind === "context")) {
          sums.push((await checksumSelection({ ...base, sources: [m.source ?? "."] }, opts)).digest);
        }
      }
      return { checksums: sums, downloads, gitCommits, dispose };
    }
    return NONE;
  } catch (err) {
    await dispose();
    throw withLocation(err, step.range);
  }
}
