/**
 * applyCopy against real files. Test names cite the BuildKit
 * frontend/dockerfile test (dockerfile_test.go, dockerfile_copy_test.go,
 * dockerfile_parents_test.go) or Dockerfile reference rule they mirror.
 */
import { execFileSync } from "node:child_process";
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyCopy, type CopyOptions } from "../../../src/copy/apply.js";
import { IgnoreMatcher } from "../../../src/context/dockerignore.js";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { describeTree, populate, scratch, type Scratch } from "./helpers.js";

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.cleanup();
});

/** COPY from the build context into s.dest, WORKDIR / unless given. */
function copy(sources: string[], dest: string, extra: Partial<CopyOptions> = {}): ReturnType<typeof applyCopy> {
  return applyCopy({ root: s.ctx, sources, destRoot: s.dest, dest, workdir: "/", followTopLevelSymlinks: true, ...extra });
}

async function failure(p: Promise<unknown>): Promise<BuildError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildError);
  return err as BuildError;
}

const read = (rel: string): Promise<string> => readFile(join(s.dest, rel), "utf8");

describe("sources and destinations", () => {
  it("single file to a file path keeps mode and mtime, owner 0:0 (context files reach BuildKit as 0:0)", async () => {
    await populate(s.ctx, { foo: { content: "foo-contents", mode: 0o640, uid: 1234, gid: 4321, mtime: 1_600_000_000 } });
    const r = await copy(["foo"], "/bar");
    expect(r).toMatchObject({ files: 1, bytes: 12 });
    const st = await stat(join(s.dest, "bar"));
    expect(await read("bar")).toBe("foo-contents");
    expect(st.mode & 0o7777).toBe(0o640);
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(Math.round(st.mtimeMs / 1000)).toBe(1_600_000_000);
  });

  it("file to a destination ending in / goes inside it, creating it 0755 (testPreserveDestDirSlash)", async () => {
    await populate(s.ctx, { testfile: "contents0" });
    await copy(["testfile"], "/sample/");
    expect(await describeTree(s.dest)).toEqual({ sample: "d 0755 0:0", "sample/testfile": "f 0644 0:0 contents0" });
  });

  it("file to an existing directory without a slash goes inside it", async () => {
    await populate(s.ctx, { foo: "x" });
    await mkdir(join(s.dest, "existing"));
    await copy(["foo"], "/existing");
    expect(await read("existing/foo")).toBe("x");
  });

  it("a directory source copies its contents, not itself; dir/ and dir/. alike (testCopyWildcards subdest4-6)", async () => {
    await populate(s.ctx, { "sub/dir1/dir2/foo": "foo-contents" });
    await copy(["sub/dir1/"], "subdest4");
    await copy(["sub/dir1/."], "subdest5");
    await copy(["sub/dir1"], "subdest6");
    for (const d of ["subdest4", "subdest5", "subdest6"]) expect(await read(`${d}/dir2/foo`)).toBe("foo-contents");
    await expect(lstat(join(s.dest, "subdest6/dir1"))).rejects.toThrow();
  });

  it("wildcards as in testCopyWildcards", async () => {
    await populate(s.ctx, { "foo.go": "foo-contents", "bar.go": "bar-contents", "sub/dir1/dir2/foo": "foo-contents" });
    await copy(["*.go"], "/gofiles/");
    await copy(["f*.go"], "foo2.go");
    await copy(["sub/*"], "/subdest/");
    await copy(["sub/*/dir2/foo"], "/subdest2/");
    await copy(["sub/*/dir2/foo"], "/subdest3/bar");
    await copy(["."], "all/");
    expect(await read("gofiles/foo.go")).toBe("foo-contents");
    expect(await read("gofiles/bar.go")).toBe("bar-contents");
    expect(await read("foo2.go")).toBe("foo-contents");
    expect(await read("subdest/dir2/foo")).toBe("foo-contents");
    expect(await read("subdest2/foo")).toBe("foo-contents");
    expect(await read("subdest3/bar")).toBe("foo-contents");
    expect(await read("all/foo.go")).toBe("foo-contents");
    expect(await read("all/sub/dir1/dir2/foo")).toBe("foo-contents");
  });

  it("a wildcard matching nothing is fine next to another source (testEmptyWildcard)", async () => {
    await populate(s.ctx, { foo: "contents0" });
    await copy(["foo", "nomatch*"], "/");
    expect(await read("foo")).toBe("contents0");
  });

  it("several sources need a destination ending in / (Dockerfile reference; Docker's message)", async () => {
    await populate(s.ctx, { a: "1", b: "2", "x1.txt": "3", "x2.txt": "4" });
    const e1 = await failure(copy(["a", "b"], "/dest"));
    expect(e1.code).toBe("DF_ARGS");
    expect(e1.message).toBe("When using COPY with more than one source file, the destination must be a directory and end with a /");
    const e2 = await failure(copy(["x*.txt"], "/dest"));
    expect(e2.message).toContain("more than one source file");
    const e3 = await failure(copy(["a"], "/dest", { inline: [{ name: "h", content: "" }] }));
    expect(e3.code).toBe("DF_ARGS");
    expect(await describeTree(s.dest)).toEqual({});
    await copy(["a", "b"], "/dest/");
    expect(await read("dest/b")).toBe("2");
    // An existing directory is unambiguous too.
    await copy(["x*.txt"], "/dest");
    expect(await read("dest/x2.txt")).toBe("4");
  });

  it("a relative destination is relative to WORKDIR; an empty one is WORKDIR (testEmptyDestDir, testCopyLinkDotDestDir)", async () => {
    await populate(s.ctx, { testfile: "contents0" });
    await copy(["testfile"], ".", { workdir: "/var/www" });
    await copy(["testfile"], "", { workdir: "/srv" });
    await copy(["testfile"], "sub/renamed", { workdir: "/var/www" });
    expect(await read("var/www/testfile")).toBe("contents0");
    expect(await read("srv/testfile")).toBe("contents0");
    expect(await read("var/www/sub/renamed")).toBe("contents0");
  });

  it("sources cannot escape the root: ../x is x", async () => {
    await populate(s.outside, { "secret.txt": "host secret" });
    await populate(s.ctx, { "secret.txt": "context file" });
    await copy(["../secret.txt", "../../a/../../secret.txt"], "/out/");
    expect(await read("out/secret.txt")).toBe("context file");
    const err = await failure(copy(["../outside/secret.txt"], "/x"));
    expect(err.code).toBe("COPY_SOURCE_NOT_FOUND");
    expect(err.message).toBe('"/outside/secret.txt": not found');
  });

  it("a missing source fails naming it; with .dockerignore the hint says so", async () => {
    const err = await failure(copy(["missing.txt"], "/x"));
    expect(err.code).toBe("COPY_SOURCE_NOT_FOUND");
    expect(err.message).toBe('"/missing.txt": not found');
    expect(err.hint).toBe("check that the path exists in the build context");
    const err2 = await failure(copy(["missing.txt"], "/x", { ignore: new IgnoreMatcher(["*.log"]) }));
    expect(err2.hint).toContain(".dockerignore");
    const err3 = await failure(copy(["missing.txt"], "/x", { keepOwnership: true }));
    expect(err3.hint).toBe("check that the path exists in the source stage or image");
  });

  it("heredoc sources are 0644 files named after the delimiter, --chmod applies", async () => {
    await copy([], "/scripts/", { inline: [{ name: "run.sh", content: "#!/bin/sh\necho hi\n" }] });
    await copy([], "/bin2/", { inline: [{ name: "tool", content: "x" }], chmod: "755" });
    await copy([], "/renamed.txt", { inline: [{ name: "EOF", content: "y" }] });
    expect(await describeTree(s.dest)).toMatchObject({
      "scripts/run.sh": "f 0644 0:0 #!/bin/sh\necho hi\n",
      "bin2/tool": "f 0755 0:0 x",
      "renamed.txt": "f 0644 0:0 y",
    });
  });

  it("a directory never replaces a file, nor a file a directory (fsutil copyDirectoryOnly / ensureEmptyFileTarget)", async () => {
    await populate(s.ctx, { "d/x": "1", f: "2" });
    await populate(s.dest, { "file.txt": "old", "dir/keep": "k" });
    expect((await failure(copy(["d"], "/file.txt"))).code).toBe("COPY_DEST_CONFLICT");
    await populate(s.ctx, { "d2/dir": "not a dir" });
    expect((await failure(copy(["d2"], "/"))).message).toContain("cannot replace to directory /dir with file");
  });
});

