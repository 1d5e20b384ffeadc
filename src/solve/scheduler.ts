import { PGraph } from "p-graph";

/** One unit of work and what must finish before it. */
export interface Task {
  /** Unique id. */
  readonly id: string;
  /** Ids of tasks that must finish first. */
  readonly after: readonly string[];
  /** The work. */
  run(): Promise<void>;
}

/**
 * Runs tasks as soon as their dependencies finish, at most `concurrency` at
 * once (p-graph lives in this one file). On the first failure the abort
 * callback fires (so running tasks can stop), every task already running is
 * awaited (so their cleanup — unmounts, container deletion — completes),
 * and the first error is thrown.
 */
export async function runTasks(tasks: readonly Task[], options: { concurrency: number; onFailure: (err: unknown) => void }): Promise<void> {
  const running = new Set<Promise<void>>();
  let firstError: { err: unknown } | undefined;
  const nodes = new Map(
    tasks.map((t) => [
      t.id,
      {
        run: async (): Promise<void> => {
          if (firstError) return;
          const p = t.run();
          running.add(p);
          try {
            await p;
          } catch (err) {
            if (!firstError) {
              firstError = { err };
              options.onFailure(err);
            }
            throw err;
          } finally {
            running.delete(p);
          }
        },
      },
    ]),
  );
  const deps: [string, string][] = tasks.flatMap((t) => t.after.map((a): [string, string] => [a, t.id]));
  try {
    await new PGraph(nodes, deps).run({ concurrency: options.concurrency });
  } catch (err) {
    firstError ??= { err };
  }
  if (running.size > 0) await Promise.allSettled([...running]);
  if (firstError) throw firstError.err;
}
