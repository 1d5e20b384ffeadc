/**
 * ADD: local archives (made with the system tar) and URLs (served by a local
 * node:http server). Mirrors BuildKit's frontend/dockerfile/dockerfile_add_test.go.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyCopy, type CopyOptions } from "../../../src/copy/apply.js";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { encodeHeader, END_OF_ARCHIVE } from "../../../src/oci/layer/tar-format.js";
import { describeTree, populate, scratch, type Scratch } from "./helpers.js";

/** A regular-file tar header, fields overridden per test. */
const HEADER = { name: "", mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, typeflag: "0", linkname: "", devmajor: 0, devminor: 0 };

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.cleanup();
});

function add(sources: string[], dest: string, extra: Partial<CopyOptions> = {}): ReturnType<typeof applyCopy> {
  return applyCopy({ root: s.ctx, sources, destRoot: s.dest, dest, workdir: "/", followTopLevelSymlinks: true, add: {}, ...extra });
}

async function failure(p: Promise<unknown>): Promise<BuildError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildError);
  return err as BuildError;
}

/** Makes `<ctx>/<name>` from a small tree with the system tar (owner 123:456). */
async function makeArchive(name: string, flag: string[]): Promise<void> {
  const src = join(s.base, "archive-src");
  await populate(src, {
    "foo": { content: "content0", mode: 0o640, mtime: 1_500_000_000 },
    "dir/sub": { content: "nested", mode: 0o755 },
    "dir/link": { link: "sub" },
  });
  execFileSync("tar", [...flag, "-cf", join(s.ctx, name), "--owner=123", "--group=456", "--numeric-owner", "-C", src, "foo", "dir"]);
}

describe("ADD of local archives (testDockerfileAddArchive)", () => {
  it.each([
    ["t.tar", []],
    ["t.tar.gz", ["-z"]],
    ["t.tar.bz2", ["-j"]],
    ["t.tar.xz", ["-J"]],
    ["t.tar.zst", ["--zstd"]],
  ])("%s is unpacked into the destination, keeping the archive's owners and modes", async (name, flag) => {
    await makeArchive(name, flag);
    const r = await add([name], "/");
    const t = await describeTree(s.dest);
    expect(t.foo).toBe("f 0640 123:456 content0");
    expect(t["dir/sub"]).toBe("f 0755 123:456 nested");
    expect(t["dir/link"]).toBe("l -> sub");
    expect(Math.round((await stat(join(s.dest, "foo"))).mtimeMs / 1000)).toBe(1_500_000_000);
    expect(r.files).toBe(3);
  });

  it("detects archives by content, not name: a non-archive .tar.gz is copied as is", async () => {
    await writeFile(join(s.ctx, "fake.tar.gz"), "just text");
    await writeFile(join(s.ctx, "plain.txt"), "hello");
    await add(["fake.tar.gz"], "/fake.tar.gz");
    await add(["plain.txt"], "/x/");
    expect(await readFile(join(s.dest, "fake.tar.gz"), "utf8")).toBe("just text");
    expect(await readFile(join(s.dest, "x/plain.txt"), "utf8")).toBe("hello");
  });

  it("--unpack=false copies the archive; COPY never unpacks", async () => {
    await makeArchive("t.tar.gz", ["-z"]);
    const bytes = await readFile(join(s.ctx, "t.tar.gz"));
    await add(["t.tar.gz"], "/", { add: { unpack: false } });
    expect((await readFile(join(s.dest, "t.tar.gz"))).equals(bytes)).toBe(true);
    await expect(lstat(join(s.dest, "foo"))).rejects.toThrow();
    await applyCopy({ root: s.ctx, sources: ["t.tar.gz"], destRoot: s.dest, dest: "/copied/", workdir: "/" });
    expect((await readFile(join(s.dest, "copied/t.tar.gz"))).equals(bytes)).toBe(true);
  });

  it("--chown overrides the archive's owners, including the created destination (testDockerfileAddChownArchive)", async () => {
    await makeArchive("t.tar", []);
    await add(["t.tar"], "/out/", { chown: "100:200" });
    const t = await describeTree(s.dest);
    expect(t.out).toBe("d 0755 100:200");
    expect(t["out/foo"]).toBe("f 0640 100:200 content0");
  });

  it("several archives unpack into one destination without a trailing slash (testDockerfileAddArchiveWildcard)", async () => {
    const tarOf = (name: string, content: string): Buffer => {
      const data = Buffer.from(content);
      const header = encodeHeader({ ...HEADER, name, size: data.length });
      const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
      return Buffer.concat([header, data, pad, END_OF_ARCHIVE]);
    };
    await writeFile(join(s.ctx, "t.tar"), tarOf("foo", "content0"));
    await writeFile(join(s.ctx, "b.tar"), tarOf("bar", "content1"));
    await add(["*.tar"], "/dest");
    expect(await readFile(join(s.dest, "dest/foo"), "utf8")).toBe("content0");
    expect(await readFile(join(s.dest, "dest/bar"), "utf8")).toBe("content1");
  });

  it("entries cannot escape the destination: .. is refused, absolute links resolve inside it", async () => {
    const evil = Buffer.concat([
      encodeHeader({ ...HEADER, name: "../evil" }),
      END_OF_ARCHIVE,
    ]);
    await writeFile(join(s.ctx, "evil.tar"), evil);
    const err = await failure(add(["evil.tar"], "/app/"));
    expect(err.code).toBe("ADD_ARCHIVE_INVALID");
    expect(err.message).toContain("outside extraction root");

    const hostFile = join(s.outside, "passwd");
    await writeFile(hostFile, "host");
    const data = Buffer.from("pwned");
    const sneaky = Buffer.concat([
      encodeHeader({ ...HEADER, name: "link", mode: 0o777, typeflag: "2", linkname: s.outside }),
      encodeHeader({ ...HEADER, name: "link/passwd", size: data.length }),
      data,
      Buffer.alloc(512 - data.length),
      END_OF_ARCHIVE,
    ]);
    await writeFile(join(s.ctx, "sneaky.tar"), sneaky);
    await add(["sneaky.tar"], "/app/");
    expect(await readFile(hostFile, "utf8")).toBe("host");
    expect(await readFile(join(s.dest, "app", s.outside, "passwd"), "utf8")).toBe("pwned");
  });

  it("a corrupt compressed archive fails", async () => {
    await makeArchive("t.tar.gz", ["-z"]);
    const bytes = await readFile(join(s.ctx, "t.tar.gz"));
    await writeFile(join(s.ctx, "t.tar.gz"), bytes.subarray(0, bytes.length - 20));
    expect((await failure(add(["t.tar.gz"], "/"))).code).toBe("ADD_ARCHIVE_INVALID");
  });
});

