import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync, utimesSync, type BigIntStats } from "node:fs";
import { dirname, resolve } from "node:path";
import { compareCodeUnits } from "../util/compare.js";
import { resolveInRoot } from "./root-path.js";

/**
 * Mount stubs: before mounting on a path the image does not have (/proc,
 * /etc/hosts, a `RUN --mount` target), the runtime creates an empty file or
 * directory there, in the rootfs. Left in place, those stubs would end up in
 * the layer the RUN step produces, although the Dockerfile never created
 * them. As BuildKit's `MountStubsCleaner` does, tsbuild notes which paths are
 * missing before the run and removes them afterwards if they are still empty
 * stubs. Timestamps: a directory the stubs were created in gets its pre-run
 * timestamps back when its entries are the same as before the run (so a RUN
 * step that did not touch /etc leaves /etc exactly as it was, and the layer
 * is reproducible); otherwise, as BuildKit, the removal itself does not
 * change them.
 *
 * The system calls are synchronous: a few dozen per RUN step, and with
 * several steps starting at once their thread-pool hand-offs cost 20-50 ms
 * per step on a 2-core machine.
 */
export interface MountStubs {
  /** Host paths that did not exist before the run, deepest first. */
  readonly paths: readonly string[];
  /** Removes the stubs that are still empty. Never throws: cleanup must not mask the run's outcome. */
  cleanup(): Promise<void>;
}

/** Options for {@link recordMountStubs}. */
export interface RecordMountStubsOptions {
  /** The container root filesystem. */
  readonly rootfs: string;
  /** Mount destinations inside the container. */
  readonly destinations: readonly string[];
}

/** Records which mount destinations (and which of their parents) are missing from the rootfs. */
export async function recordMountStubs(options: RecordMountStubsOptions): Promise<MountStubs> {
  const rootfs = resolve(options.rootfs);
  const missing = new Set<string>();
  const parents = new Map<string, ParentState>();
  for (const destination of options.destinations) {
    let hostPath: string;
    try {
      hostPath = await resolveInRoot(rootfs, destination);
    } catch {
      continue;
    }
    // Walk up from the destination while paths are missing: the runtime
    // creates every missing parent too.
    while (hostPath !== rootfs && hostPath.startsWith(`${rootfs}/`)) {
      if (exists(hostPath)) break;
      missing.add(hostPath);
      hostPath = dirname(hostPath);
    }
    if (missing.has(hostPath) || parents.has(hostPath) || !missingChildOf(missing, hostPath)) continue;
    const state = parentState(hostPath);
    if (state !== undefined) parents.set(hostPath, state);
  }
  // Deepest first, so a stub directory is empty by the time it is considered.
  // Ties by code unit (see compareCodeUnits: no ICU collator at the first RUN step).
  const paths = [...missing].sort((a, b) => b.split("/").length - a.split("/").length || compareCodeUnits(a, b));
  const cleanup = async (): Promise<void> => {
    const kept: string[] = [];
    for (const p of paths) if (await stillInPlace(rootfs, p)) kept.push(p);
    const keptParents = new Map<string, ParentState>();
    for (const [dir, state] of parents) if (await stillInPlace(rootfs, dir)) keptParents.set(dir, state);
    removeStubs(rootfs, kept, keptParents);
  };
  return { paths, cleanup };
}

/**
 * Whether a host path recorded before the run still resolves, inside
 * `rootfs`, to itself. The run may have replaced a parent directory by a
 * symlink (`mv /x /x2 && ln -s /host/dir /x`), and the host calls that
 * remove stubs and restore times follow parent symlinks, so a path that now
 * leads elsewhere must not be touched. No process runs in the rootfs any
 * more when this is asked, so nothing changes after the check.
 */
async function stillInPlace(rootfs: string, hostPath: string): Promise<boolean> {
  try {
    return (await resolveInRoot(rootfs, hostPath.slice(rootfs.length) || "/")) === hostPath;
  } catch {
    return false;
  }
}

/** An existing directory a stub will be created in, as it was before the run. */
interface ParentState {
  readonly stat: BigIntStats;
  readonly entries: readonly string[];
}

function missingChildOf(missing: ReadonlySet<string>, dir: string): boolean {
  for (const path of missing) if (dirname(path) === dir) return true;
  return false;
}

function parentState(dir: string): ParentState | undefined {
  try {
    return { stat: statSync(dir, { bigint: true }), entries: readdirSync(dir).sort() };
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    // Unknown state: claim it exists, so that it is never deleted.
    return true;
  }
}

function removeStubs(rootfs: string, paths: readonly string[], parents: ReadonlyMap<string, ParentState>): void {
  for (const path of paths) {
    try {
      const st = lstatSync(path);
      if (st.isDirectory()) {
        if (readdirSync(path).length !== 0) continue;
      } else if (!st.isFile() || st.size !== 0) {
        // Only empty regular files are stubs; anything else was written by the step.
        continue;
      }
      const parent = dirname(path);
      // The parent is a real directory (unmoved checked the whole path); never re-time the rootfs' host-side parent.
      if (parent !== rootfs && !parent.startsWith(`${rootfs}/`)) continue;
      const parentStat = statSync(parent, { bigint: true });
      if (st.isDirectory()) rmdirSync(path);
      else unlinkSync(path);
      utimesSync(parent, nsToSeconds(parentStat.atimeNs), nsToSeconds(parentStat.mtimeNs));
    } catch {
      // Already gone, or not ours to remove: leave it.
    }
  }
  for (const [dir, before] of parents) {
    try {
      const entries = readdirSync(dir).sort();
      if (entries.length !== before.entries.length || entries.some((e, i) => e !== before.entries[i])) continue;
      utimesSync(dir, nsToSeconds(before.stat.atimeNs), nsToSeconds(before.stat.mtimeNs));
    } catch {
      // Gone or not ours: leave it.
    }
  }
}

/** Seconds as a double, keeping microseconds exact (all a double can carry for current dates). */
function nsToSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}
