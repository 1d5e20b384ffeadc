import { readFileSync } from "node:fs";

/**
 * Which tsbuild process owns a container. Containers outlive a tsbuild that
 * was killed with SIGKILL; recording the owner in the container's annotations
 * lets a later `cleanupStale` tell such orphans from the containers of another
 * tsbuild running right now on the same state directory.
 */
export interface ContainerOwner {
  /** Process id of the owning tsbuild. */
  readonly pid: number;
  /** Its start time (clock ticks since boot, /proc/<pid>/stat field 22), so a reused pid is not mistaken for the owner. */
  readonly startTime: string;
}

/** Annotation holding the owner's pid. */
export const OWNER_PID_ANNOTATION = "dev.tsbuild.owner.pid";
/** Annotation holding the owner's start time. */
export const OWNER_START_ANNOTATION = "dev.tsbuild.owner.start-time";

/** The start time of process `pid`, or undefined if there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** This process as an owner. */
export function currentOwner(): ContainerOwner {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
}

/** Annotations that record `owner`. */
export function ownerAnnotations(owner: ContainerOwner): Record<string, string> {
  return { [OWNER_PID_ANNOTATION]: String(owner.pid), [OWNER_START_ANNOTATION]: owner.startTime };
}

/**
 * True when the annotations name a process that is still running (same pid,
 * same start time). Containers without owner annotations count as orphans.
 */
export function ownerAlive(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const pid = Number(annotations?.[OWNER_PID_ANNOTATION]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const startTime = processStartTime(pid);
  return startTime !== undefined && startTime === annotations?.[OWNER_START_ANNOTATION];
}