describe("ADD of URLs (testDockerfileADDFromURL, testAddChecksum, testAddURLChmod)", () => {
  let server: Server;
  let base: string;
  const modTime = new Date(Date.now() - 24 * 3600 * 1000);
  const archive: { bytes?: Buffer } = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/foo") {
        res.end("content1");
      } else if (req.url === "/") {
        res.setHeader("Last-Modified", modTime.toUTCString());
        res.end("content2");
      } else if (req.url === "/t.tar.gz" && archive.bytes) {
        res.end(archive.bytes);
      } else if (req.url === "/redirect") {
        res.statusCode = 302;
        res.setHeader("Location", "/foo");
        res.end();
      } else {
        res.statusCode = 404;
        res.end("not found");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it("saves the body under the URL's last path segment, mode 0600, mtime from Last-Modified", async () => {
    await add([`${base}/foo`], "/dest/");
    await add([`${base}/`], "/dest/");
    expect(await readFile(join(s.dest, "dest/foo"), "utf8")).toBe("content1");
    const unnamed = join(s.dest, "dest/__unnamed__");
    expect(await readFile(unnamed, "utf8")).toBe("content2");
    const st = await stat(unnamed);
    expect(st.mode & 0o7777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(Math.floor(modTime.getTime() / 1000));
  });

  it("follows redirects; fails on an error status", async () => {
    await add([`${base}/redirect`], "/r");
    expect(await readFile(join(s.dest, "r"), "utf8")).toBe("content1");
    const err = await failure(add([`${base}/missing`], "/m"));
    expect(err.code).toBe("ADD_DOWNLOAD_FAILED");
    expect(err.message).toContain("404");
  });

  it("--checksum: a match is copied, a mismatch fails before anything is written", async () => {
    const good = `sha256:${createHash("sha256").update("content1").digest("hex")}`;
    await add([`${base}/foo`], "/tmp/foo", { add: { checksum: good } });
    expect(await readFile(join(s.dest, "tmp/foo"), "utf8")).toBe("content1");
    const bad = `sha256:${createHash("sha256").update("other").digest("hex")}`;
    const err = await failure(add([`${base}/foo`], "/tmp/bar", { add: { checksum: bad } }));
    expect(err.code).toBe("DIGEST_MISMATCH");
    await expect(lstat(join(s.dest, "tmp/bar"))).rejects.toThrow();
    expect((await failure(add([`${base}/foo`], "/x", { add: { checksum: "md5:abc" } }))).code).toBe("DF_FLAG");
  });

  it("--chmod applies to downloaded files (testAddURLChmod)", async () => {
    await add([`${base}/foo`], "/tmp/foo1", { chmod: "644" });
    await add([`${base}/foo`], "/tmp/foo2", { chmod: "755" });
    await add([`${base}/foo`], "/tmp/foo3", { chmod: "0413" });
    const t = await describeTree(s.dest);
    expect([t["tmp/foo1"], t["tmp/foo2"], t["tmp/foo3"]].map((x) => x?.slice(0, 6))).toEqual(["f 0644", "f 0755", "f 0413"]);
  });

  it("a downloaded archive is not unpacked, unless --unpack=true (testDockerfileAddArchive)", async () => {
    await makeArchive("t.tar.gz", ["-z"]);
    archive.bytes = await readFile(join(s.ctx, "t.tar.gz"));
    await add([`${base}/t.tar.gz`], "/");
    expect((await readFile(join(s.dest, "t.tar.gz"))).equals(archive.bytes)).toBe(true);
    await add([`${base}/t.tar.gz`], "/newname.tar.gz");
    expect((await readFile(join(s.dest, "newname.tar.gz"))).equals(archive.bytes)).toBe(true);
    await add([`${base}/t.tar.gz`], "/dest/", { add: { unpack: true } });
    expect(await readFile(join(s.dest, "dest/foo"), "utf8")).toBe("content0");
  });

  it("COPY refuses URLs", async () => {
    const err = await failure(applyCopy({ root: s.ctx, sources: [`${base}/foo`], destRoot: s.dest, dest: "/", workdir: "/" }));
    expect(err.message).toBe("source can't be a URL for COPY");
  });
});