describe("ownership and modes", () => {
  async function passwd(): Promise<void> {
    await populate(s.dest, {
      "etc/passwd": "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\napp:x:1001:1002::/home/app:/bin/sh\n",
      "etc/group": "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\napp:x:1002:\n",
    });
  }

  it("--chown by name uses the passwd entry and its primary group (testCopyChown: daemon -> daemon daemon)", async () => {
    await passwd();
    await populate(s.ctx, { foo: "foo-contents", "bar/sub": "" });
    await copy(["foo"], "/", { chown: "daemon" });
    await copy(["bar"], "/baz", { chown: "1000:nogroup" });
    await copy(["foo"], "/foobis", { chown: "app:daemon" });
    const t = await describeTree(s.dest);
    expect(t.foo).toBe("f 0644 1:1 foo-contents");
    expect(t["baz/sub"]).toBe("f 0644 1000:65534 ");
    expect(t.foobis).toBe("f 0644 1001:1 foo-contents");
  });

  it("--chown numeric alone sets gid = uid; created parents belong to the user (testCopyChownCreateDest)", async () => {
    await populate(s.ctx, { "tree/a/b": "x" });
    await copy(["tree"], "/deep/dest", { chown: "1000" });
    const t = await describeTree(s.dest);
    expect(t.deep).toBe("d 0755 1000:1000");
    expect(t["deep/dest"]).toBe("d 0755 1000:1000");
    expect(t["deep/dest/a"]).toMatch(/^d \d{4} 1000:1000$/);
    expect(t["deep/dest/a/b"]).toMatch(/ 1000:1000 x$/);
  });

  it("an unknown --chown name falls back to 0 with a warning, as BuildKit", async () => {
    await populate(s.ctx, { foo: "x" });
    const r = await copy(["foo"], "/foo", { chown: "nosuchuser" });
    expect(r.warnings.join("\n")).toContain("nosuchuser");
    expect((await describeTree(s.dest)).foo).toBe("f 0644 0:0 x");
  });

  it("--chmod octal applies to files, copied and created directories (testCopyChmod)", async () => {
    await populate(s.ctx, { foo: { content: "foo-contents", mode: 0o600 }, bar: { content: "bar-contents", mode: 0o700 } });
    await copy(["foo"], "/", { chmod: "0644" });
    await copy(["bar"], "/baz", { chmod: "777" });
    await copy(["foo"], "/foobis", { chmod: "0" });
    await copy(["foo"], "/parent/foo", { chmod: "777" });
    await copy(["foo"], "/parent/sub/foo", { chmod: "770" });
    const t = await describeTree(s.dest);
    expect(t.foo).toMatch(/^f 0644 /);
    expect(t.baz).toMatch(/^f 0777 /);
    expect(t.foobis).toMatch(/^f 0000 /);
    expect(t.parent).toBe("d 0777 0:0");
    expect(t["parent/sub"]).toBe("d 0770 0:0");
  });

  it("--chmod symbolic with X on a tree (testChmodNonOctal: go-w, a+X)", async () => {
    await populate(s.ctx, {
      "tree/file": { content: "f", mode: 0o666 },
      "tree/exe": { content: "e", mode: 0o744 },
      "tree/dir": { dir: true, mode: 0o124 },
    });
    await copy(["tree"], "/x/", { chmod: "a+X" });
    await copy(["tree"], "/y/", { chmod: "go-w" });
    const t = await describeTree(s.dest);
    expect(t["x/file"]).toMatch(/^f 0666 /);
    expect(t["x/exe"]).toMatch(/^f 0755 /);
    expect(t["x/dir"]).toBe("d 0135 0:0");
    expect(t["y/file"]).toMatch(/^f 0644 /);
    expect(t["y/dir"]).toBe("d 0104 0:0");
  });

  it("COPY --from keeps the source's owners; created dest dir is root's; existing dirs keep theirs (testCopyChownExistingDir)", async () => {
    const stage = join(s.base, "stage");
    await populate(stage, {
      file: { content: "", uid: 100, gid: 200 },
      dir: { dir: true, uid: 100, gid: 200 },
      "dir/subdir": { dir: true, uid: 101, gid: 201 },
      "dir/subdir/nestedfile": { content: "", uid: 102, gid: 202 },
    });
    await populate(s.dest, {
      existingdir: { dir: true, uid: 500, gid: 600 },
      "existingdir/existingsubdir": { dir: true, uid: 501, gid: 601 },
      "existingdir/existingfile": { content: "", uid: 501, gid: 601 },
    });
    const from = { root: stage, keepOwnership: true, followTopLevelSymlinks: true, destRoot: s.dest, workdir: "/" };
    await applyCopy({ ...from, sources: ["/file"], dest: "." });
    await applyCopy({ ...from, sources: ["/dir"], dest: "/dir" });
    await applyCopy({ ...from, sources: ["/dir/."], dest: "/existingdir" });
    const own = async (p: string): Promise<string> => {
      const st = await lstat(join(s.dest, p));
      return `${st.uid}:${st.gid}`;
    };
    expect(await own("file")).toBe("100:200");
    expect(await own("dir")).toBe("0:0");
    expect(await own("dir/subdir")).toBe("101:201");
    expect(await own("dir/subdir/nestedfile")).toBe("102:202");
    expect(await own("existingdir")).toBe("500:600");
    expect(await own("existingdir/existingsubdir")).toBe("501:601");
    expect(await own("existingdir/existingfile")).toBe("501:601");
    expect(await own("existingdir/subdir")).toBe("101:201");
    expect(await own("existingdir/subdir/nestedfile")).toBe("102:202");

    // With --chown everything new is chowned, existing entries are not.
    await applyCopy({ ...from, sources: ["/dir/."], dest: "/existingdir2", chown: "300:400" });
    expect(await own("existingdir2/subdir/nestedfile")).toBe("300:400");
  });
});

