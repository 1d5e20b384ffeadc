/**
 * The build benchmark's base image: Debian's static `/bin/busybox` with a
 * symlink per applet, `/etc/passwd`, `/etc/group` and a sticky `/tmp`, as
 * one gzip layer with an OCI config and manifest (the same image
 * `test/helpers/busybox-image.ts` makes for the tests). It is written as an
 * OCI layout and pushed with skopeo, so the builders under test all pull
 * the same bytes from the same registry.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { pack, type Header } from "tar-stream";

const run = promisify(execFile);
const BUSYBOX = "/bin/busybox";
const MTIME = new Date("2024-01-01T00:00:00Z");

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function goArch(): string {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[process.arch] ?? process.arch;
}

async function layerTar(): Promise<Buffer> {
  const busybox = await readFile(BUSYBOX);
  const { stdout } = await run(BUSYBOX, ["--list-full"]);
  const applets = stdout
    .split("\n")
    .map((s) => s.trim())
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
  const dirs = new Set(["bin", "etc", "root", "sbin", "tmp", "usr", "usr/bin", "usr/sbin"]);
  for (const a of applets) {
    const parts = a.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  for (const d of [...dirs].sort()) await add({ name: `${d}/`, type: "directory", mode: d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755 });
  await add({ name: "bin/busybox", type: "file", mode: 0o755, size: busybox.length }, busybox);
  for (const a of [...applets].sort()) await add({ name: a, type: "symlink", linkname: "/bin/busybox", mode: 0o777 });
  await add({ name: "etc/passwd", type: "file", mode: 0o644 }, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  await add({ name: "etc/group", type: "file", mode: 0o644 }, "root:x:0:\nnogroup:x:65534:\n");
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Writes the busybox image as an OCI layout in `dir` with tag `tag`. */
export async function writeBusyboxLayout(dir: string, tag: string): Promise<void> {
  const tar = await layerTar();
  const gz = gzipSync(tar, { level: 6 });
  const layer = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(gz), size: gz.length };
  const config = Buffer.from(
    JSON.stringify({
      created: MTIME.toISOString(),
      architecture: goArch(),
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      history: [{ created: MTIME.toISOString(), created_by: "tsbuild bench: busybox from /bin/busybox" }],
    }),
  );
  const configDesc = { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers: [layer] }));
  const manifestDesc = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length };
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  for (const [d, bytes] of [
    [layer.digest, gz],
    [configDesc.digest, config],
    [manifestDesc.digest, manifest],
  ] as const) {
    await writeFile(join(blobs, d.slice("sha256:".length)), bytes);
  }
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ ...manifestDesc, annotations: { "org.opencontainers.image.ref.name": tag } }],
    }),
  );
}

/** Builds the busybox image and pushes it to `docker://host/repository:tag` with skopeo (digests preserved). */
export async function pushBusybox(host: string, repository: string, tag: string, tmp: string): Promise<void> {
  const dir = await mkdtemp(join(tmp, "busybox-oci-"));
  try {
    await writeBusyboxLayout(dir, tag);
    const auth = join(dir, "auth.json");
    await writeFile(auth, JSON.stringify({ auths: {} }));
    await run("skopeo", [
      "copy",
      "--quiet",
      "--insecure-policy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      "--dest-authfile",
      auth,
      `oci:${dir}:${tag}`,
      `docker://${host}/${repository}:${tag}`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
