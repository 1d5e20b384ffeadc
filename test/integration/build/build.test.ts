import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { skopeoInspect } from "../../helpers/skopeo.js";
import { runImage } from "../../helpers/run-image.js";
import { collect, instructionsOf, makeContext, runTsbuild, spawnTsbuild, stepsBy, writeContext } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

/** A fresh store per test, so each starts with an empty cache. */
function freshRoot(): string {
  return mkdtempSync(join(tmpdir(), "tsb-root-"));
}

function build(ctx: string, root: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runTsbuild(["build", "--progress=rawjson", ...extra, "."], { cwd: ctx, env: { TSBUILD_ROOT: root, ...env } });
}

describe("tsbuild build", () => {
  test("builds a multi-stage image with RUN and COPY whose files, env, user, workdir and entrypoint behave as written", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base} AS build`,
        "WORKDIR /src",
        "COPY hello.txt ./",
        'RUN echo "built from $(cat hello.txt)" > out.txt',
        `FROM ${fixture.base}`,
        "ENV GREETING=hi",
        "COPY --from=build /src/out.txt /app/out.txt",
        "WORKDIR /app",
        "USER app",
        'ENTRYPOINT ["sh", "-c", "echo $GREETING; cat out.txt; id -u; pwd; ls -ln out.txt"]',
        "",
      ].join("\n"),
      "hello.txt": "the context\n",
    });
    const root = freshRoot();
    const r = await build(ctx, root, ["-t", "app:1", "-o", "type=image", "-o", "type=oci,dest=img.tar", "--iidfile", "iid", "--metadata-file", "meta.json"]);
    expect(r.stderr).toContain("naming to docker.io/library/app:1");
    expect(r.code).toBe(0);
    const meta = JSON.parse(readFileSync(join(ctx, "meta.json"), "utf8"));
    expect(meta["containerimage.config.digest"]).toBe(readFileSync(join(ctx, "iid"), "utf8"));
    expect(meta["containerimage.digest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(meta["image.name"]).toBe("docker.io/library/app:1");
    const out = runImage(join(ctx, "img.tar"), "1");
    expect(out.split("\n").slice(0, 4)).toEqual(["hi", "built from the context", "1000", "/app"]);
    // COPY gives root ownership unless --chown says otherwise (Docker's rule).
    expect(out).toMatch(/ 0 +0 .* out\.txt/);
    // The store lists it.
    const images = await runTsbuild(["images"], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    expect(images.stdout).toMatch(/^app\s+1\s/m);
  });

  test("an unchanged rebuild runs no step and gives the same image", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt\n`, "a.txt": "a\n" });
    const root = freshRoot();
    const first = await build(ctx, root, ["-t", "rebuild:1", "--iidfile", "iid1"]);
    expect(first.code).toBe(0);
    expect(stepsBy(first.events).ran).toHaveLength(3);
    const second = await build(ctx, root, ["-t", "rebuild:1", "--iidfile", "iid2"]);
    expect(second.code).toBe(0);
    expect(stepsBy(second.events)).toEqual({ ran: [], cached: expect.arrayContaining([expect.stringContaining("RUN echo one")]) });
    expect(stepsBy(second.events).cached).toHaveLength(3);
    expect(readFileSync(join(ctx, "iid2"), "utf8")).toBe(readFileSync(join(ctx, "iid1"), "utf8"));
    // Layers: the base's, RUN echo, COPY; `RUN cat` changed no file, so it made none (an empty_layer history entry).
    const inspect = await runTsbuild(["inspect", "rebuild:1"], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    const { manifest, config } = JSON.parse(inspect.stdout);
    expect(manifest.layers).toHaveLength(3);
    expect(config.history.map((h: { empty_layer?: boolean }) => h.empty_layer === true).slice(-3)).toEqual([false, false, true]);
  });

  test("WORKDIR makes a layer only when it creates the directory", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nWORKDIR /bin\nWORKDIR /made/here\nWORKDIR /made\nRUN pwd > /pwd\nCMD ["cat", "/pwd"]\n` });
    const root = freshRoot();
    const r = await build(ctx, root, ["-t", "workdir:1", "-o", "type=image", "-o", "type=oci,dest=img.tar"]);
    expect(r.code, r.stderr).toBe(0);
    expect(stepsBy(r.events).ran).toHaveLength(4);
    const inspect = await runTsbuild(["inspect", "workdir:1"], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    const { config } = JSON.parse(inspect.stdout);
    // After the base: WORKDIR /bin (exists: empty), /made/here (created), /made (exists now: empty), RUN, CMD (empty).
    expect(config.history.map((h: { empty_layer?: boolean }) => h.empty_layer === true).slice(-5)).toEqual([true, false, true, false, true]);
    expect(config.config.WorkingDir).toBe("/made");
    expect(runImage(join(ctx, "img.tar"), "1").trim()).toBe("/made");
  });

  test("FROM scratch gets BuildKit's default PATH in its config, and ENV PATH=$PATH:... extends it", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch AS a\nENV A=1\nFROM a\nENV PATH=$PATH:/opt/bin\n" });
    const root = freshRoot();
    const r = await build(ctx, root, ["-t", "scratchpath:1"]);
    expect(r.code, r.stderr).toBe(0);
    const { config } = JSON.parse((await runTsbuild(["inspect", "scratchpath:1"], { cwd: ctx, env: { TSBUILD_ROOT: root } })).stdout);
    expect(config.config.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin", "A=1"]);
  });

  test("COPY --link is applied to an empty filesystem and stacked: a change before it does not rerun it (BuildKit's MergeOp)", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        "ARG V",
        "RUN mkdir -m 700 /app && chown 1000:1000 /app && echo $V > /v",
        "COPY --link a.txt /app/a.txt",
        "COPY --link --chown=1000:1000 a.txt /owned/dir/a.txt",
        "COPY --link --chmod=644 a.txt /chmod/a.txt",
        "RUN stat -c '%a %u' /app /owned /owned/dir /owned/dir/a.txt > /stat && cat /v >> /stat",
        "",
      ].join("\n"),
      "a.txt": "a\n",
    });
    const root = freshRoot();
    const first = await build(ctx, root, ["--build-arg", "V=1"]);
    expect(first.code, first.stderr).toBe(0);
    expect(stepsBy(first.events).ran).toHaveLength(5);
    const second = await build(ctx, root, ["--build-arg", "V=2", "-o", "type=local,dest=out"]);
    expect(second.code, second.stderr).toBe(0);
    // The two linked copies are reused on the new RUN; with --chmod, --link does not apply (dockerfile2llb: cfg.chmod == "").
    expect(stepsBy(second.events).cached).toEqual([expect.stringContaining("COPY --link a.txt"), expect.stringContaining("--chown=1000:1000")]);
    expect(stepsBy(second.events).ran).toHaveLength(3);
    // The linked layer holds /app as its copy made it (root, 0755), over the base's 0700 1000 (moby/buildkit#4964, docker/buildx#1855).
    expect(readFileSync(join(ctx, "out/stat"), "utf8")).toBe("755 0\n755 1000\n755 1000\n644 1000\n2\n");
    expect(readFileSync(join(ctx, "out/app/a.txt"), "utf8")).toBe("a\n");
  });

  test("COPY --link refuses a --chown by name, naming the instruction", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nCOPY --link --chown=app:app a.txt /a.txt\n`, "a.txt": "a\n" });
    const r = await build(ctx, freshRoot());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Dockerfile:2:1: --chown=app:app cannot be used with --link");
  });

  test("WORKDIR under USER gives every directory it creates, parents included, to that user (BuildKit's MkdirAll)", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nUSER app\nWORKDIR /srv/app/data\nRUN stat -c '%u:%g %n' / /srv /srv/app /srv/app/data > owners\n` });
    const r = await build(ctx, freshRoot(), ["-o", "type=local,dest=out"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ctx, "out/srv/app/data/owners"), "utf8")).toBe("0:0 /\n1000:1000 /srv\n1000:1000 /srv/app\n1000:1000 /srv/app/data\n");
  });

  test("a changed file reruns only the COPY that selects it and what follows; comments and ignored files rerun nothing", async () => {
    const ctx = makeContext({
      Dockerfile: [`FROM ${fixture.base} AS a`, "COPY one.txt /one", "RUN cat /one", `FROM ${fixture.base}`, "RUN echo independent", "COPY two.txt /two", "RUN cat /two", "COPY --from=a /one /from-a", ""].join("\n"),
      "one.txt": "1\n",
      "two.txt": "2\n",
      "ignored.log": "x\n",
      ".dockerignore": "*.log\n",
    });
    const root = freshRoot();
    expect((await build(ctx, root)).code).toBe(0);
    writeContext(ctx, { "two.txt": "changed\n" });
    const r = await build(ctx, root);
    expect(r.code).toBe(0);
    const { ran, cached } = stepsBy(r.events);
    expect(instructionsOf(ran)).toEqual(["COPY two.txt /two", "RUN cat /two", "COPY --from=a /one /from-a"]);
    expect(cached).toHaveLength(3);
    // A comment and a change to an ignored file: nothing reruns.
    writeContext(ctx, { "ignored.log": "changed\n", Dockerfile: `# a comment\n${readFileSync(join(ctx, "Dockerfile"), "utf8")}` });
    const again = await build(ctx, root);
    expect(stepsBy(again.events).ran).toEqual([]);
  });

  test("COPY --from=stage is keyed by the files it selects: a stage that reruns with the same output leaves it cached (BuildKit's content checksum)", async () => {
    // BuildKit keys a copy from another state by the checksum of the selected paths (FileOp ComputeDigestFunc):
    // the build stage below reruns on every edit of src.txt, but only the first three characters reach its output.
    const dockerfile = [
      `FROM ${fixture.base} AS build`,
      "COPY src.txt /src.txt",
      "RUN mkdir -p /dir/sub && cut -c1-3 /src.txt > /out.txt && cp /out.txt /dir/sub/copy.txt",
      `FROM ${fixture.base}`,
      "COPY --from=build /out.txt /app/out.txt",
      "COPY --from=build /dir/ /app/dir/",
      "RUN cat /app/out.txt /app/dir/sub/copy.txt > /app/both",
      'CMD ["cat", "/app/both"]',
      "",
    ].join("\n");
    const ctx = makeContext({ Dockerfile: dockerfile, "src.txt": "abc-1\n" });
    const root = freshRoot();
    expect((await build(ctx, root)).code).toBe(0);

    // Same selected bytes (the file, and the directory read through an overlay): the copies and the RUN after them stay cached.
    writeContext(ctx, { "src.txt": "abc-2\n" });
    const same = await build(ctx, root, ["-t", "cf:same", "-o", "type=oci,dest=same.tar"]);
    expect(same.code, same.stderr).toBe(0);
    expect(instructionsOf(stepsBy(same.events).ran)).toEqual(["COPY src.txt /src.txt", expect.stringMatching(/^RUN mkdir/)]);
    expect(instructionsOf(stepsBy(same.events).cached)).toEqual(expect.arrayContaining(["COPY --from=build /out.txt /app/out.txt", "COPY --from=build /dir/ /app/dir/", expect.stringMatching(/^RUN cat/)]));
    expect(runImage(join(ctx, "same.tar"), "same")).toBe("abc\nabc\n");

    // The plan agrees: with everything cached, every key is known and cached.
    const plan = await runTsbuild(["plan", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    expect(plan.stdout).toMatch(/^ {2}CACHED {2}sha256:[0-9a-f]{12} {2}\[stage-1 2\/4\] COPY --from=build \/out.txt/m);

    // Different selected bytes: both copies and what follows rerun, and the image has the new content.
    writeContext(ctx, { "src.txt": "xyz-2\n" });
    // Before it runs, the copies' keys cannot be known: the plan says so instead of guessing.
    const pending = await runTsbuild(["plan", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    expect(pending.stdout).toMatch(/^ {10}pending {14}\[stage-1 2\/4\] COPY --from=build \/out.txt/m);
    expect(pending.stdout).toMatch(/^ {10}pending {14}\[stage-1 4\/4\] RUN cat/m);
    const changed = await build(ctx, root, ["-t", "cf:changed", "-o", "type=oci,dest=changed.tar"]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(instructionsOf(stepsBy(changed.events).ran)).toEqual(expect.arrayContaining(["COPY --from=build /out.txt /app/out.txt", "COPY --from=build /dir/ /app/dir/", expect.stringMatching(/^RUN cat/)]));
    expect(runImage(join(ctx, "changed.tar"), "changed")).toBe("xyz\nxyz\n");

    // A mode change in the stage's output is a change too (owners and modes are in the checksum).
    writeContext(ctx, { Dockerfile: dockerfile.replace("cp /out.txt /dir/sub/copy.txt", "cp /out.txt /dir/sub/copy.txt && chmod 600 /dir/sub/copy.txt") });
    const mode = await build(ctx, root);
    expect(mode.code, mode.stderr).toBe(0);
    expect(instructionsOf(stepsBy(mode.events).ran)).toEqual([expect.stringMatching(/^RUN mkdir/), "COPY --from=build /dir/ /app/dir/", expect.stringMatching(/^RUN cat/)]);
  });

  test("RUN --mount=type=bind,from=stage is keyed by the mounted files when read-only, by the stage's key when rw (BuildKit's NoContentBasedHash)", async () => {
    const dockerfile = [
      `FROM ${fixture.base} AS build`,
      "COPY src.txt /src.txt",
      "RUN mkdir /out && cut -c1-3 /src.txt > /out/o.txt",
      `FROM ${fixture.base}`,
      "RUN --mount=type=bind,from=build,source=/out,target=/in cat /in/o.txt > /ro",
      "RUN --mount=type=bind,from=build,source=/out,target=/in,rw cat /in/o.txt > /rw",
      'CMD ["cat", "/ro", "/rw"]',
      "",
    ].join("\n");
    const ctx = makeContext({ Dockerfile: dockerfile, "src.txt": "abc-1\n" });
    const root = freshRoot();
    expect((await build(ctx, root)).code).toBe(0);
    writeContext(ctx, { "src.txt": "abc-2\n" });
    const same = await build(ctx, root);
    expect(same.code, same.stderr).toBe(0);
    // The build stage reran with the same output: the read-only mount's RUN stays cached, the rw one reruns.
    expect(instructionsOf(stepsBy(same.events).ran)).toEqual(["COPY src.txt /src.txt", expect.stringMatching(/^RUN mkdir/), expect.stringMatching(/,rw cat/)]);
    writeContext(ctx, { "src.txt": "xyz-2\n" });
    const changed = await build(ctx, root, ["-t", "mnt:1", "-o", "type=image", "-o", "type=oci,dest=img.tar"]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(instructionsOf(stepsBy(changed.events).ran)).toEqual(expect.arrayContaining([expect.stringMatching(/target=\/in cat/), expect.stringMatching(/,rw cat/)]));
    expect(runImage(join(ctx, "img.tar"), "1")).toBe("xyz\nxyz\n");
  });

  test("a COPY --from source missing from the stage fails at the COPY's line, saying where it was looked for", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base} AS build\nRUN echo x > /made\nFROM ${fixture.base}\nCOPY --from=build /not-made /x\n` });
    const r = await runTsbuild(["build", "--progress=plain", "."], { cwd: ctx, env: { TSBUILD_ROOT: freshRoot() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"/not-made": not found');
    expect(r.stderr).toMatch(/Dockerfile:4/);
    expect(r.stderr).toContain("check that the path exists in the source stage or image");
  });

  test("a failing RUN reports its exit code, the Dockerfile location and its last output lines", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo fine\nRUN echo about to fail && \\\n  exit 3\n` });
    const r = await build(ctx, freshRoot());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Dockerfile:3:1");
    expect(r.stderr).toContain('did not complete successfully: exit code: 3');
    expect(r.stderr).toContain(">>> RUN echo about to fail");
    expect(r.stderr).toContain("about to fail");
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  test("independent stages run in parallel", async () => {
    const ctx = makeContext({
      Dockerfile: [`FROM ${fixture.base} AS a`, "RUN sleep 1 && echo a > /a", `FROM ${fixture.base} AS b`, "RUN sleep 1 && echo b > /b", `FROM ${fixture.base}`, "COPY --from=a /a /a", "COPY --from=b /b /b", ""].join("\n"),
    });
    const r = await build(ctx, freshRoot());
    expect(r.code).toBe(0);
    const start = (name: string) => r.events.find((e) => e.type === "step-start" && e.name.includes(name))!.time;
    const done = (name: string) => r.events.find((e) => e.type === "step-done" && e.name.includes(name))!.time;
    // Each started before the other finished: they overlapped.
    expect(start("echo a")).toBeLessThan(done("echo b"));
    expect(start("echo b")).toBeLessThan(done("echo a"));
  });

  test("the sandbox sees neither host processes nor host files, and --network none has no route out", async () => {
    const marker = join(tmpdir(), `tsb-host-marker-${process.pid}`);
    writeFileSync(marker, "host secret");
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        `RUN ls /proc | grep -c '^[0-9]' > /pids; test ! -e ${marker}; ps -o pid,comm > /ps`,
        "RUN --network=none cat /proc/net/route | wc -l > /routes; ls /sys/class/net > /ifaces",
        'CMD ["sh"]',
        "",
      ].join("\n"),
    });
    const root = freshRoot();
    const r = await build(ctx, root, ["-o", "type=local,dest=out"]);
    expect(r.code).toBe(0);
    expect(Number(readFileSync(join(ctx, "out/pids"), "utf8"))).toBeLessThanOrEqual(3);
    expect(readFileSync(join(ctx, "out/routes"), "utf8").trim()).toBe("1");
    expect(readFileSync(join(ctx, "out/ifaces"), "utf8").trim()).toBe("lo");
  });

  test("a bind mount whose source is a symlink resolves inside its stage or context, never to the host's path", async () => {
    // mount(2) follows symlinks on the host: unresolved, /link -> <host dir> would bind the host's directory into the sandbox.
    const hostDir = mkdtempSync(join(tmpdir(), "tsb-host-dir-"));
    writeFileSync(join(hostDir, "secret"), "host secret\n");
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base} AS s`,
        `RUN mkdir -p ${hostDir} && echo "stage file" > ${hostDir}/secret && ln -s ${hostDir} /link`,
        `FROM ${fixture.base}`,
        "RUN --mount=type=bind,from=s,source=/link,target=/in cat /in/secret > /from-stage",
        "RUN --mount=type=bind,source=ctxlink,target=/in ls /in > /from-context",
        "",
      ].join("\n"),
    });
    // The context's link points at the host directory too; inside the context that path does not exist.
    execFileSync("ln", ["-s", hostDir, join(ctx, "ctxlink")]);
    const r = await build(ctx, freshRoot(), ["-o", "type=local,dest=out"]);
    expect(r.stderr).not.toContain("host secret");
    // The stage's symlink leads to the stage's own directory of that name.
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"/ctxlink": not found');
    writeContext(ctx, { Dockerfile: readFileSync(join(ctx, "Dockerfile"), "utf8").replace(/RUN --mount=type=bind,source=ctxlink.*\n/, "") });
    const ok = await build(ctx, freshRoot(), ["-o", "type=local,dest=out"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(ctx, "out/from-stage"), "utf8")).toBe("stage file\n");
  });

  test("a RUN heredoc named with ../ writes its script inside the step's pipes directory, never on the host", async () => {
    const hostDir = mkdtempSync(join(tmpdir(), "tsb-host-dir-"));
    const climb = "../".repeat(12);
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN <<${climb}${hostDir.slice(1)}/pwned\n#!/bin/sh\necho ran\n${climb}${hostDir.slice(1)}/pwned\n` });
    const r = await build(ctx, freshRoot());
    // BuildKit runs path.Join("/dev/pipes/", name): here that is a path the image does not have, so the step fails.
    expect(r.code).toBe(1);
    expect(existsSync(join(hostDir, "pwned"))).toBe(false);
    // A plain name still runs as a script from /dev/pipes.
    const ok = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN <<EOF\n#!/bin/sh\necho "script at $0"\nEOF\n` });
    const good = await build(ok, freshRoot());
    expect(good.code, good.stderr).toBe(0);
    expect(good.events.some((e) => e.type === "step-log" && e.text.includes("script at /dev/pipes/EOF"))).toBe(true);
  });

  test("removing mount stubs after a RUN never follows a parent the RUN swapped for a symlink to the host", async () => {
    // The stub for /x/y/stub is recorded before the run; the run replaces /x by a link to a host directory holding y/stub.
    const hostDir = mkdtempSync(join(tmpdir(), "tsb-host-dir-"));
    mkdirSync(join(hostDir, "y"));
    writeFileSync(join(hostDir, "y", "stub"), "");
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN --mount=type=tmpfs,target=/x/y/stub sh -c 'mv /x /x2 && ln -s ${hostDir} /x'\n` });
    const r = await build(ctx, freshRoot());
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(hostDir, "y", "stub"))).toBe(true);
  });

  test("SOURCE_DATE_EPOCH gives the same image digest from the same inputs", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo x > /x && mkdir /d && touch /d/f\nCOPY a.txt /\n`, "a.txt": "a\n" });
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const a = await build(ctx, freshRoot(), ["--metadata-file", "m1.json"], env);
    const b = await build(ctx, freshRoot(), ["--metadata-file", "m2.json"], env);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const digest = (f: string) => JSON.parse(readFileSync(join(ctx, f), "utf8"))["containerimage.digest"];
    expect(digest("m1.json")).toBe(digest("m2.json"));
  });

  test("--push sends the image to the registry, readable by skopeo", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo pushed > /p\n` });
    const name = `${fixture.registry.host}/built/app:v1`;
    const r = await build(ctx, freshRoot(), ["-t", name, "--push", "--metadata-file", "m.json"]);
    expect(r.code).toBe(0);
    const inspected = await skopeoInspect({ host: fixture.registry.host, repository: "built/app", tag: "v1" });
    expect(inspected.Digest).toBe(JSON.parse(readFileSync(join(ctx, "m.json"), "utf8"))["containerimage.digest"]);
  });
});

describe("interrupted builds", () => {
  test("kill -9 in the middle of a multi-stage build: the rerun reuses every finished step, and nothing is left mounted or running", async () => {
    const ctx = makeContext({
      Dockerfile: [`FROM ${fixture.base} AS quick`, "RUN echo quick > /q", `FROM ${fixture.base} AS slow`, "RUN echo step-one > /s1", "RUN echo waiting && sleep 3", `FROM ${fixture.base}`, "COPY --from=quick /q /q", "COPY --from=slow /s1 /s1", ""].join("\n"),
    });
    const root = freshRoot();
    const child = spawnTsbuild(["build", "--progress=rawjson", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    let doneQuick = false;
    let doneOne = false;
    const run = collect(child, (e) => {
      if (e.type === "step-done" && e.name.includes("echo quick")) doneQuick = true;
      if (e.type === "step-done" && e.name.includes("step-one")) doneOne = true;
      if (e.type === "step-log" && e.text.includes("waiting") && doneQuick && doneOne) child.kill("SIGKILL");
    });
    const killed = await run;
    expect(killed.code).toBe(null);
    const rerun = await build(ctx, root, [], {});
    expect(rerun.code).toBe(0);
    const { ran, cached } = stepsBy(rerun.events);
    expect(cached.some((n) => n.includes("echo quick"))).toBe(true);
    expect(cached.some((n) => n.includes("step-one"))).toBe(true);
    expect(ran.some((n) => n.includes("sleep 3"))).toBe(true);
    // Nothing of the killed build remains: no overlay mount under the root, no runc container.
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(root);
    const list = execFileSync("runc", ["--root", join(root, "sandbox", "runc"), "list", "-q"], { encoding: "utf8" });
    expect(list.trim()).toBe("");
  }, 120_000);

  test("SIGINT stops running steps, records nothing for them, and leaves no container", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo started && sleep 30\n` });
    const root = freshRoot();
    const child = spawnTsbuild(["build", "--progress=rawjson", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    const run = collect(child, (e) => {
      if (e.type === "step-log" && e.text.includes("started")) child.kill("SIGINT");
    });
    const r = await run;
    expect(r.code).toBe(130);
    expect(r.events.some((e) => e.type === "step-error" && e.cancelled)).toBe(true);
    expect(existsSync(join(root, "sandbox", "runc")) ? execFileSync("runc", ["--root", join(root, "sandbox", "runc"), "list", "-q"], { encoding: "utf8" }).trim() : "").toBe("");
    // The interrupted step was not recorded: the plan shows it uncached (a cached line starts with CACHED).
    const plan = await runTsbuild(["plan", "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^ {10}sha256:[0-9a-f]{12} {2}\[stage-0 2\/2\] RUN echo started/m);
  }, 120_000);
});
