import { lstat, mkdir, readdir } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { asBuildError } from "../oci/layer/walk.js";
import { runTool } from "./exec.js";

/**
 * Options every overlay mount of the snapshotter uses, and why:
 *
 * - `index=off`: no inode index. With an index, overlayfs ties an upper dir
 *   to the exact lower stack it was first mounted on (file handles recorded
 *   in `trusted.overlay.origin`) and refuses other combinations; our lower
 *   layers are shared by many mounts, and layers are rebuilt from tars
 *   anyway. The cost (a hard link to a lower file is broken on copy-up) is
 *   what Docker and containerd accept too.
 * - `redirect_dir=off`: renaming a directory that comes from a lower layer
 *   fails with EXDEV, so tools fall back to copy + delete and the upper dir
 *   holds the whole new directory. With redirects the upper would only hold
 *   a `trusted.overlay.redirect` pointer to lower content, which a layer tar
 *   cannot express (and a hostile lower layer could aim a redirect anywhere).
 * - `metacopy=off`: chmod/chown copies the whole file up; with metacopy the
 *   upper would hold a data-less inode whose bytes live in a lower layer.
 *
 * These are also the kernel defaults on most distributions, but module
 * parameters (`/sys/module/overlay/parameters/*`) can change them, so they
 * are always passed explicitly. `diffUpperDir` refuses upper dirs that
 * nevertheless contain redirect or metacopy markers.
 */
export const OVERLAY_OPTIONS: readonly string[] = ["index=off", "redirect_dir=off", "metacopy=off"];

/**
 * Longest option string the kernel accepts. With the classic mount(2) call
 * (util-linux 2.38 on Debian 12 uses it), the data argument is copied into
 * one page, NUL included; 4096 is the smallest Linux page size, so using it
 * is safe on every architecture.
 */
export const MAX_OPTIONS_LENGTH = 4095;

/** overlayfs' `OVL_MAX_STACK`: the most lower layers one mount can have. */
export const MAX_LOWER_LAYERS = 500;

/** What to mount: see {@link mountOverlay}. */
export interface OverlayMountOptions {
  /** Lower directories, top-most first (the image's last layer first). At least one. */
  readonly lowerdirs: readonly string[];
  /** Writable upper directory; omit (with `workdir`) for a read-only mount. */
  readonly upperdir?: string;
  /** overlayfs work directory: empty, on the same filesystem as `upperdir`. */
  readonly workdir?: string;
  /** Mount point (an existing directory). */
  readonly target: string;
  /**
   * An empty directory used as bottom layer when a read-only mount has a
   * single lower dir (overlayfs needs two lowers without an upper). Default:
   * `<dirname(target)>/.tsbuild-empty`, created if missing.
   */
  readonly emptyDir?: string;
  /** Kills the mount helper; rejects with BuildError ABORTED. */
  readonly signal?: AbortSignal;
}

/** A planned `mount` invocation: run in `cwd`, with these `-o` options. */
export interface OverlayMountPlan {
  /** Directory the mount helper runs in; layer paths in `options` are relative to it. */
  readonly cwd: string;
  /** The option string given to `mount -o`. */
  readonly options: string;
}

function tooLong(kind: string): BuildError {
  return new BuildError("INTERNAL", kind, {
    hint: "squash some layers (fewer, larger layers) or keep the snapshot directories under one short common root",
  });
}

