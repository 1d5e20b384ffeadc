/**
 * Registry transfer benchmark: tsbuild push/pull against skopeo, same
 * image, same local registry, same run.
 *
 * Run with `npm run bench:registry` (compiles, then runs
 * `dist/bench/registry.js`). Needs `docker-registry`, `skopeo` and
 * `/usr/bin/time` on PATH (as the integration tests do).
 *
 * Setup: a 512 MiB image (5 layers of ~102 MiB pseudo-random data, each a
 * tar with one file, gzip level 0: random data does not compress, and the
 * stored gzip keeps skopeo from recompressing) written into a temp tsbuild
 * store, and the same blobs hard-linked into an OCI layout for skopeo.
 *
 * Measured (each a median of 3, tsbuild and skopeo alternating so neither
 * always runs on a warmer system), every tool run as its own process under
 * `/usr/bin/time -v` (wall time from spawn to exit, and peak RSS):
 * - push to a fresh repository each time (`tsbuild push` vs
 *   `skopeo copy oci:DIR docker://...`); tsbuild's blob-source hints are
 *   cleared and skopeo gets a fresh HOME (no blob-info cache) before each
 *   run, so neither side can mount instead of uploading;
 * - pull into an empty store / directory (`tsbuild pull` vs
 *   `skopeo copy docker://... oci:DIR`);
 * - a re-push of the unchanged image (every blob exists): the CLI process
 *   (`bin/tsbuild`, as users run it; five per round after a `sync`, median
 *   of all), and the library call alone (without Node's start-up).
 *
 * This is a script, not library code, so it prints.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { createGzip } from "node:zlib";
import { pushImage } from "../src/image/push.js";
import { digestHex, type Digest } from "../src/oci/digest.js";
import { MediaType } from "../src/oci/media-types.js";
import type { Descriptor, ImageConfig, ImageManifest } from "../src/oci/types.js";
import { parseReference } from "../src/registry/reference.js";
import { openStore, type LocalStore } from "../src/store/store.js";
import { startBenchRegistry } from "./lib/registry.js";

/** Targets the project holds transfers to. */
const TARGET_RATIO = 1.0;
const TARGET_REPUSH_MS = 300;
const TARGET_RSS_MB = 150;

const LAYERS = 5;
const IMAGE_BYTES = 512 * 1024 * 1024;
const ROUNDS = 3;
/** CLI re-pushes (and `--version` starts) per round. */
const REPUSH_RUNS = 5;

/**
 * The CLI as users run it: `bin/tsbuild` (its wrapper execs, so the process
 * `/usr/bin/time` waits for becomes node), with `TSBUILD_NODE` set to this
 * Node. That includes the bundle, its code cache and the deferred
 * NODE_EXTRA_CA_CERTS, all of which are part of what a user waits for.
 */
const TSBUILD = join(import.meta.dirname, "..", "..", "bin", "tsbuild");

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One timed process run. */
interface Timed {
  readonly ms: number;
  readonly rssMb: number;
}

