/**
 * Benchmark of the COPY engine, not a test (no assertions, no timings in CI).
 *
 * Builds a context of 20,000 files of 4,000 random bytes (~80 MB) in 1,000
 * directories, waits out the file hash cache's racy-clean margin, then
 * measures: a cold checksum (empty cache), a warm checksum in a fresh
 * process-like state (cache reopened from disk, as a no-op rebuild does),
 * and applyCopy of the whole context into an empty destination.
 *
 * Run (as root, from the repository root):
 *
 *   npx tsc --module nodenext --moduleResolution nodenext --target es2022 \
 *     --skipLibCheck --outDir /tmp/tsbuild-bench --rootDir . test/integration/copy/bench-copy.ts
 *   node /tmp/tsbuild-bench/test/integration/copy/bench-copy.js [workdir]
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { applyCopy } from "../../../src/copy/apply.js";
import { checksumSelection } from "../../../src/copy/checksum.js";
import { FileHashCache } from "../../../src/copy/file-hash-cache.js";

const work = process.argv[2] ?? join(tmpdir(), "tsbuild-copy-bench");
const ctx = join(work, "ctx");
const cachePath = join(work, "hash-cache");
const dest = join(work, "dest");

/** Wall and CPU time since a mark (the machine may be shared: CPU time is the steadier figure). */
function since(mark: { t: number; cpu: NodeJS.CpuUsage }): string {
  const cpu = process.cpuUsage(mark.cpu);
  return `${(performance.now() - mark.t).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms cpu`;
}

function mark(): { t: number; cpu: NodeJS.CpuUsage } {
  return { t: performance.now(), cpu: process.cpuUsage() };
}

async function main(): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  let files = 0;
  for (let d = 0; d < 200; d++) {
    for (let s = 0; s < 5; s++) {
      const dir = join(ctx, `d${d}`, `s${s}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 20; f++) {
        writeFileSync(join(dir, `f${f}.txt`), randomBytes(4000));
        files++;
      }
    }
  }
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  log(`context: ${files} files in ${ctx}`);
  // Entries are only trusted once the files are older than the 2 s margin.
  await new Promise((r) => setTimeout(r, 2500));
  const sel = { root: ctx, sources: ["."], followTopLevelSymlinks: true };

  log(`load average: ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs`);
  let m = mark();
  const none = await checksumSelection(sel, {});
  log(`checksum, no cache:        ${since(m)} (${none.files} files, ${none.bytes} bytes)`);

  m = mark();
  let cache = await FileHashCache.open(cachePath);
  const cold = await checksumSelection(sel, { cache });
  await cache.save();
  log(`checksum, cold cache+save: ${since(m)}`);

  for (let i = 0; i < 5; i++) {
    m = mark();
    cache = await FileHashCache.open(cachePath);
    const warm = await checksumSelection(sel, { cache });
    await cache.save();
    log(`checksum, warm (open+checksum+save) #${i + 1}: ${since(m)} ${warm.digest === cold.digest ? "same digest" : "DIGEST DIFFERS"}`);
  }

  mkdirSync(dest, { recursive: true });
  m = mark();
  const t = m.t;
  const res = await applyCopy({ ...sel, destRoot: dest, dest: "/app/", workdir: "/" });
  const took = performance.now() - t;
  log(`applyCopy: ${since(m)}, ${res.files} files, ${(res.bytes / 1e6).toFixed(1)} MB: ${(res.files / (took / 1000)).toFixed(0)} files/s, ${(res.bytes / 1e6 / (took / 1000)).toFixed(0)} MB/s`);
  rmSync(work, { recursive: true, force: true });
}

void main();
