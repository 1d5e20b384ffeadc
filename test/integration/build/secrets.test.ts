import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { makeContext, runTsbuild, stepsBy } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

// BuildKit's secret mounts: a read-only file (default /run/secrets/<id>, 0400 root) and/or an
// environment variable, never in a layer or a cache key; a missing optional secret is skipped.
describe("--secret and RUN --mount=type=secret", () => {
  test("a secret reaches RUN as a file and as env, leaves nothing in the image, and is not part of the key", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        "RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen-file && stat -c ' %a %u' /run/secrets/tok >> /seen-file",
        "RUN --mount=type=secret,id=tok,env=TOK,target=/s/tok,mode=0440,uid=1000 echo \"$TOK\" > /seen-env && stat -c '%a %u' /s/tok >> /seen-env",
        "RUN --mount=type=secret,id=other,env=OTHER echo \"[$OTHER]\" > /seen-missing",
        "RUN --mount=type=secret,id=fromenv cat /run/secrets/fromenv > /seen-fromenv",
        "",
      ].join("\n"),
    });
    const root = mkdtempSync(join(tmpdir(), "tsb-root-"));
    writeFileSync(join(ctx, "tok.txt"), "s3cret");
    // What a tsbuild killed mid-RUN left on /dev/shm (its pid is gone) is removed by the next one.
    const stale = "/dev/shm/tsbuild-secret-2147483646-stale";
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, "secret"), "old");
    const env = { TSBUILD_ROOT: root, API_TOKEN: "from-the-env" };
    const r = await runTsbuild(["build", "--progress=rawjson", "--secret", "id=tok,src=tok.txt", "--secret", "id=fromenv,env=API_TOKEN", "-o", "type=tar,dest=fs.tar", "."], { cwd: ctx, env });
    expect(r.code, r.stderr).toBe(0);
    const out = mkdtempSync(join(tmpdir(), "tsb-secret-out-"));
    execFileSync("tar", ["xf", join(ctx, "fs.tar"), "-C", out]);
    expect(readFileSync(join(out, "seen-file"), "utf8")).toBe("s3cret 400 0\n");
    expect(readFileSync(join(out, "seen-env"), "utf8")).toBe("s3cret\n440 1000\n");
    expect(readFileSync(join(out, "seen-missing"), "utf8")).toBe("[]\n");
    expect(readFileSync(join(out, "seen-fromenv"), "utf8")).toBe("from-the-env");
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync("/dev/shm").filter((n) => n.startsWith("tsbuild-secret-"))).toEqual([]);
    // The mount points runc made are gone: no /run/secrets, no /s in the filesystem.
    const entries = execFileSync("tar", ["tf", join(ctx, "fs.tar")]).toString().split("\n");
    expect(entries.filter((e) => /^(\.\/)?(run|s)(\/|$)/.test(e))).toEqual([]);
    // Another value, same key: nothing reruns (BuildKit keeps secrets out of cache keys).
    writeFileSync(join(ctx, "tok.txt"), "changed");
    const again = await runTsbuild(["build", "--progress=rawjson", "--secret", "id=tok,src=tok.txt", "--secret", "id=fromenv,env=API_TOKEN", "."], { cwd: ctx, env });
    expect(stepsBy(again.events).ran).toEqual([]);
    expect(again.stdout + again.stderr).not.toContain("s3cret");
  });

  test("a required secret that was not given fails the step; a missing source fails before the build", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN --mount=type=secret,id=need,required=true true\n` });
    const env = { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")) };
    const missing = await runTsbuild(["build", "."], { cwd: ctx, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Dockerfile:2:1:");
    expect(missing.stderr).toContain("secret need not found");
    const badSource = await runTsbuild(["build", "--secret", "id=need,src=nope.txt", "."], { cwd: ctx, env });
    expect(badSource.code).not.toBe(0);
    expect(badSource.stderr).toContain(`secret need: cannot read ${join(ctx, "nope.txt")}: no such file`);
  });
});
