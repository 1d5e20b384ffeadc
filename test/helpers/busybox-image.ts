/**
 * A small, real, runnable base image built from Debian's static busybox
 * (`/bin/busybox`, package busybox-static), for tests that need an image in
 * a registry or a layout: one gzip layer with `bin/busybox`, a symlink per
 * applet at the path `busybox --list-full` gives (`bin/sh`, `usr/bin/env`...),
 * `etc/passwd` and `etc/group` (root, nobody, and `app` uid/gid 1000),
 * `/root`, `/home/app` and a world-writable sticky `/tmp`; an OCI config for
 * the host's architecture with a PATH and `Cmd ["sh"]`; an OCI manifest.
 *
 * Deterministic: the same options give byte-identical blobs and digests
 * (fixed mtimes and owners, gzip without timestamp), so tests can assert
 * digests across runs. Independent of the code under test: digests are
 * computed with node:crypto here, and pushing goes through skopeo
 * (see skopeo.ts), so pull tests do not rely on our own push.
 *
 * @example
 * const image = await buildBusyboxImage();
 * await writeOciLayout(image, dir, "test");          // an OCI image layout
 * await skopeoPush(image, { host: registry.host, repository: "busybox", tag: "test" });
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { pack, type Header } from "tar-stream";
import type { Descriptor, ImageConfig, ImageManifest } from "../../src/oci/types.js";

const run = promisify(execFile);

/** Path of Debian's statically linked busybox. */
export const BUSYBOX_PATH = "/bin/busybox";

/** A blob with its descriptor. */
export interface TestBlob {
  /** Descriptor (media type, digest, size). */
  readonly descriptor: Descriptor;
  /** The bytes. */
  readonly bytes: Buffer;
}

/** A layer: its compressed blob and the digest of its uncompressed tar. */
export interface TestLayer extends TestBlob {
  /** sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  readonly diffId: string;
}

/** An image held in memory. */
export interface TestImage {
  /** The parsed manifest. */
  readonly manifest: ImageManifest;
  /** The manifest's exact bytes and descriptor. */
  readonly manifestBlob: TestBlob;
  /** The parsed config. */
  readonly config: ImageConfig;
  /** The config's bytes and descriptor. */
  readonly configBlob: TestBlob;
  /** Layers, base first. */
  readonly layers: readonly TestLayer[];
  /** Every blob (config and layers) by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/** Options of {@link buildBusyboxImage}. */
export interface BusyboxImageOptions {
  /**
   * Extra regular files for the layer, path (relative, no leading `/`) to
   * content. Handy to get an image with different digests (`{"etc/variant": "2"}`).
   */
  readonly extraFiles?: Readonly<Record<string, string | Buffer>>;
  /** Architecture in GOARCH terms. Default: the host's ({@link hostGoArch}). */
  readonly architecture?: string;
}

/** The host CPU architecture in GOARCH terms (`x64` → `amd64`, `arm64`, `arm`, `ia32` → `386`...). */
export function hostGoArch(): string {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle" };
  return map[process.arch] ?? process.arch;
}

/** sha256 digest string of some bytes. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

const MTIME = new Date("2024-01-01T00:00:00Z");

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "app:x:1000:1000:app:/home/app:/bin/sh",
  "",
].join("\n");

const GROUP = ["root:x:0:", "nogroup:x:65534:", "app:x:1000:", ""].join("\n");

/** Builds the uncompressed layer tar. */
async function buildLayerTar(options: BusyboxImageOptions): Promise<Buffer> {
  const busybox = await readFile(BUSYBOX_PATH);
  const { stdout } = await run(BUSYBOX_PATH, ["--list-full"]);
  const applets = stdout
    .split("\n")
    .map((s) => s.trim())
    // `linuxrc` (an initrd entry point) has no place in a container root.
    .filter((s) => s !== "" && s !== "bin/busybox" && s !== "linuxrc" && !s.includes(".."));

  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  const base = { mtime: MTIME, uid: 0, gid: 0, uname: "root", gname: "root" };
  const add = (header: Partial<Header> & Pick<Header, "name">, content?: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (content === undefined) tar.entry({ ...base, ...header }, cb);
      else tar.entry({ ...base, ...header }, Buffer.from(content), cb);
    });

  const dirs = new Set(["bin", "etc", "root", "sbin", "tmp", "usr", "usr/bin", "usr/sbin", "home", "home/app"]);
  for (const a of applets) {
    const parts = a.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  for (const p of Object.keys(options.extraFiles ?? {})) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  for (const d of [...dirs].sort()) {
    const mode = d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755;
    const owner = d === "home/app" ? { uid: 1000, gid: 1000, uname: "app", gname: "app" } : {};
    await add({ name: `${d}/`, type: "directory", mode, ...owner });
  }
  await add({ name: "bin/busybox", type: "file", mode: 0o755, size: busybox.length }, busybox);
  for (const a of [...applets].sort()) {
    await add({ name: a, type: "symlink", linkname: "/bin/busybox", mode: 0o777 });
  }
  await add({ name: "etc/passwd", type: "file", mode: 0o644 }, PASSWD);
  await add({ name: "etc/group", type: "file", mode: 0o644 }, GROUP);
  for (const [p, content] of Object.entries(options.extraFiles ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    await add({ name: p, type: "file", mode: 0o644 }, content);
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}

function blob(mediaType: string, bytes: Buffer): TestBlob {
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

/** Builds the busybox image in memory; see the module comment. */
export async function buildBusyboxImage(options: BusyboxImageOptions = {}): Promise<TestImage> {
  const tar = await buildLayerTar(options);
  const gz = gzipSync(tar, { level: 6 });
  const layer: TestLayer = { ...blob("application/vnd.oci.image.layer.v1.tar+gzip", gz), diffId: sha256(tar) };
  const config: ImageConfig = {
    created: MTIME.toISOString(),
    architecture: options.architecture ?? hostGoArch(),
    os: "linux",
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["sh"],
    },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created: MTIME.toISOString(), created_by: "tsbuild test helper: busybox from /bin/busybox" }],
  };
  const configBlob = blob("application/vnd.oci.image.config.v1+json", Buffer.from(JSON.stringify(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: configBlob.descriptor,
    layers: [layer.descriptor],
  };
  const manifestBlob = blob("application/vnd.oci.image.manifest.v1+json", Buffer.from(JSON.stringify(manifest)));
  const blobs = new Map<string, Buffer>([
    [configBlob.descriptor.digest, configBlob.bytes],
    [layer.descriptor.digest, layer.bytes],
  ]);
  return { manifest, manifestBlob, config, configBlob, layers: [layer], blobs };
}

/**
 * Writes `image` as an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * into `dir` (created if needed), with `tag` as the `org.opencontainers.image.ref.name` of its index entry.
 */
export async function writeOciLayout(image: TestImage, dir: string, tag: string): Promise<void> {
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  const all = new Map(image.blobs);
  all.set(image.manifestBlob.descriptor.digest, image.manifestBlob.bytes);
  for (const [digest, bytes] of all) await writeFile(join(blobDir, digest.slice("sha256:".length)), bytes);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ ...image.manifestBlob.descriptor, annotations: { "org.opencontainers.image.ref.name": tag } }],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
}
