import { posix } from "node:path";
import type { StepOp } from "../../plan/graph.js";
import type { LayerRef, Snapshotter } from "../../snapshot/snapshotter.js";
import { applyCopy } from "../../copy/apply.js";
import { withSourceRoot, type OpContext } from "./context.js";

type CopyOp = Extract<StepOp, { kind: "copy" }>;

/**
 * COPY/ADD into `rootfs` (a mounted overlay, or a bare upper directory when
 * the step runs unmounted, see {@link unmountedCopyParent}), reading from the
 * context, a stage or an image. Git sources of an ADD are first checked out,
 * at exactly the commits the step was keyed by (`ctx.gitCommits`), into
 * temporary directories removed afterwards.
 */
export async function runCopy(op: CopyOp, rootfs: string, ctx: OpContext): Promise<void> {
  const c = op.copy;
  const checkouts = new Map<string, string>();
  const disposers: (() => Promise<void>)[] = [];
  try {
    if (c.kind === "add" && ctx.gitCommits !== undefined && ctx.gitCommits.size > 0) {
      const { checkoutGit, parseGitRef } = await import("../../copy/git-source.js");
      for (const [source, commit] of ctx.gitCommits) {
        const checkout = await checkoutGit(parseGitRef(source), commit, { keepGitDir: c.keepGitDir, signal: ctx.signal });
        disposers.push(checkout.dispose);
        checkouts.set(source, checkout.dir);
      }
    }
    await copySources(op, rootfs, ctx, checkouts);
  } finally {
    for (const dispose of disposers) await dispose();
  }
}

async function copySources(op: CopyOp, rootfs: string, ctx: OpContext, gitCheckouts: ReadonlyMap<string, string>): Promise<void> {
  const c = op.copy;
  const copyFrom = async (root: string): Promise<void> => {
    await applyCopy({
      root,
      sources: c.sources,
      excludes: c.excludes,
      ...(op.source.kind === "context" && ctx.ignore ? { ignore: ctx.ignore } : {}),
      // BuildKit follows a top-level source symlink for every source (FollowSymlinks), resolved inside that source's root.
      followTopLevelSymlinks: true,
      // Context files arrive owned by root (the client resets them); files from a stage or image keep their owners.
      keepOwnership: op.source.kind !== "context",
      parents: c.parents,
      destRoot: rootfs,
      dest: c.dest,
      workdir: op.workdir,
      ...(c.chown !== undefined ? { chown: c.chown } : {}),
      ...(c.chmod !== undefined ? { chmod: c.chmod } : {}),
      inline: c.inline,
      ...(c.kind === "add"
        ? {
            add: {
              ...(c.unpack !== undefined ? { unpack: c.unpack } : {}),
              ...(c.checksum !== undefined ? { checksum: c.checksum } : {}),
              keepGitDir: c.keepGitDir,
              ...(ctx.downloads ? { downloaded: ctx.downloads } : {}),
              ...(gitCheckouts.size > 0 ? { gitCheckouts } : {}),
            },
          }
        : {}),
      signal: ctx.signal,
    });
  };
  const layer = op.source.kind === "context" ? undefined : await plainFilesLayer(op, ctx.chainOf(op.source), ctx.snapshotter, ctx.signal);
  if (layer !== undefined) return copyFrom(layer);
  await withSourceRoot(op.source, ctx, copyFrom);
}

/** Go's `filepath.Match` metacharacters: a source containing one is a pattern. */
const PATTERN_CHARS = /[*?[\\]/;

/**
 * For `COPY --from` of plain files (the common `COPY --from=build
 * /app/bin /usr/local/bin/`): the one layer directory of the source stage
 * or image that holds every source file, found without mounting
 * ({@link Snapshotter.plainFileLayer}); the copy then reads from it as its
 * root. Undefined whenever anything is less simple (ADD, patterns,
 * directories, symlinks, `--exclude`, `--parents`, heredocs, sources in
 * different layers): those copy from a mounted read-only view. `chain` is
 * the source's layers; the same answer serves the step's content checksum
 * (`../stage-checksum.ts`).
 *
 * Why it is the same copy: each source resolves, in that layer, to the
 * very file the mounted view would show (same inode, so same content, mode,
 * owner, times and extended attributes); only the files themselves are
 * read, never their parent directories' metadata. Saves an overlay mount
 * and unmount (two processes) per step.
 */
export async function plainFilesLayer(op: CopyOp, chain: readonly LayerRef[], snapshotter: Snapshotter, signal?: AbortSignal): Promise<string | undefined> {
  const c = op.copy;
  if (op.source.kind === "context" || c.kind !== "copy" || c.parents || c.excludes.length > 0 || c.inline.length > 0 || c.sources.length === 0) return undefined;
  let layer: string | undefined;
  for (const source of c.sources) {
    // ".." is resolved after symlinks when mounted: not the lexical join below.
    if (PATTERN_CHARS.test(source) || source.endsWith("/") || source.split("/").includes("..")) return undefined;
    const found = await snapshotter.plainFileLayer(chain, posix.join("/", source), signal);
    if (found === undefined || (layer !== undefined && found !== layer)) return undefined;
    layer = found;
  }
  return layer;
}

/**
 * The parent directory of a COPY's destination when the step can write
 * without an overlay mount ({@link Snapshotter.runUnmounted}): one source,
 * COPY (not ADD), no `--parents`, `--chown` absent or numeric (a name is
 * looked up in the image's /etc/passwd, which the bare upper directory does
 * not have), and a destination that does not end with `/` and plainly does
 * not exist below, in a plain parent directory. Everything the copy writes
 * is then new, at or under the destination, so it needs nothing from the
 * layers below. Undefined otherwise (the step mounts).
 */
export async function unmountedCopyParent(op: CopyOp, destChain: readonly LayerRef[], snapshotter: Snapshotter, signal?: AbortSignal): Promise<string | undefined> {
  const c = op.copy;
  if (c.kind !== "copy" || c.parents || c.sources.length !== 1 || c.inline.length > 0) return undefined;
  if (c.chown !== undefined && c.chown !== "" && !/^\d+(:\d+)?$/.test(c.chown)) return undefined;
  if (c.dest === "" || c.dest.endsWith("/") || c.dest.endsWith("/.") || c.dest === ".") return undefined;
  if (c.dest.split("/").includes("..") || op.workdir.split("/").includes("..")) return undefined;
  const dest = posix.normalize(posix.isAbsolute(c.dest) ? c.dest : posix.join(op.workdir, c.dest));
  if (dest === "/" || !(await snapshotter.isPlainlyAbsent(destChain, dest, signal))) return undefined;
  return posix.dirname(dest);
}
