import type { StepOp } from "../../plan/graph.js";
import { applyCopy } from "../../copy/apply.js";
import { withSourceRoot, type OpContext } from "./context.js";

type CopyOp = Extract<StepOp, { kind: "copy" }>;

/** COPY/ADD into `rootfs` (a mounted overlay), reading from the context, a stage or an image. */
export async function runCopy(op: CopyOp, rootfs: string, ctx: OpContext): Promise<void> {
  const c = op.copy;
  await withSourceRoot(op.source, ctx, async (root) => {
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
        ? { add: { ...(c.unpack !== undefined ? { unpack: c.unpack } : {}), ...(c.checksum !== undefined ? { checksum: c.checksum } : {}), keepGitDir: c.keepGitDir } }
        : {}),
      signal: ctx.signal,
    });
  });
}
