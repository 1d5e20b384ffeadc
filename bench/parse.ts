/**
 * Parser throughput benchmark: tsbuild's `parseDockerfile` against
 * `dockerfile-ast`'s `DockerfileParser.parse`, on the same real-world
 * Dockerfiles (`shared/corpus/dockerfiles`), in the same process.
 *
 * Run with `npm run bench:parse` (compiles, then runs `dist/bench/parse.js`).
 * Each parser is warmed up, then timed over several rounds (the order of the
 * two parsers alternates between rounds so neither always runs on a colder
 * heap); the table shows medians. A second measurement times every corpus
 * file of 1.5 to 2.5 KB on its own ("a typical 2 KB Dockerfile") and reports
 * the median per-file time.
 *
 * The two parsers do not do the same amount of work: tsbuild splits every
 * instruction's flags and arguments as BuildKit does and tracks ranges;
 * dockerfile-ast builds its object model and computes much of it lazily.
 * The comparison is what a caller pays to go from text to a usable tree.
 *
 * This is a script, not library code, so it prints.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DockerfileParser } from "dockerfile-ast";
import { parseDockerfile } from "../src/syntax/index.js";

/** Target ratios the project holds the parser to. */
const TARGET_RATIO = 2;
const TARGET_TYPICAL_US = 1000;

interface Corpus {
  readonly names: readonly string[];
  readonly texts: readonly string[];
  readonly bytes: number;
}

/** One parser under test: a name and a function that parses one text. */
interface Contender {
  readonly name: string;
  readonly parse: (text: string) => unknown;
}

/** Median of a non-empty list. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Finds the corpus: next to the repository (`../shared`), or as given by TSBUILD_CORPUS. */
function corpusDir(): string {
  const fromEnv = process.env["TSBUILD_CORPUS"];
  if (fromEnv) return fromEnv;
  // dist/bench/parse.js → ../../../shared/...; bench/parse.ts (run from source) → ../../shared/...
  for (const rel of ["../../../shared/corpus/dockerfiles", "../../shared/corpus/dockerfiles"]) {
    const dir = join(import.meta.dirname, rel);
    try {
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      // try the next candidate
    }
  }
  throw new Error("corpus not found: set TSBUILD_CORPUS to shared/corpus/dockerfiles");
}

function loadCorpus(dir: string): Corpus {
  const names = readdirSync(dir)
    .filter((n) => n !== "README.md" && n !== "SOURCES.tsv")
    .sort();
  const buffers = names.map((n) => readFileSync(join(dir, n)));
  return {
    names,
    texts: buffers.map((b) => b.toString("utf8")),
    bytes: buffers.reduce((sum, b) => sum + b.length, 0),
  };
}

/** Parses every text once; returns elapsed milliseconds. A checksum defeats dead-code elimination. */
let sink = 0;
function parseAll(c: Contender, texts: readonly string[]): number {
  const t0 = performance.now();
  for (const text of texts) {
    const r = c.parse(text);
    if (r) sink++;
  }
  return performance.now() - t0;
}

/** Median microseconds to parse one text, timing batches long enough for the clock. */
function perFileMicros(c: Contender, text: string, samples: number): number {
  // Pick a batch size that takes at least ~2 ms so timer resolution does not matter.
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) if (c.parse(text)) sink++;
    if (performance.now() - t0 >= 2 || batch >= 4096) break;
    batch *= 2;
  }
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) if (c.parse(text)) sink++;
    times.push(((performance.now() - t0) * 1000) / batch);
  }
  return median(times);
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function main(): void {
  const dir = corpusDir();
  const corpus = loadCorpus(dir);
  const contenders: Contender[] = [
    { name: "tsbuild", parse: (text) => parseDockerfile(text) },
    { name: "dockerfile-ast", parse: (text) => DockerfileParser.parse(text) },
  ];
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 9);
  const warmup = Number(process.env["BENCH_WARMUP"] ?? 5);

  console.log(`corpus: ${corpus.texts.length} Dockerfiles, ${(corpus.bytes / 1024).toFixed(0)} KiB (${dir})`);
  console.log(`node ${process.version}; ${warmup} warm-up passes, ${rounds} timed rounds per parser`);

  for (const c of contenders) for (let i = 0; i < warmup; i++) parseAll(c, corpus.texts);

  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) times.get(c.name)!.push(parseAll(c, corpus.texts));
  }

  // Typical 2 KB files: 1.5 KB to 2.5 KB.
  const typical: number[] = [];
  corpus.texts.forEach((t, i) => {
    const size = Buffer.byteLength(t, "utf8");
    if (size >= 1536 && size <= 2560) typical.push(i);
  });
  const typicalMicros = new Map<string, number>();
  for (const c of contenders) {
    const perFile = typical.map((i) => perFileMicros(c, corpus.texts[i]!, 5));
    typicalMicros.set(c.name, median(perFile));
  }

  const rows = contenders.map((c) => {
    const ms = median(times.get(c.name)!);
    return {
      name: c.name,
      ms,
      mbps: corpus.bytes / 1e6 / (ms / 1000),
      fps: corpus.texts.length / (ms / 1000),
      typical: typicalMicros.get(c.name)!,
    };
  });

  console.log("");
  console.log(
    `${pad("parser", 16)} ${pad("median ms/pass", 15, true)} ${pad("MB/s", 9, true)} ${pad("files/s", 10, true)} ${pad("µs per 2 KB file", 17, true)}`,
  );
  console.log("-".repeat(16 + 15 + 9 + 10 + 17 + 4));
  for (const r of rows) {
    console.log(
      `${pad(r.name, 16)} ${pad(r.ms.toFixed(2), 15, true)} ${pad(r.mbps.toFixed(2), 9, true)} ${pad(r.fps.toFixed(0), 10, true)} ${pad(r.typical.toFixed(1), 17, true)}`,
    );
  }
  const ours = rows[0]!;
  const theirs = rows[1]!;
  const ratio = ours.mbps / theirs.mbps;
  console.log("");
  console.log(`throughput ratio tsbuild/dockerfile-ast: ${ratio.toFixed(2)}x (target >= ${TARGET_RATIO}x) ${ratio >= TARGET_RATIO ? "OK" : "BELOW TARGET"}`);
  console.log(
    `typical 2 KB file (${typical.length} files of 1.5-2.5 KB, median): ${ours.typical.toFixed(1)} µs (target < ${TARGET_TYPICAL_US} µs) ${ours.typical < TARGET_TYPICAL_US ? "OK" : "BELOW TARGET"}`,
  );
  if (sink < 0) console.log(sink);
}

main();
