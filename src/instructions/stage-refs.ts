import { BuildError } from "../diagnostics/build-error.js";
import { suggest } from "../diagnostics/suggest.js";
import type { Stage } from "./types.js";

/**
 * The stage a FROM image or a `--from` value names, if any: stage names
 * match case-insensitively; when several stages share a name, the last one
 * defined before `current` wins (later stages cannot shadow earlier uses).
 */
export function stageReference(name: string, stages: readonly Pick<Stage, "index" | "name">[], current: number): number | undefined {
  const lower = name.toLowerCase();
  let found: number | undefined;
  for (const s of stages) {
    if (s.name !== lower) continue;
    if (s.index < current || found === undefined) found = s.index;
  }
  return found;
}

/** The index of the `--target` stage (default: the last one), or a DF_STAGE error with a suggestion. */
export function resolveTarget(target: string | undefined, stages: readonly Stage[]): number {
  if (stages.length === 0) throw new BuildError("DF_STAGE", "the Dockerfile has no build stage", { hint: "add a FROM instruction" });
  if (target === undefined || target === "") return stages.length - 1;
  const lower = target.toLowerCase();
  const match = stages.find((s) => s.name === lower);
  if (match) return match.index;
  const names = stages.map((s) => s.name).filter((n): n is string => n !== undefined);
  const close = suggest(lower, names);
  throw new BuildError("DF_STAGE", `target stage "${target}" could not be found`, {
    hint: close ? `did you mean "${close}"?` : names.length ? `stages are: ${names.join(", ")}` : "no stage has a name (FROM image AS name)",
  });
}

/**
 * The stages `target` needs, each after the stages it depends on, `target`
 * last. Stages not reachable from the target are left out: they are not
 * built.
 */
export function topologicalNeeds(target: number, stages: readonly { index: number; deps: readonly number[] }[]): number[] {
  const byIndex = new Map(stages.map((s) => [s.index, s]));
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (i: number): void => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const d of byIndex.get(i)?.deps ?? []) visit(d);
    order.push(i);
  };
  visit(target);
  return order;
}
