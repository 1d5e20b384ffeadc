/**
 * The build benchmark's workloads, as in the shared side-by-side bench
 * (`shared/bench/workloads.sh`): each a context directory with a
 * Dockerfile, on a busybox base image in the benchmark's registry.
 *
 * - `small`: two RUNs and a COPY of ten small files;
 * - `manyfiles`: a COPY of 20,000 files (~80 MB in 200 folders), then a RUN
 *   that reads them all;
 * - `parallel`: four independent stages that each sleep one second, joined
 *   by `COPY --from` into a final stage;
 * - `biglayer`: one RUN that writes 256 MiB of random data (layer export).
 */
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A workload: its context directory and the file `incr` appends to (if the mode applies). */
export interface Workload {
  /** Short name (table rows). */
  readonly name: string;
  /** Context directory (holds the Dockerfile). */
  readonly dir: string;
  /** Context file the `incr` mode changes, relative to `dir`; absent when `incr` is skipped. */
  readonly incrFile?: string;
  /** For `biglayer`: the RUN whose layer export is measured. */
  readonly exportStep?: string;
}

/** Names of every workload, in table order. */
export const WORKLOAD_NAMES = ["small", "manyfiles", "parallel", "biglayer"] as const;

/** Appends a line to a workload's `incr` file (a content change the next build must see). */
export async function touchIncr(w: Workload, note: string): Promise<void> {
  if (w.incrFile === undefined) throw new Error(`${w.name} has no incr file`);
  await appendFile(join(w.dir, w.incrFile), `change ${note}\n`);
}

/** Deterministic PRNG (mulberry32) for file sizes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the workload `name` under `root/name` and returns it. `base` is the FROM reference. */
export async function writeWorkload(root: string, name: (typeof WORKLOAD_NAMES)[number], base: string): Promise<Workload> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  switch (name) {
    case "small": {
      await mkdir(join(dir, "src"));
      for (let i = 1; i <= 10; i++) await writeFile(join(dir, "src", `f${i}.txt`), `file ${i}\n`);
      await writeFile(
        join(dir, "Dockerfile"),
        [`FROM ${base}`, "RUN echo hello >/hello", "COPY src /src", "RUN ls -R /src | wc -l >/count", "ENV GREETING=hi", "WORKDIR /src", 'CMD ["cat", "/hello"]', ""].join("\n"),
      );
      return { name, dir, incrFile: "src/f1.txt" };
    }
    case "manyfiles": {
      const rand = prng(42);
      // 200 folders of 100 files, 200..8000 random bytes each: ~82 MB.
      for (let i = 0; i < 200; i++) {
        const sub = join(dir, "app", `pkg${String(i).padStart(3, "0")}`);
        await mkdir(sub, { recursive: true });
        const writes: Promise<void>[] = [];
        for (let j = 0; j < 100; j++) {
          const size = 200 + Math.floor(rand() * 7801);
          writes.push(writeFile(join(sub, `m${String(j).padStart(3, "0")}.js`), randomBytes(size)));
        }
        await Promise.all(writes);
      }
      await writeFile(join(dir, "Dockerfile"), [`FROM ${base}`, "COPY app /app", "RUN find /app -type f | wc -l >/count", 'CMD ["cat", "/count"]', ""].join("\n"));
      return { name, dir, incrFile: "app/pkg100/m050.js" };
    }
    case "parallel": {
      const lines: string[] = [];
      for (const s of ["a", "b", "c", "d"]) lines.push(`FROM ${base} AS ${s}`, `RUN sleep 1 && echo ${s} >/out`);
      lines.push(`FROM ${base}`);
      for (const s of ["a", "b", "c", "d"]) lines.push(`COPY --from=${s} /out /out-${s}`);
      lines.push('CMD ["cat", "/out-a"]', "");
      await writeFile(join(dir, "Dockerfile"), lines.join("\n"));
      return { name, dir };
    }
    case "biglayer": {
      const run = "RUN head -c 268435456 /dev/urandom >/big";
      await writeFile(join(dir, "Dockerfile"), [`FROM ${base}`, run, 'CMD ["ls", "-l", "/big"]', ""].join("\n"));
      return { name, dir, exportStep: run };
    }
  }
}