/** Runs a command under `/usr/bin/time -v`; resolves with wall time and peak RSS, throws on failure. */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn("/usr/bin/time", ["-v", command, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - start;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(" ")} exited ${String(code)}:\n${stderr.slice(-3000)}`));
        return;
      }
      resolve({ ms, rssMb: rss === null ? Number.NaN : Number(rss[1]) / 1024 });
    });
  });
}

/** A 512-byte ustar header for a regular file. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    h.write(value, offset, length, "ascii");
  };
  const octal = (n: number, length: number): string => `${n.toString(8).padStart(length - 1, "0")}\0`;
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  field(136, 12, octal(1704067200, 12));
  field(148, 8, "        ");
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** The layer tar: one file of `size` random bytes, streamed in 1 MiB pieces. */
async function* layerTar(size: number): AsyncGenerator<Buffer> {
  yield tarHeader("data.bin", size);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 1024 * 1024);
    yield randomBytes(n);
    left -= n;
  }
  const pad = (512 - (size % 512)) % 512;
  yield Buffer.alloc(pad + 1024);
}

/** Writes one gzip-stored layer into the store; returns its descriptor and diff ID. */
async function writeLayer(store: LocalStore, size: number): Promise<{ desc: Descriptor; diffId: Digest }> {
  const diff = createHash("sha256");
  const hashTar = new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback): void {
      diff.update(chunk);
      cb(null, chunk);
    },
  });
  const gz = Readable.from(layerTar(size)).pipe(hashTar).pipe(createGzip({ level: 0 }));
  const written = await store.content.writeBlob(gz);
  return {
    desc: { mediaType: MediaType.OciLayerGzip, digest: written.digest, size: written.size },
    diffId: `sha256:${diff.digest("hex")}`,
  };
}

/** Builds the benchmark image in `store` under `name`; returns the manifest's descriptor and all blob digests. */
async function buildImage(store: LocalStore, name: string): Promise<{ manifest: Descriptor; blobs: Digest[]; bytes: number }> {
  const perLayer = Math.floor(IMAGE_BYTES / LAYERS);
  const layers: { desc: Descriptor; diffId: Digest }[] = [];
  for (let i = 0; i < LAYERS; i++) layers.push(await writeLayer(store, perLayer));
  const config: ImageConfig = {
    created: "2024-01-01T00:00:00Z",
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configBlob = await store.content.writeBlob(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => l.desc),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const m = await store.content.writeBlob(manifestBytes);
  await store.images.putImage({
    name: parseReference(name),
    manifestDigest: m.digest,
    mediaType: MediaType.OciManifest,
    size: m.size,
    configDigest: configBlob.digest,
    platform: { os: "linux", architecture: "amd64" },
  });
  const blobs = [configBlob.digest, ...layers.map((l) => l.desc.digest as Digest)];
  return {
    manifest: { mediaType: MediaType.OciManifest, digest: m.digest, size: m.size },
    blobs,
    bytes: layers.reduce((n, l) => n + l.desc.size, 0) + configBlob.size,
  };
}

/** An OCI layout for skopeo whose blobs are hard links to the store's (same bytes, no copy). */
async function ociLayout(store: LocalStore, dir: string, manifest: Descriptor, blobs: readonly Digest[]): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  for (const d of [...blobs, manifest.digest as Digest]) await link(store.content.blobPath(d), join(dir, "blobs", "sha256", digestHex(d)));
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "latest" } }] }),
  );
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "tsbuild-bench-registry-"));
  try {
    const root = join(work, "store");
    const store = await openStore({ root, env: {} });
    const source = "bench.invalid/bench/source:latest";
    process.stdout.write(`building a ${IMAGE_BYTES / 1024 / 1024} MiB image (${LAYERS} layers)... `);
    const t0 = performance.now();
    const image = await buildImage(store, source);
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await ociLayout(store, join(work, "oci"), image.manifest, image.blobs);
    const mb = image.bytes / 1e6;
    console.log(`image: ${image.manifest.digest}, ${fmt(mb, 0)} MB in ${image.blobs.length} blobs; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);

    const skopeoEnv = async (): Promise<NodeJS.ProcessEnv> => {
      // A fresh HOME: no per-user blob-info cache, so skopeo cannot mount from an earlier run's repository.
      const home = await mkdtemp(join(work, "skopeo-home-"));
      return { ...process.env, HOME: home, XDG_DATA_HOME: join(home, ".local", "share"), XDG_RUNTIME_DIR: home };
    };
    const nodeEnv = { ...process.env, TSBUILD_ROOT: "", TSBUILD_NODE: process.execPath };
    const alternate = async (first: boolean, a: () => Promise<void>, b: () => Promise<void>): Promise<void> => {
      if (first) {
        await a();
        await b();
      } else {
        await b();
        await a();
      }
    };

    const push = { ts: [] as Timed[], sk: [] as Timed[] };
    const pull = { ts: [] as Timed[], sk: [] as Timed[] };
    const repushCli: Timed[] = [];
    const repushLib: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      // A fresh registry per round: nothing of an earlier round can be mounted
      // or skipped (root's skopeo keeps its blob-info cache in
      // /var/lib/containers/cache whatever HOME says; it names registry hosts,
      // and each round's registry has a new port).
      const registry = await startBenchRegistry(join(work, `registry-${i}`));
      try {
        const host = registry.host;
        const tsRepo = `${host}/bench/tsbuild:latest`;
        await store.images.tag(source, tsRepo);
        for (const d of image.blobs) await store.images.sources.forgetBlob(d);
        await alternate(
          i % 2 === 1,
          async () => void push.ts.push(await timed(TSBUILD, ["push", "-q", "--root", root, tsRepo], nodeEnv)),
          async () =>
            void push.sk.push(
              await timed(
                "skopeo",
                ["copy", "--quiet", "--insecure-policy", "--preserve-digests", "--dest-tls-verify=false", `oci:${join(work, "oci")}:latest`, `docker://${host}/bench/skopeo:latest`],
                await skopeoEnv(),
              ),
            ),
        );
        const tsRoot = join(work, `pull-ts-${i}`);
        const skDir = join(work, `pull-sk-${i}`);
        await alternate(
          i % 2 === 0,
          async () => void pull.ts.push(await timed(TSBUILD, ["pull", "-q", "--root", tsRoot, tsRepo], nodeEnv)),
          async () =>
            void pull.sk.push(
              await timed("skopeo", ["copy", "--quiet", "--insecure-policy", "--src-tls-verify=false", `docker://${tsRepo}`, `oci:${skDir}:latest`], await skopeoEnv()),
            ),
        );
        await rm(tsRoot, { recursive: true, force: true });
        await rm(skDir, { recursive: true, force: true });
        // The re-push is a few small requests: measured after the kernel has
        // written back the GB the transfers above left dirty, so it times the
        // re-push and not the disk's backlog; five runs per round.
        await timed("sync", []);
        for (let k = 0; k < REPUSH_RUNS; k++) repushCli.push(await timed(TSBUILD, ["push", "-q", "--root", root, tsRepo], nodeEnv));
        const start = performance.now();
        const r = await pushImage({ source: tsRepo, store });
        repushLib.push(performance.now() - start);
        if (r.uploadedBytes !== 0) throw new Error(`re-push uploaded ${r.uploadedBytes} bytes`);
        const last = (xs: Timed[]): string => fmt(xs.at(-1)!.ms / 1000);
        console.log(`round ${i}: push tsbuild ${last(push.ts)} s, skopeo ${last(push.sk)} s; pull tsbuild ${last(pull.ts)} s, skopeo ${last(pull.sk)} s; re-push ${repushCli.slice(-REPUSH_RUNS).map((t) => fmt(t.ms, 0)).join("/")} ms`);
      } finally {
        await registry.stop();
        await rm(join(work, `registry-${i}`), { recursive: true, force: true });
      }
    }
    const starts: Timed[] = [];
    for (let k = 0; k < REPUSH_RUNS; k++) starts.push(await timed(TSBUILD, ["--version"], nodeEnv));
    const baseline = { ms: median(starts.map((t) => t.ms)), rssMb: Math.max(...starts.map((t) => t.rssMb)) };

    const row = (label: string, ts: number, sk: number, unit: string, target: string, ok: boolean | undefined): string =>
      `${label.padEnd(26)}${fmt(ts).padStart(11)}${fmt(sk).padStart(11)}${(Number.isFinite(sk) ? fmt(ts / sk) : "").padStart(8)}  ${unit.padEnd(5)}${target.padEnd(12)}${ok === undefined ? "" : ok ? "OK" : "MISSED"}`;
    const pushTs = median(push.ts.map((t) => t.ms)) / 1000;
    const pushSk = median(push.sk.map((t) => t.ms)) / 1000;
    const pullTs = median(pull.ts.map((t) => t.ms)) / 1000;
    const pullSk = median(pull.sk.map((t) => t.ms)) / 1000;
    const rssPushTs = Math.max(...push.ts.map((t) => t.rssMb));
    const rssPushSk = Math.max(...push.sk.map((t) => t.rssMb));
    const rssPullTs = Math.max(...pull.ts.map((t) => t.rssMb));
    const rssPullSk = Math.max(...pull.sk.map((t) => t.rssMb));
    const repushMs = median(repushCli.map((t) => t.ms));
    const repushLibMs = median(repushLib);
    console.log("");
    console.log(`${"median of 3".padEnd(26)}${"tsbuild".padStart(11)}${"skopeo".padStart(11)}${"ratio".padStart(8)}  ${"unit".padEnd(5)}${"target".padEnd(12)}`);
    console.log("-".repeat(80));
    console.log(row(`push ${fmt(mb, 0)} MB`, pushTs, pushSk, "s", `ratio <= ${TARGET_RATIO}`, pushTs / pushSk <= TARGET_RATIO));
    console.log(row(`pull ${fmt(mb, 0)} MB`, pullTs, pullSk, "s", `ratio <= ${TARGET_RATIO}`, pullTs / pullSk <= TARGET_RATIO));
    console.log(row("push throughput", mb / pushTs, mb / pushSk, "MB/s", "", undefined));
    console.log(row("pull throughput", mb / pullTs, mb / pullSk, "MB/s", "", undefined));
    console.log(row("re-push unchanged (CLI)", repushMs, Number.NaN, "ms", `< ${TARGET_REPUSH_MS}`, repushMs < TARGET_REPUSH_MS));
    console.log(row("re-push (library call)", repushLibMs, Number.NaN, "ms", `< ${TARGET_REPUSH_MS}`, repushLibMs < TARGET_REPUSH_MS));
    console.log(row("CLI start (--version)", baseline.ms, Number.NaN, "ms", "", undefined));
    console.log(row("peak RSS, push", rssPushTs, rssPushSk, "MB", `< ${TARGET_RSS_MB}`, rssPushTs < TARGET_RSS_MB));
    console.log(row("peak RSS, pull", rssPullTs, rssPullSk, "MB", `< ${TARGET_RSS_MB}`, rssPullTs < TARGET_RSS_MB));
    console.log(row("RSS of CLI start", baseline.rssMb, Number.NaN, "MB", "", undefined));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
