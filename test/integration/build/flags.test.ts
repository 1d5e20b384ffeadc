import { execFileSync, spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { collect, makeContext, runTsbuild, stepsBy, TSBUILD_BIN } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

const freshRoot = (): string => mkdtempSync(join(tmpdir(), "tsb-root-"));
const build = (ctx: string, root: string, extra: string[] = []) =>
  runTsbuild(["build", "--progress=rawjson", ...extra, "."], { cwd: ctx, env: { TSBUILD_ROOT: root } });
const inspect = async (ctx: string, root: string, name: string) =>
  JSON.parse((await runTsbuild(["inspect", name], { cwd: ctx, env: { TSBUILD_ROOT: root } })).stdout) as { config: { config: Record<string, unknown>; history: { created_by: string }[] } };

describe("build flags", () => {
  test("--no-cache runs every step; --no-cache-filter only the named stage's", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base} AS one\nRUN echo 1 > /1\nFROM ${fixture.base}\nRUN echo 2 > /2\nCOPY --from=one /1 /1\n` });
    const root = freshRoot();
    expect((await build(ctx, root)).code).toBe(0);
    const all = await build(ctx, root, ["--no-cache"]);
    expect(stepsBy(all.events)).toEqual({ ran: expect.any(Array), cached: [] });
    expect(stepsBy(all.events).ran).toHaveLength(3);
    const filtered = await build(ctx, root, ["--no-cache-filter", "one"]);
    expect(stepsBy(filtered.events).ran.map((n) => n.split("] ")[1])).toEqual(["RUN echo 1 > /1"]);
    expect(stepsBy(filtered.events).cached).toHaveLength(2);
  });

  test("--label adds labels over the Dockerfile's; RUN heredocs run as BuildKit passes them", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        "LABEL a=from-dockerfile b=kept",
        "RUN <<EOF",
        "echo plain heredoc > /plain",
        "EOF",
        "RUN <<EOF",
        "#!/bin/sh",
        'echo "script $0" > /script',
        "EOF",
        "RUN cat <<A > /a && cat <<B > /b",
        "first",
        "A",
        "second",
        "B",
        "",
      ].join("\n"),
    });
    const root = freshRoot();
    const r = await build(ctx, root, ["-t", "labels:1", "--label", "a=from-cli", "--label", "c=3", "-o", "type=image", "-o", "type=local,dest=out"]);
    expect(r.code).toBe(0);
    const cfg = (await inspect(ctx, root, "labels:1")).config.config;
    expect(cfg["Labels"]).toEqual({ a: "from-cli", b: "kept", c: "3" });
    expect(readFileSync(join(ctx, "out/plain"), "utf8")).toBe("plain heredoc\n");
    expect(readFileSync(join(ctx, "out/script"), "utf8")).toBe("script /dev/pipes/EOF\n");
    expect(readFileSync(join(ctx, "out/a"), "utf8")).toBe("first\n");
    expect(readFileSync(join(ctx, "out/b"), "utf8")).toBe("second\n");
  });

  test("--network none applies to every RUN that does not choose", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN ls /sys/class/net > /ifaces\nRUN --network=host ls /sys/class/net > /host-ifaces\n` });
    const r = await build(ctx, freshRoot(), ["--network", "none", "-o", "type=local,dest=out"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(ctx, "out/ifaces"), "utf8").trim()).toBe("lo");
    expect(readFileSync(join(ctx, "out/host-ifaces"), "utf8").trim().split("\n").length).toBeGreaterThan(1);
  });

  test("--runtime selects another OCI runtime binary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsb-rt-"));
    const log = join(dir, "calls");
    const wrapper = join(dir, "my-runtime");
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${log}\nexec runc "$@"\n`);
    chmodSync(wrapper, 0o755);
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo via wrapper\n` });
    const r = await build(ctx, freshRoot(), ["--runtime", wrapper]);
    expect(r.code).toBe(0);
    expect(readFileSync(log, "utf8")).toMatch(/\brun\b.*--bundle/);
  });

  test("--target builds only the stages the target needs", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base} AS broken\nRUN exit 1\nFROM ${fixture.base} AS wanted\nRUN echo ok\nFROM broken\n` });
    const r = await build(ctx, freshRoot(), ["--target", "wanted"]);
    expect(r.code).toBe(0);
    expect(stepsBy(r.events).ran.map((n) => n.split("] ")[1])).toEqual(["RUN echo ok"]);
  });

  test("COPY --from keeps the source's owners; files from the context become root's (BuildKit testCopyChownExistingDir)", async () => {
    const ctx = makeContext({
      Dockerfile: `FROM ${fixture.base} AS src\nRUN echo x > /owned && chown 1000:1000 /owned\nFROM ${fixture.base}\nCOPY --from=src /owned /owned\nCOPY ctx.txt /ctx.txt\nRUN stat -c '%u:%g' /owned /ctx.txt > /owners\n`,
      "ctx.txt": "c\n",
    });
    const r = await build(ctx, freshRoot(), ["-o", "type=local,dest=out"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(ctx, "out/owners"), "utf8")).toBe("1000:1000\n0:0\n");
  });

  test("COPY --from of a plain file (read from its layer, unmounted) makes the same layer as a pattern source (mounted view)", async () => {
    const stage = `FROM ${fixture.base} AS src\nRUN mkdir -p /d && echo x > /d/owned && chown 1000:1001 /d/owned && chmod 640 /d/owned\nFROM ${fixture.base}\n`;
    const diffIds: string[] = [];
    for (const source of ["/d/owned", "/d/owne[d]"]) {
      const ctx = makeContext({ Dockerfile: `${stage}COPY --from=src ${source} /copied\n` });
      const root = freshRoot();
      const r = await runTsbuild(["build", "--progress=rawjson", "-t", "same:1", "."], { cwd: ctx, env: { TSBUILD_ROOT: root, SOURCE_DATE_EPOCH: "0" } });
      expect(r.code).toBe(0);
      const image = JSON.parse((await runTsbuild(["inspect", "same:1"], { cwd: ctx, env: { TSBUILD_ROOT: root } })).stdout) as { config: { rootfs: { diff_ids: string[] } } };
      diffIds.push(image.config.rootfs.diff_ids.at(-1)!);
    }
    expect(diffIds[0]).toMatch(/^sha256:/);
    expect(diffIds[1]).toBe(diffIds[0]);
  });

  test("COPY into a new path (written without a mount) makes the layer a mounted COPY makes: copied-up parents keep their metadata", async () => {
    // --chown=0:0 takes the unmounted path; --chown=root (a name, read from the image) the mounted one.
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base} AS prep`,
        "RUN mkdir -p /opt/deep/dir && chown 5:6 /opt/deep && chmod 750 /opt/deep && touch -d '2001-09-09 01:46:40' /opt/deep/dir /opt/deep /opt",
        "FROM prep AS unmounted",
        "COPY --chown=0:0 f.txt /opt/deep/dir/new.txt",
        "FROM prep AS mounted",
        "COPY --chown=root f.txt /opt/deep/dir/new.txt",
        "",
      ].join("\n"),
      "f.txt": "content\n",
    });
    const root = freshRoot();
    const listing = async (target: string): Promise<string[]> => {
      const r = await build(ctx, root, ["--target", target, "-t", `cp:${target}`]);
      expect(r.code).toBe(0);
      const manifest = JSON.parse((await runTsbuild(["inspect", `cp:${target}`], { cwd: ctx, env: { TSBUILD_ROOT: root } })).stdout) as { manifest: { layers: { digest: string }[] } };
      const blob = join(root, "blobs", "sha256", manifest.manifest.layers.at(-1)!.digest.slice("sha256:".length));
      // mode owner size date time name; the new file's directory gets the time of the copy, in both.
      return execFileSync("tar", ["-tvzf", blob, "--numeric-owner", "--full-time"], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/))
        .map((f) => (f[5] === "opt/deep/dir/" ? [f[0], f[1], f[2], f[5]] : [f[0], f[1], f[2], f[3], f[4], f[5]]).join(" "));
    };
    const unmounted = await listing("unmounted");
    expect(unmounted).toEqual(["drwxr-xr-x 0/0 0 2001-09-09 01:46:40 opt/", "drwxr-x--- 5/6 0 2001-09-09 01:46:40 opt/deep/", "drwxr-xr-x 0/0 0 opt/deep/dir/", expect.stringMatching(/^-rw-r--r-- 0\/0 8 \S+ \S+ opt\/deep\/dir\/new.txt$/)]);
    expect((await listing("mounted")).map((l) => l.replace(/ \S+ \S+ (opt\/deep\/dir\/new.txt)$/, " $1"))).toEqual(unmounted.map((l) => l.replace(/ \S+ \S+ (opt\/deep\/dir\/new.txt)$/, " $1")));
  });

  test("--output type=docker (read by skopeo) and type=tar (the filesystem); file outputs alone store no image, as buildx", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo out > /made-here\n` });
    const root = freshRoot();
    const r = await build(ctx, root, ["-t", "outs:1", "-o", "type=docker,dest=d.tar", "-o", "type=tar,dest=fs.tar"]);
    expect(r.code).toBe(0);
    // -t only names what the files hold: without type=image (or --push) nothing is stored under it.
    expect(r.stderr).not.toContain("naming to");
    const images = await runTsbuild(["images", "-q", "outs"], { cwd: ctx, env: { TSBUILD_ROOT: root } });
    expect(images.code).toBe(0);
    expect(images.stdout).toBe("");
    const archiveManifest = JSON.parse(execFileSync("tar", ["-xOf", join(ctx, "d.tar"), "manifest.json"], { encoding: "utf8" }));
    expect(archiveManifest[0].RepoTags).toEqual(["outs:1"]);
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${join(ctx, "d.tar")}`], { encoding: "utf8" }));
    expect(inspected.Layers).toHaveLength(2);
    const listing = execFileSync("tar", ["-tf", join(ctx, "fs.tar")], { encoding: "utf8" }).split("\n");
    expect(listing).toContain("made-here");
    expect(listing).toContain("bin/busybox");
  });

  test("-o type=oci|docker without -t writes the image unnamed, as BuildKit's exporters do", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN echo unnamed > /made\n` });
    const r = await build(ctx, freshRoot(), ["-o", "type=oci,dest=o.tar", "-o", "type=docker,dest=d.tar"]);
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(execFileSync("tar", ["-xOf", join(ctx, "o.tar"), "index.json"], { encoding: "utf8" }));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations).toBeUndefined();
    expect(JSON.parse(execFileSync("tar", ["-xOf", join(ctx, "d.tar"), "manifest.json"], { encoding: "utf8" }))[0].RepoTags ?? []).toEqual([]);
    // Both are whole images a real client reads: two layers each.
    for (const ref of [`oci-archive:${join(ctx, "o.tar")}`, `docker-archive:${join(ctx, "d.tar")}`]) {
      expect(JSON.parse(execFileSync("skopeo", ["inspect", ref], { encoding: "utf8" })).Layers).toHaveLength(2);
    }
  });

  test("PATH - takes a context archive (gzip, with its .dockerignore and -f inside it) or a Dockerfile from standard input, as docker build -", async () => {
    const ctx = makeContext({
      "sub/Containerfile": `FROM ${fixture.base}\nCOPY . /ctx/\nRUN ls -A /ctx | sort | tr '\\n' ' ' > /listing\n`,
      "kept.txt": "k\n",
      "secret.log": "ignored\n",
      ".dockerignore": "*.log\n",
    });
    const archive = join(mkdtempSync(join(tmpdir(), "tsb-stdin-")), "ctx.tgz");
    execFileSync("tar", ["-czf", archive, "-C", ctx, "."]);
    const root = freshRoot();
    const fromStdin = async (args: string[], input: Buffer | string) => {
      const child = spawn(TSBUILD_BIN, args, { cwd: tmpdir(), env: { ...process.env, TSBUILD_ROOT: root }, stdio: ["pipe", "pipe", "pipe"] });
      child.stdin.end(input);
      return collect(child);
    };
    const r = await fromStdin(["build", "--progress=rawjson", "-f", "sub/Containerfile", "-o", "type=local,dest=" + join(ctx, "out"), "-"], readFileSync(archive));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ctx, "out/listing"), "utf8")).toBe(".dockerignore kept.txt sub ");
    // The temporary context is gone afterwards.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("tsbuild-stdin-"))).toEqual([]);

    // A Dockerfile on standard input: an empty context, so a COPY finds nothing.
    const plain = await fromStdin(["build", "--progress=rawjson", "-t", "stdin:1", "-o", "type=image", "-"], `FROM ${fixture.base}\nLABEL from=stdin\n`);
    expect(plain.code, plain.stderr).toBe(0);
    const copy = await fromStdin(["build", "--progress=plain", "-"], `FROM ${fixture.base}\nCOPY kept.txt /\n`);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain('"/kept.txt": not found');
    const both = await fromStdin(["build", "-f", "-", "-"], "");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("can't use stdin for both build context and dockerfile");
  });

  test("-o type=local recreates device nodes and FIFOs instead of reading them on the host", async () => {
    // Opening a RUN-made /dev/zero-like node on the host read forever (Node's cp copies devices as files).
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN mknod /zero c 1 5 && mkfifo /fifo && echo kept > /file && chown 12:34 /file\n` });
    const r = await build(ctx, freshRoot(), ["-o", "type=local,dest=out"]);
    expect(r.code, r.stderr).toBe(0);
    const zero = lstatSync(join(ctx, "out/zero"));
    expect(zero.isCharacterDevice()).toBe(true);
    expect([Math.floor(zero.rdev / 256), zero.rdev % 256]).toEqual([1, 5]);
    expect(lstatSync(join(ctx, "out/fifo")).isFIFO()).toBe(true);
    const file = lstatSync(join(ctx, "out/file"));
    expect([file.uid, file.gid]).toEqual([12, 34]);
    expect(readFileSync(join(ctx, "out/file"), "utf8")).toBe("kept\n");
  }, 60_000);

  test("a COPY source that does not exist is an error naming the path and the line", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nCOPY missing.txt /x\n`, "present.txt": "" });
    const r = await build(ctx, freshRoot());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Dockerfile:2:1");
    expect(r.stderr).toContain("missing.txt");
    expect(r.stderr).toContain(">>> COPY missing.txt /x");
  });

  test("--platform other than this machine's is rejected clearly", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\n` });
    const r = await build(ctx, freshRoot(), ["--platform", "linux/s390x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("building for linux/s390x is not supported yet");
  });
});