describe("symlinks", () => {
  it("a top-level source symlink is followed; symlinks inside directories stay links (testCopySymlinks)", async () => {
    await populate(s.ctx, {
      bar: "bar-contents",
      foo: { link: "bar" },
      "sub/lfile": "lfile-contents",
      "sub/l0": { link: "subfile" },
      "sub/subfile": "subfile-contents",
      "sub/l1": { link: "second" },
      "sub/second": { link: "baz" },
      "sub/baz": "baz-contents",
    });
    await copy(["foo"], "/");
    await copy(["sub/l*"], "alllinks/");
    await copy(["sub"], "/whole/");
    expect(await read("foo")).toBe("bar-contents");
    expect((await lstat(join(s.dest, "foo"))).isFile()).toBe(true);
    expect(await read("alllinks/l0")).toBe("subfile-contents");
    expect(await read("alllinks/lfile")).toBe("lfile-contents");
    expect(await read("alllinks/l1")).toBe("baz-contents");
    expect(await readlink(join(s.dest, "whole/l0"))).toBe("subfile");
  });

  it("a symlink inside the context is followed within the context root (testCopyThroughSymlinkContext, ...MultiStage)", async () => {
    await populate(s.ctx, { link: { link: "sub" }, "sub/foo": "contents", abs: { link: "/sub" }, up: { link: "../../../sub" } });
    await copy(["link/foo"], "/a");
    await copy(["abs/foo"], "/b");
    await copy(["up/foo"], "/c");
    expect(await read("a")).toBe("contents");
    expect(await read("b")).toBe("contents");
    expect(await read("c")).toBe("contents");
  });

  it("without followTopLevelSymlinks a top-level symlink is copied as a symlink", async () => {
    await populate(s.ctx, { bar: "b", foo: { link: "bar" } });
    await copy(["foo"], "/foo", { followTopLevelSymlinks: false });
    expect(await readlink(join(s.dest, "foo"))).toBe("bar");
  });

  it("writing through destination symlinks stays inside destRoot, like a chroot", async () => {
    await populate(s.ctx, { x: "payload", "tree/passwd": "payload2", "tree/a": "replaced" });
    const hostEtc = join(s.outside, "etc");
    await populate(s.outside, { "etc/passwd": "host passwd" });
    await populate(s.dest, {
      app: { link: hostEtc }, // absolute: must mean <destRoot><hostEtc>
      rel: { link: "../../../../../../outside/etc" },
      "etc2/passwd": { link: join(hostEtc, "passwd") },
      "existing/a": { link: join(hostEtc, "passwd") },
    });
    await copy(["x"], "/app/");
    await copy(["x"], "/rel/");
    await copy(["tree"], "/app2/", {});
    await copy(["x"], "/etc2/passwd");
    await copy(["tree"], "/existing/");
    expect(await readFile(join(hostEtc, "passwd"), "utf8")).toBe("host passwd");
    expect((await lstat(join(hostEtc, "x")).catch(() => undefined)) === undefined).toBe(true);
    expect(await readFile(join(s.dest, hostEtc, "x"), "utf8")).toBe("payload");
    expect(await readFile(join(s.dest, "outside/etc/x"), "utf8")).toBe("payload");
    expect(await readFile(join(s.dest, hostEtc, "passwd"), "utf8")).toBe("payload");
    // A symlink in the way of a copied file is replaced, never written through.
    expect((await lstat(join(s.dest, "existing/a"))).isFile()).toBe(true);
    expect(await readFile(join(s.dest, "existing/a"), "utf8")).toBe("replaced");
  });
});

