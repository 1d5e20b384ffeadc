/**
 * Whether a process with this pid exists (in this pid namespace): signal 0
 * probes it. EPERM means it exists but belongs to someone else. Used to
 * clean up what a killed tsbuild left, never what a running one uses.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
