/**
 * skopeo as an independent second implementation of the registry protocol:
 * push test images with it (so pull tests do not depend on our push) and
 * inspect what our client pushed (so push tests do not depend on our pull).
 *
 * All calls use `--tls-verify=false` (the test registries speak plain HTTP
 * on 127.0.0.1) and `--insecure-policy` (no signature policy needed).
 * Credentials, when given, are passed with `--creds`, and skopeo's own
 * auth file is pointed at an empty temp file so a developer's
 * `~/.docker/config.json` cannot change the outcome.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeOciLayout, type TestImage } from "./busybox-image.js";

const run = promisify(execFile);

/** Where and as whom to push or inspect. */
export interface SkopeoTarget {
  /** Registry host, e.g. `127.0.0.1:5000`. */
  readonly host: string;
  /** Repository, e.g. `busybox`. */
  readonly repository: string;
  /** Tag. */
  readonly tag: string;
  /** User name, for registries with auth. */
  readonly username?: string;
  /** Password, for registries with auth. */
  readonly password?: string;
}

/** What `skopeo inspect` reports (the fields tests use). */
export interface SkopeoInspect {
  /** Manifest digest. */
  readonly Digest: string;
  /** Architecture from the config. */
  readonly Architecture: string;
  /** OS from the config. */
  readonly Os: string;
  /** Layer digests. */
  readonly Layers: string[];
  /** Env from the config. */
  readonly Env?: string[];
}

async function withAuthFile<T>(fn: (authFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-skopeo-"));
  try {
    const authFile = join(dir, "auth.json");
    await writeFile(authFile, JSON.stringify({ auths: {} }));
    return await fn(authFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function creds(flag: string, t: SkopeoTarget): string[] {
  return t.username === undefined ? [] : [flag, `${t.username}:${t.password ?? ""}`];
}

/** Runs skopeo, turning a failure into an Error carrying its stderr. */
async function skopeo(args: string[]): Promise<string> {
  try {
    const { stdout } = await run("skopeo", args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args[0] ?? ""} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * Pushes `image` to `docker://host/repository:tag` via an OCI layout in a
 * temp dir, preserving its digests (the manifest in the registry is the
 * exact bytes of `image.manifestBlob`).
 */
export async function skopeoPush(image: TestImage, target: SkopeoTarget): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-oci-"));
  try {
    await writeOciLayout(image, dir, target.tag);
    await withAuthFile((authFile) =>
      skopeo([
        "copy",
        "--insecure-policy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-authfile",
        authFile,
        ...creds("--dest-creds", target),
        `oci:${dir}:${target.tag}`,
        `docker://${target.host}/${target.repository}:${target.tag}`,
      ]),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `skopeo inspect docker://host/repository:tag`, parsed. */
export async function skopeoInspect(target: SkopeoTarget): Promise<SkopeoInspect> {
  const out = await withAuthFile((authFile) =>
    skopeo([
      "inspect",
      "--tls-verify=false",
      "--authfile",
      authFile,
      ...creds("--creds", target),
      `docker://${target.host}/${target.repository}:${target.tag}`,
    ]),
  );
  return JSON.parse(out) as SkopeoInspect;
}

/** `skopeo inspect --raw`: the manifest bytes exactly as the registry serves them. */
export async function skopeoRawManifest(target: SkopeoTarget): Promise<Buffer> {
  const out = await withAuthFile((authFile) =>
    skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--authfile",
      authFile,
      ...creds("--creds", target),
      `docker://${target.host}/${target.repository}:${target.tag}`,
    ]),
  );
  return Buffer.from(out, "utf8");
}