describe("filters", () => {
  it("--exclude drops matches inside copied directories and wildcard matches (reference: COPY --exclude=*.txt hom* /mydir/)", async () => {
    await populate(s.ctx, {
      "home.txt": "t",
      "home.md": "m",
      homer: "h",
      "src/a.txt": "a",
      "src/b.go": "b",
      "src/setup/x": "x",
      "src/keep/y": "y",
    });
    await copy(["hom*"], "/mydir/", { excludes: ["*.txt"] });
    await copy(["src"], "/src/", { excludes: ["*.txt", "setup/**"] });
    const t = await describeTree(s.dest);
    expect(Object.keys(t).sort()).toEqual(["mydir", "mydir/home.md", "mydir/homer", "src", "src/b.go", "src/keep", "src/keep/y", "src/setup"]);
  });

  it(".dockerignore'd files are invisible; an exception re-includes; a COPY of only ignored files is not found", async () => {
    await populate(s.ctx, { "a.log": "l", keep: "k", "docs/README.md": "r", "docs/private.md": "p", "secret/key": "s" });
    const ignore = new IgnoreMatcher(["*.log", "docs", "!docs/README.md", "secret"]);
    await copy(["."], "/all/", { ignore });
    expect(Object.keys(await describeTree(join(s.dest, "all"))).sort()).toEqual(["docs", "docs/README.md", "keep"]);
    const err = await failure(copy(["a.log"], "/x", { ignore }));
    expect(err.code).toBe("COPY_SOURCE_NOT_FOUND");
    expect(err.hint).toContain(".dockerignore");
    expect((await failure(copy(["secret/key"], "/x", { ignore }))).code).toBe("COPY_SOURCE_NOT_FOUND");
    await copy(["docs"], "/docs/", { ignore });
    expect(Object.keys(await describeTree(join(s.dest, "docs")))).toEqual(["README.md"]);
    // A wildcard matching only ignored files matches nothing (which is allowed).
    await copy(["*.log"], "/logs/", { ignore });
  });
});

