import { chown, lstat } from "node:fs/promises";
import type { StepOp } from "../../plan/graph.js";
import { mkdirInRoot, resolveInRoot } from "../../sandbox/root-path.js";
import { resolveUser } from "../../sandbox/user.js";

type WorkdirOp = Extract<StepOp, { kind: "workdir" }>;

/**
 * WORKDIR: creates the directory (and missing parents) inside `rootfs`,
 * owned by the USER in effect as BuildKit does; nothing when it exists.
 * Paths resolve chroot-style, so a symlink in the image cannot point the
 * mkdir outside the rootfs.
 */
export async function runWorkdir(op: WorkdirOp, rootfs: string): Promise<void> {
  const host = await resolveInRoot(rootfs, op.path);
  try {
    await lstat(host);
    return;
  } catch {
    // Missing: create it below.
  }
  await mkdirInRoot(rootfs, op.path, 0o755);
  if (op.user !== "" && op.user !== "root" && op.user !== "0") {
    const user = await resolveUser({ rootfs, user: op.user });
    await chown(host, user.uid, user.gid);
  }
}
