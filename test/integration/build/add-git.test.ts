/**
 * `ADD <git URL>` against a real Git server on loopback (`git daemon`,
 * git:// protocol): refs, tags, subdirectories, --keep-git-dir, keying by
 * commit (BuildKit's Git source key), and the errors.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { freePort } from "../../helpers/registry.js";
import { instructionsOf, makeContext, runTsbuild, stepsBy } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();
let daemon: ChildProcess;
let work: string;
let remote: string;

/** The environment without GIT_* variables: an inherited GIT_DIR would point every command below at another repository. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_")));

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, env, encoding: "utf8" }).trim();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tsb-git-"));
  const src = join(work, "src");
  execFileSync("git", ["init", "-q", "-b", "main", src], { env });
  writeFileSync(join(src, "a.txt"), "one\n");
  execFileSync("mkdir", ["-p", join(src, "sub")]);
  writeFileSync(join(src, "sub", "tool.sh"), "#!/bin/sh\necho tool\n", { mode: 0o755 });
  execFileSync("ln", ["-s", "a.txt", join(src, "link")]);
  // A link out of the repository: `#ref:up/tmp` must resolve inside the checkout, never to the host's /tmp.
  execFileSync("ln", ["-s", "/", join(src, "up")]);
  git(src, "add", "-A");
  git(src, "commit", "-qm", "one");
  git(src, "tag", "-a", "v1", "-m", "v1");
  writeFileSync(join(src, "a.txt"), "two\n");
  git(src, "commit", "-qam", "two");
  execFileSync("git", ["clone", "-q", "--bare", src, join(work, "srv", "repo.git")], { env });
  const port = await freePort();
  daemon = spawn("git", ["daemon", "--reuseaddr", "--export-all", `--base-path=${join(work, "srv")}`, `--port=${port}`, "--listen=127.0.0.1", join(work, "srv")], { stdio: "ignore", env });
  remote = `git://127.0.0.1:${port}/repo.git`;
  // Ready when it answers.
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync("git", ["ls-remote", remote], { stdio: "ignore", env });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}, 30_000);

afterAll(() => {
  daemon?.kill();
});

function build(ctx: string, root: string, extra: string[] = []) {
  return runTsbuild(["build", "--progress=rawjson", ...extra, "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
}

describe("ADD of a Git repository", () => {
  test("copies the tree at a ref, tag or tag:subdir, keyed by commit: a moved branch reruns only its own ADD", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        `ADD ${remote}#v1 /v1`,
        `ADD ${remote}#v1:sub /tools`,
        `ADD ${remote} /head`,
        `ADD --keep-git-dir=true ${remote}#main /kept`,
        "",
      ].join("\n"),
    });
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const r = await build(ctx, root, ["-o", "type=local,dest=out"]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(ctx, "out");
    expect(readFileSync(join(out, "head/a.txt"), "utf8")).toBe("two\n");
    expect(readFileSync(join(out, "v1/a.txt"), "utf8")).toBe("one\n");
    expect(readlinkSync(join(out, "v1/link"))).toBe("a.txt");
    const tool = lstatSync(join(out, "tools/tool.sh"));
    expect(tool.mode & 0o777).toBe(0o755);
    expect([tool.uid, tool.gid]).toEqual([0, 0]);
    expect(existsSync(join(out, "v1/.git"))).toBe(false);
    expect(existsSync(join(out, "kept/.git/HEAD"))).toBe(true);

    // Nothing moved: every ADD is a cache hit.
    const again = await build(ctx, root);
    expect(stepsBy(again.events).ran).toEqual([]);

    // main moves: the ADDs of HEAD and of main rerun, the tag's (before them) stay cached.
    const src = join(work, "src");
    writeFileSync(join(src, "a.txt"), "three\n");
    git(src, "commit", "-qam", "three");
    git(src, "push", "-q", join(work, "srv", "repo.git"), "main");
    const moved = await build(ctx, root, ["-o", "type=local,dest=out2"]);
    expect(moved.code, moved.stderr).toBe(0);
    const ran = instructionsOf(stepsBy(moved.events).ran);
    expect(ran).toEqual([`ADD ${remote} /head`, `ADD --keep-git-dir=true ${remote}#main /kept`]);
    expect(readFileSync(join(ctx, "out2/head/a.txt"), "utf8")).toBe("three\n");
  });

  test("--checksum pins the commit (or the annotated tag object) a ref must name (BuildKit testAddGitChecksum)", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const src = join(work, "src");
    const commit = git(src, "rev-parse", "v1^{commit}");
    const tagObject = git(src, "rev-parse", "v1");
    for (const sum of [commit, tagObject, commit.slice(0, 12)]) {
      const ok = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD --checksum=${sum} ${remote}#v1 /x\n` }), root);
      expect(ok.code, ok.stderr).toBe(0);
    }
    const head = git(src, "rev-parse", "main");
    const wrong = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD --checksum=${head} ${remote}#v1 /x\n` }), root);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`expected checksum to match ${head}, got ${tagObject} or ${commit}`);
    const garbage = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD --checksum=foobar ${remote}#v1 /x\n` }), root);
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toContain("expected hex commit hash");
  });

  test("the query form ?ref= / ?branch= / ?tag= / ?subdir= (BuildKit testGitQueryString)", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const ctx = makeContext({
      Dockerfile: [`FROM ${fixture.base}`, `ADD ${remote}?ref=v1 /ref`, `ADD ${remote}?tag=v1&subdir=sub /tag-sub`, `ADD ${remote}?tag=v1#refs/tags/v1 /mixed`, ""].join("\n"),
    });
    const r = await build(ctx, root, ["-o", "type=local,dest=out"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ctx, "out/ref/a.txt"), "utf8")).toBe("one\n");
    expect(readFileSync(join(ctx, "out/tag-sub/tool.sh"), "utf8")).toContain("echo tool");
    expect(readFileSync(join(ctx, "out/mixed/a.txt"), "utf8")).toBe("one\n");
    const tagAsBranch = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}?branch=v1 /x\n` }), root);
    expect(tagAsBranch.code).toBe(1);
    expect(tagAsBranch.stderr).toContain("repository does not contain ref");
    const conflict = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}?tag=v1#refs/heads/main /x\n` }), root);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain("ref conflicts");
  });

  test("a GIT_DIR inherited from the caller (a hook, a CI job) is not the repository the ADD fetches into", async () => {
    const decoy = join(work, "decoy");
    execFileSync("git", ["init", "-q", decoy], { env });
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}#v1 /x\n` });
    const r = await runTsbuild(["build", "--progress=rawjson", "."], {
      cwd: ctx,
      env: { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")), GIT_DIR: join(decoy, ".git"), GIT_WORK_TREE: decoy },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(git(decoy, "remote")).toBe("");
    expect(execFileSync("git", ["-C", decoy, "count-objects"], { env, encoding: "utf8" })).toMatch(/^0 objects/);
  });

  test("a missing ref or subdirectory fails at the ADD naming the remote, a subdirectory through a link out of the repository too; COPY refuses a Git URL", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    const noRef = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}#nope /x\n` }), root);
    expect(noRef.code).toBe(1);
    expect(noRef.stderr).toContain(`Git remote ${remote} has no ref "nope"`);
    expect(noRef.stderr).toContain("Dockerfile:2");
    const noDir = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}#v1:missing /x\n` }), root);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain(`has no directory "missing"`);
    const out = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nADD ${remote}#v1:up/tmp /x\n` }), root);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`has no directory "up/tmp"`);
    const copy = await build(makeContext({ Dockerfile: `FROM ${fixture.base}\nCOPY ${remote} /x\n` }), root);
    expect(copy.code).not.toBe(0);
    expect(copy.stderr).toContain("use ADD to copy a Git repository");
  });
});
