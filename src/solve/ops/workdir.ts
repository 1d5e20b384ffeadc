import { chown, lstat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { StepOp } from "../../plan/graph.js";
import { mkdirInRoot, resolveInRoot } from "../../sandbox/root-path.js";
import { resolveUser } from "../../sandbox/user.js";

type WorkdirOp = Extract<StepOp, { kind: "workdir" }>;

/**
 * WORKDIR: creates the directory (and missing parents) inside `rootfs`,
 * nothing when it exists. Every directory it creates, parents included, is
 * owned by the USER in effect, as BuildKit's mkdir with parents does
 * (fsutil's `MkdirAll` chowns each directory it makes). Paths resolve
 * chroot-style, so a symlink in the image cannot point the mkdir outside
 * the rootfs.
 */
export async function runWorkdir(op: WorkdirOp, rootfs: string): Promise<void> {
  const host = await resolveInRoot(rootfs, op.path);
  // resolveInRoot followed every existing component, so what is missing is a
  // plain tail of `host`: the directories the mkdir below creates.
  const top = `${resolve(rootfs)}/`;
  const created: string[] = [];
  for (let p = host; p.startsWith(top) && !(await exists(p)); p = dirname(p)) created.push(p);
  if (created.length === 0) return;
  await mkdirInRoot(rootfs, op.path, 0o755);
  if (op.user !== "" && op.user !== "root" && op.user !== "0") {
    const user = await resolveUser({ rootfs, user: op.user });
    for (const dir of created) await chown(dir, user.uid, user.gid);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