describe("--parents (dockerfile_parents_test.go)", () => {
  it("testCopyParents", async () => {
    await populate(s.ctx, { "foo1/foo2/bar": "testing", "foo1/foo2/baz": "testing2" });
    await copy(["foo1/foo2/bar"], "/", { parents: true });
    await copy(["foo1/foo2/ba*"], ".", { parents: true, workdir: "/test" });
    expect(await read("foo1/foo2/bar")).toBe("testing");
    expect(await read("test/foo1/foo2/bar")).toBe("testing");
    expect(await read("test/foo1/foo2/baz")).toBe("testing2");
  });

  it("testCopyRelativeParents: pivots, wildcards, ** and several inputs", async () => {
    const stage = join(s.base, "stage");
    await populate(stage, {
      "test/a/b/c/d/e": { dir: true },
      "test/a/b2/c/d/e": { dir: true },
      "test/a/b/c2/d/e": { dir: true },
      "test/a/b/c2/d/e2": { dir: true },
      "test/a/b/c/d/foo": "",
      "test/a/b/c/d/e/bay": "",
      "test/a/b2/c/d/e/bar": "",
      "test/a/b/c2/d/e/baz": "",
      "test/a/b/c2/d/e2/baz": "",
    });
    const run = async (name: string, sources: string[]): Promise<Record<string, string>> => {
      const dest = join(s.base, name);
      await mkdir(dest);
      await applyCopy({ root: stage, sources, destRoot: dest, dest: "/out/", workdir: "/", parents: true, keepOwnership: true, followTopLevelSymlinks: true });
      return describeTree(join(dest, "out"));
    };
    const middle = await run("middle", ["/test/a/b/./c/d"]);
    expect(middle).toHaveProperty("c/d/e");
    expect(middle).toHaveProperty("c/d/foo");
    expect(middle).not.toHaveProperty("a");
    expect(middle).not.toHaveProperty("e");
    const end = await run("end", ["/test/a/b/c/d/."]);
    expect(end).toHaveProperty("test/a/b/c/d/e");
    expect(end).toHaveProperty("test/a/b/c/d/foo");
    const start = await run("start", ["./test/a/b/c/d"]);
    expect(start).toHaveProperty("test/a/b/c/d/foo");
    const double = await run("double", ["/test/a/./b/./c"]);
    expect(double).toHaveProperty("b/c/d/e");
    expect(double).toHaveProperty("b/c/d/foo");
    const wildcard = await run("wildcard", ["/test/a/./*/c"]);
    expect(wildcard).toHaveProperty("b/c/d/e");
    expect(wildcard).toHaveProperty("b2/c/d/e/bar");
    const dw = await run("doublewildcard", ["/test/a/b*/./c/**/e"]);
    expect(dw).toHaveProperty("c/d/e");
    expect(dw).toHaveProperty("c/d/e/bay");
    expect(dw).toHaveProperty("c/d/e/bar");
    const di = await run("doubleinputs", ["/test/a/b/c*/./d/**/baz", "/test/a/b*/./c/**/bar"]);
    expect(di).toHaveProperty("d/e/baz");
    expect(di).not.toHaveProperty("d/e/bay");
    expect(di).toHaveProperty("d/e2/baz");
    expect(di).toHaveProperty("c/d/e/bar");
  });

  it("a missing path without wildcards is not found", async () => {
    expect((await failure(copy(["nope/./x"], "/out/", { parents: true }))).code).toBe("COPY_SOURCE_NOT_FOUND");
  });
});