/** The deepest directory that contains every path in `paths` (all absolute). */
function commonAncestor(paths: readonly string[]): string {
  let common = paths[0]!.split(sep);
  for (const p of paths.slice(1)) {
    const parts = p.split(sep);
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.length <= 1 ? sep : common.join(sep);
}

/**
 * Builds the option string for an overlay mount.
 *
 * Many lower layers: the kernel copies the options into one page (4 KiB), so
 * a stack of 60 layers under `/var/lib/tsbuild/snapshots/<64 hex>/fs` would
 * not fit. Like Docker's overlay2 driver, the mount helper runs with its
 * working directory at the deepest common ancestor of all the directories,
 * and the options name them by short relative paths (the kernel resolves
 * them against the caller's cwd at mount time). If even that does not fit,
 * or there are more than {@link MAX_LOWER_LAYERS} lowers, this fails with a
 * clear BuildError rather than letting mount(2) fail with EINVAL.
 */
export function planOverlayMount(options: Omit<OverlayMountOptions, "signal" | "target" | "emptyDir">): OverlayMountPlan {
  const { lowerdirs, upperdir, workdir } = options;
  if (lowerdirs.length === 0) throw new BuildError("INTERNAL", "overlay mount needs at least one lower directory");
  if ((upperdir === undefined) !== (workdir === undefined)) {
    throw new BuildError("INTERNAL", "overlay mount needs both upperdir and workdir, or neither");
  }
  if (lowerdirs.length > MAX_LOWER_LAYERS) {
    throw tooLong(`cannot mount ${lowerdirs.length} layers: overlayfs stacks at most ${MAX_LOWER_LAYERS}`);
  }
  const all = [...lowerdirs, ...(upperdir !== undefined ? [upperdir] : []), ...(workdir !== undefined ? [workdir] : [])];
  for (const p of all) {
    if (!isAbsolute(p)) throw new BuildError("INTERNAL", `overlay directory "${p}" must be an absolute path`);
    // ',' separates mount options and ':' lower dirs; escaping is
    // kernel-version dependent, and snapshot paths are ours: refuse them.
    if (/[,:\\\n]/.test(p)) throw new BuildError("INTERNAL", `overlay directory "${p}" contains , : or \\`);
  }
  const seen = new Set<string>();
  for (const p of lowerdirs.map((d) => resolve(d))) {
    // The kernel refuses this with an unhelpful "wrong fs type, bad option".
    if (seen.has(p)) {
      throw new BuildError("INTERNAL", `overlay lower directory ${p} is listed twice`, {
        hint: "overlayfs refuses duplicate layers; a read-only mount of one layer gets a distinct empty bottom dir (emptyDir)",
      });
    }
    seen.add(p);
  }
  const cwd = commonAncestor(all.map((p) => resolve(p)));
  const rel = (p: string): string => relative(cwd, resolve(p)) || ".";
  const parts = [`lowerdir=${lowerdirs.map(rel).join(":")}`];
  if (upperdir !== undefined && workdir !== undefined) {
    // `volatile`: without it, unmounting a writable overlay syncs the whole
    // host filesystem (15-330 ms per step here, 0.3 s after a 256 MiB RUN).
    // Safe for a build step: the mount is used once; its result only counts
    // once the layer blob is written and fsynced into the store and the
    // step recorded, and a snapshot directory is a re-creatable copy of
    // that blob. A process kill loses nothing; only a power loss could
    // leave an unsynced snapshot (as with Docker's own overlay2 diffs).
    parts.push(`upperdir=${rel(upperdir)}`, `workdir=${rel(workdir)}`, "volatile");
  }
  parts.push(...OVERLAY_OPTIONS);
  const optionString = parts.join(",");
  if (Buffer.byteLength(optionString) > MAX_OPTIONS_LENGTH) {
    throw tooLong(
      `overlay mount options for ${lowerdirs.length} layers are ${Buffer.byteLength(optionString)} bytes, ` +
        `over the kernel's ${MAX_OPTIONS_LENGTH}-byte limit even with relative paths`,
    );
  }
  return { cwd, options: optionString };
}

async function ensureEmptyDir(path: string): Promise<void> {
  let st;
  try {
    await mkdir(path, { recursive: true, mode: 0o755 });
    st = await lstat(path);
  } catch (err) {
    throw asBuildError(err, `cannot create empty bottom layer ${path}`);
  }
  // It becomes part of the mounted view: it must really be an empty directory.
  if (!st.isDirectory() || (await readdir(path)).length > 0) {
    throw new BuildError("INTERNAL", `${path} must be an empty directory (bottom layer of a read-only overlay)`);
  }
}

/**
 * Mounts an overlay at `target`: read-write when `upperdir`/`workdir` are
 * given, read-only (lower dirs only) otherwise. Spawns util-linux `mount`
 * (Node has no mount syscall) with the options of {@link planOverlayMount}
 * and {@link OVERLAY_OPTIONS}. The caller unmounts with {@link unmount}.
 */
export async function mountOverlay(options: OverlayMountOptions): Promise<void> {
  let lowerdirs = options.lowerdirs;
  if (options.upperdir === undefined && lowerdirs.length === 1) {
    const empty = options.emptyDir ?? join(dirname(resolve(options.target)), ".tsbuild-empty");
    await ensureEmptyDir(empty);
    lowerdirs = [...lowerdirs, empty];
  }
  const plan = planOverlayMount({ ...options, lowerdirs });
  const args = ["-t", "overlay", "overlay", "-o", plan.options];
  if (options.upperdir === undefined) args.splice(0, 0, "-r");
  args.push(resolve(options.target));
  await runTool("mount", args, { cwd: plan.cwd, ...(options.signal ? { signal: options.signal } : {}) });
}

/** Options for {@link unmount}. */
export interface UnmountOptions {
  /** Detach now and clean up when no longer busy (`umount -l`). */
  readonly lazy?: boolean;
  /** Kills the helper; rejects with BuildError ABORTED. */
  readonly signal?: AbortSignal;
}

/** Unmounts `target` by spawning util-linux `umount`. */
export async function unmount(target: string, options: UnmountOptions = {}): Promise<void> {
  const args = options.lazy === true ? ["-l", resolve(target)] : [resolve(target)];
  await runTool("umount", args, options.signal ? { signal: options.signal } : {});
}
