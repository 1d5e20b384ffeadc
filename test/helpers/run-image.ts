import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Runs an image the way a user would, with independent tools: the OCI
 * archive is unpacked by umoci (which also turns the image config's
 * entrypoint, cmd, env, user and workdir into a runtime spec) and run by
 * runc. Returns the process's standard output; throws on a non-zero exit.
 * `tag` is the archive's `org.opencontainers.image.ref.name` (the tag only).
 */
export function runImage(archive: string, tag: string): string {
  const work = mkdtempSync(join(tmpdir(), "tsb-run-"));
  execFileSync("tar", ["-xf", archive, "-C", work]);
  const bundle = join(work, "bundle");
  execFileSync("umoci", ["unpack", "--image", `${work}:${tag}`, bundle], { stdio: "pipe" });
  const configPath = join(bundle, "config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  config.process.terminal = false;
  writeFileSync(configPath, JSON.stringify(config));
  const r = spawnSync("runc", ["--root", join(work, "state"), "run", "--bundle", bundle, `tsb-test-${process.pid}-${Date.now()}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`runc run failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