describe("cancellation", () => {
  it("stops with ABORTED when the signal fires", async () => {
    await populate(s.ctx, Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`d/f${i}`, "x"])));
    const before = new AbortController();
    before.abort();
    expect((await failure(copy(["d"], "/x/", { signal: before.signal }))).code).toBe("ABORTED");
    const during = new AbortController();
    const p = copy(["d"], "/y/", { signal: during.signal });
    during.abort();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    // Either it finished before noticing, or it reports the cancellation.
    if (err !== undefined) expect((err as BuildError).code).toBe("ABORTED");
  });
});

describe("special files", () => {
  it("a socket becomes an empty regular file (testCopySocket)", async () => {
    const sock = join(s.ctx, "socket.sock");
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      await copy(["."], "/");
      const st = await lstat(join(s.dest, "socket.sock"));
      expect(st.isFile()).toBe(true);
      expect(st.size).toBe(0);
    } finally {
      server.close();
    }
  });

  it("FIFOs are recreated, never read; hard links within one copy stay linked", async () => {
    execFileSync("mkfifo", [join(s.ctx, "pipe")]);
    await writeFile(join(s.ctx, "h1"), "same");
    execFileSync("ln", [join(s.ctx, "h1"), join(s.ctx, "h2")]);
    await copy(["."], "/d/");
    expect((await lstat(join(s.dest, "d/pipe"))).isFIFO()).toBe(true);
    const [a, b] = await Promise.all([stat(join(s.dest, "d/h1")), stat(join(s.dest, "d/h2"))]);
    expect(a.ino).toBe(b.ino);
  });

  it("keeps extended attributes (fsutil copyXAttrs)", async () => {
    await writeFile(join(s.ctx, "f"), "x");
    const { setAttributeSync, getAttributeSync } = await import("@napi-rs/xattr");
    try {
      setAttributeSync(join(s.ctx, "f"), "user.tsbuild", "v");
    } catch {
      return; // no user xattrs on this file system
    }
    await copy(["f"], "/f");
    expect(getAttributeSync(join(s.dest, "f"), "user.tsbuild")?.toString()).toBe("v");
  });

  it("does not follow a dangling destination symlink out of the root", async () => {
    await populate(s.ctx, { x: "p" });
    await symlink("/nonexistent/deep/file", join(s.dest, "dangling"));
    await copy(["x"], "/dangling");
    expect(await readFile(join(s.dest, "nonexistent/deep/file"), "utf8")).toBe("p");
  });
});
