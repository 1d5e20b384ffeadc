/**
 * Marks the store's temporary directory as the top of directory
 * hierarchies (`chattr +T`, ext4's `EXT4_TOPDIR_FL`), so that each step's
 * scratch directory (`tmp/step-*`, `tmp/extract-*`: where every snapshot is
 * written before it is renamed into `snapshots/`) is placed by the Orlov
 * allocator in a block group of its own instead of next to its parent.
 *
 * Why: on ext4 without a journal (common for VM disks, and the reference
 * machine's root filesystem), allocating an inode skips every free inode of
 * the group that was deleted in the last one to six minutes, checking each
 * one in the inode table (`recently_deleted()` in `fs/ext4/ialloc.c`). Every
 * new file then costs time proportional to how many files were deleted near
 * it. A store whose snapshots sit next to a tree that was just removed (an
 * old store, another tool's containers) paid 250-400 µs per created file
 * instead of ~30 µs: `cp -a` of 20,000 files took 3.5-7.3 s into an
 * ordinary directory and 0.6 s under a `+T` one, on the same disk, minutes
 * apart. On other filesystems, or where chattr is missing, the mark is
 * refused and nothing changes: it is a placement hint, never needed for
 * correctness.
 */
import { execFile } from "node:child_process";

/**
 * Sets the top-directory flag on `dir` with `chattr +T`. Resolves to
 * whether it was set; never rejects (a filesystem without the flag, or no
 * chattr, just leaves the default placement).
 */
export function markTopDirectory(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("chattr", ["+T", dir], { timeout: 5000 }, (err) => resolve(err === null));
  });
}
