import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile, readdir, chmod, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { getAttributeSync, listAttributesSync, setAttributeSync } from "@napi-rs/xattr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { encodeHeader, END_OF_ARCHIVE } from "../../../src/oci/layer/tar-format.js";
import { extractLayer } from "../../../src/snapshot/extract.js";
import { describeTree, tarOf, type TestMember } from "./helpers.js";

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "tsbuild-extract-"));
  root = join(base, "root");
  outside = join(base, "outside");
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, "secret"), "do not touch");
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Everything in `base` except the root: must not change when a layer is refused. */
async function outsideSnapshot(): Promise<string[]> {
  // Not readdir({recursive}): it follows symlinked directories.
  const out: string[] = [];
  async function visit(rel: string): Promise<void> {
    for (const name of await readdir(join(base, rel))) {
      const r = rel === "" ? name : `${rel}/${name}`;
      if (r === "root") continue;
      const st = await lstat(join(base, r));
      out.push(`${r} ${st.mode} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) await visit(r);
    }
  }
  await visit("");
  return out.sort();
}

async function expectUnsafe(members: TestMember[], pattern: RegExp): Promise<void> {
  const before = await outsideSnapshot();
  const passwd = await stat("/etc/passwd");
  const err = await extractLayer(Readable.from([await tarOf(members)]), root).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildError);
  expect((err as BuildError).code).toBe("LAYER_UNSAFE");
  expect((err as BuildError).message).toMatch(pattern);
  // Nothing was written outside the root.
  expect(await outsideSnapshot()).toEqual(before);
  expect(await readFile(join(outside, "secret"), "utf8")).toBe("do not touch");
  const passwdAfter = await stat("/etc/passwd");
  expect(passwdAfter.nlink).toBe(passwd.nlink);
  expect(passwdAfter.mtimeMs).toBe(passwd.mtimeMs);
}

describe("extractLayer refuses entries escaping the root", () => {
  it("refuses ../evil", async () => {
    await expectUnsafe([{ header: { name: "../evil", type: "file" }, content: "x" }], /"\.\.\/evil".*climbs out/);
    expect(existsSync(join(base, "evil"))).toBe(false);
  });

  it("refuses a .. in the middle of a path that climbs out", async () => {
    await expectUnsafe(
      [
        { header: { name: "a/", type: "directory" } },
        { header: { name: "a/../../outside/secret", type: "file" }, content: "pwned" },
      ],
      /a\/\.\.\/\.\.\/outside\/secret/,
    );
  });

  it("cleans a .. that stays inside the root, like Go's filepath.Clean", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "a/", type: "directory" } },
          { header: { name: "a/../b", type: "file" }, content: "b" },
        ]),
      ]),
      root,
    );
    expect(await readFile(join(root, "b"), "utf8")).toBe("b");
  });

  it("puts /abs/evil under the root, not at /abs", async () => {
    const top = `/tsbuild-abs-${randomBytes(4).toString("hex")}`;
    await extractLayer(Readable.from([await tarOf([{ header: { name: `${top}/evil`, type: "file" }, content: "x" }])]), root);
    expect(existsSync(top)).toBe(false);
    expect(await readFile(join(root, top.slice(1), "evil"), "utf8")).toBe("x");
  });

  it("refuses a write through a symlink to / (a -> /, then a/evil)", async () => {
    const name = `tsbuild-evil-${randomBytes(4).toString("hex")}`;
    await expectUnsafe(
      [
        { header: { name: "a", type: "symlink", linkname: "/" } },
        { header: { name: `a/${name}`, type: "file" }, content: "x" },
      ],
      /symlink "a" -> "\/".*outside/,
    );
    expect(existsSync(`/${name}`)).toBe(false);
  });

  it("refuses a write through a symlink to an absolute directory outside", async () => {
    await expectUnsafe(
      [
        { header: { name: "a", type: "symlink", linkname: outside } },
        { header: { name: "a/evil", type: "file" }, content: "x" },
      ],
      /a\/evil/,
    );
  });

  it("refuses a write through link -> ../../", async () => {
    await expectUnsafe(
      [
        { header: { name: "link", type: "symlink", linkname: "../../" } },
        { header: { name: "link/outside/evil", type: "file" }, content: "x" },
      ],
      /"link\/outside\/evil".*outside the layer/,
    );
  });

  it("keeps a bare link -> ../../ as a dangling symlink without following it", async () => {
    // containerd's semantics: the target is only ever resolved inside the
    // container; on the host we never follow it.
    await extractLayer(Readable.from([await tarOf([{ header: { name: "link", type: "symlink", linkname: "../../" } }])]), root);
    expect((await lstat(join(root, "link"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(root, "link"))).toBe("../../");
  });

  it("refuses a hard link to /etc/passwd", async () => {
    await expectUnsafe(
      [{ header: { name: "passwd", type: "link", linkname: "/etc/passwd" } }],
      /"passwd".*"\/etc\/passwd" is not an earlier member/,
    );
    expect(existsSync(join(root, "passwd"))).toBe(false);
  });

  it("refuses a hard link to ../outside/secret", async () => {
    await expectUnsafe([{ header: { name: "s", type: "link", linkname: "../outside/secret" } }], /hard link target/);
  });

  it("refuses a hard link whose target path goes through a symlink", async () => {
    await expectUnsafe(
      [
        { header: { name: "d/", type: "directory" } },
        { header: { name: "d/f", type: "file" }, content: "f" },
        { header: { name: "s", type: "symlink", linkname: "d" } },
        { header: { name: "h", type: "link", linkname: "s/f" } },
      ],
      /"h".*through symlink "s"/,
    );
  });

  it("refuses a symlink chain that ends outside (l1 -> l2 -> l3 -> outside)", async () => {
    await expectUnsafe(
      [
        { header: { name: "l3", type: "symlink", linkname: outside } },
        { header: { name: "dir/", type: "directory" } },
        { header: { name: "dir/l2", type: "symlink", linkname: "../l3" } },
        { header: { name: "l1", type: "symlink", linkname: "dir/l2" } },
        { header: { name: "l1/evil", type: "file" }, content: "x" },
      ],
      /"l1\/evil".*symlink "l3"/,
    );
  });

  it("refuses a symlink loop", async () => {
    await expectUnsafe(
      [
        { header: { name: "x", type: "symlink", linkname: "y" } },
        { header: { name: "y", type: "symlink", linkname: "x" } },
        { header: { name: "x/f", type: "file" }, content: "x" },
      ],
      /too many levels/,
    );
  });

  it("follows a symlink that stays inside the layer, textually", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "usr/lib/", type: "directory" } },
          { header: { name: "lib", type: "symlink", linkname: "usr/lib" } },
          { header: { name: "lib/libc.so", type: "file" }, content: "elf" },
        ]),
      ]),
      root,
    );
    expect(await readFile(join(root, "usr/lib/libc.so"), "utf8")).toBe("elf");
    expect((await lstat(join(root, "lib"))).isSymbolicLink()).toBe(true);
  });

  it("replaces a planted symlink instead of writing through it", async () => {
    await writeFile(join(outside, "target"), "original");
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "x", type: "symlink", linkname: join(outside, "target") } },
          { header: { name: "x", type: "file" }, content: "new" },
        ]),
      ]),
      root,
    );
    expect((await lstat(join(root, "x"))).isFile()).toBe(true);
    expect(await readFile(join(root, "x"), "utf8")).toBe("new");
    expect(await readFile(join(outside, "target"), "utf8")).toBe("original");
  });

  it("refuses unsupported entry types (GNU sparse)", async () => {
    const header = encodeHeader({
      name: "sparse",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
      typeflag: "S",
      linkname: "",
      devmajor: 0,
      devminor: 0,
    });
    const err = await extractLayer(Readable.from([Buffer.concat([header, END_OF_ARCHIVE])]), root).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("LAYER_UNSAFE");
    expect((err as BuildError).message).toMatch(/"sparse".*unsupported tar entry type "S"/);
  });

  it("refuses input that is not a tar, and zstd", async () => {
    const junk = await extractLayer(Readable.from([randomBytes(2048)]), root).catch((e: unknown) => e);
    expect((junk as BuildError).code).toBe("LAYER_UNSAFE");
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(100)]);
    const z = await extractLayer(Readable.from([zstd]), root).catch((e: unknown) => e);
    expect((z as BuildError).code).toBe("LAYER_UNSAFE");
    expect((z as BuildError).message).toMatch(/zstd/);
    const badGzip = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytes(100)]);
    const g = await extractLayer(Readable.from([badGzip]), root).catch((e: unknown) => e);
    expect((g as BuildError).code).toBe("LAYER_UNSAFE");
  });
});

describe("extractLayer converts whiteouts to overlay form", () => {
  it("turns .wh.NAME into a 0/0 char device and .wh..wh..opq into trusted.overlay.opaque", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: ".wh.gone", type: "file" }, content: "" },
          { header: { name: "dir/", type: "directory" } },
          { header: { name: "dir/.wh.file", type: "file" }, content: "" },
          { header: { name: "opq/", type: "directory", mode: 0o750 } },
          { header: { name: "opq/.wh..wh..opq", type: "file" }, content: "" },
          { header: { name: "opq/new", type: "file" }, content: "fresh" },
          { header: { name: ".wh..wh.plnk", type: "directory" } },
        ]),
      ]),
      root,
    );
    for (const p of ["gone", "dir/file"]) {
      const st = await lstat(join(root, p));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
    }
    expect(getAttributeSync(join(root, "opq"), "trusted.overlay.opaque")?.toString()).toBe("y");
    expect(await readFile(join(root, "opq/new"), "utf8")).toBe("fresh");
    // No OCI whiteout files and no helper files are left behind.
    const all = Object.keys(await describeTree(root));
    expect(all.filter((n) => n.includes(".wh.") || n.includes("tsbuild"))).toEqual([]);
    expect(all.sort()).toEqual(["dir", "dir/file", "gone", "opq", "opq/new"]);
  });
});

describe("extractLayer keeps metadata", () => {
  it("keeps setuid/setgid/sticky modes, owners and mtimes", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "bin/", type: "directory", mode: 0o755, mtime: new Date(1_500_000_000_000) } },
          { header: { name: "bin/su", type: "file", mode: 0o4755, uid: 0, gid: 0 }, content: "su" },
          { header: { name: "shared/", type: "directory", mode: 0o2775, uid: 1234, gid: 5678 } },
          { header: { name: "tmp/", type: "directory", mode: 0o1777 } },
          { header: { name: "bin/owned", type: "file", mode: 0o6750, uid: 1000, gid: 50 }, content: "x" },
          { header: { name: "bin/link", type: "symlink", linkname: "su", uid: 7, gid: 8 } },
        ]),
      ]),
      root,
    );
    expect((await stat(join(root, "bin/su"))).mode & 0o7777).toBe(0o4755);
    const owned = await stat(join(root, "bin/owned"));
    // chown after chmod would have cleared these bits: order matters.
    expect(owned.mode & 0o7777).toBe(0o6750);
    expect([owned.uid, owned.gid]).toEqual([1000, 50]);
    const shared = await stat(join(root, "shared"));
    expect(shared.mode & 0o7777).toBe(0o2775);
    expect([shared.uid, shared.gid]).toEqual([1234, 5678]);
    expect((await stat(join(root, "tmp"))).mode & 0o7777).toBe(0o1777);
    const link = await lstat(join(root, "bin/link"));
    expect([link.uid, link.gid]).toEqual([7, 8]);
    expect(owned.mtimeMs).toBe(1_600_000_000_000);
    // Directory times are set after their children were written.
    expect((await stat(join(root, "bin"))).mtimeMs).toBe(1_500_000_000_000);
  });

  it("keeps security.capability (binary) and user.* xattrs written by GNU tar", async () => {
    const src = join(base, "src");
    await mkdir(src);
    await writeFile(join(src, "ping"), "binary");
    // cap_setuid is bit 7: the value holds a 0x80 byte, which a UTF-8 PAX decoder would corrupt.
    execFileSync("setcap", ["cap_setuid,cap_net_bind_service+ep", join(src, "ping")]);
    setAttributeSync(join(src, "ping"), "user.note", Buffer.from([0, 1, 0xfe, 0xff]));
    setAttributeSync(join(src, "ping"), "trusted.overlay.redirect", "/elsewhere");
    const cap = getAttributeSync(join(src, "ping"), "security.capability")!;
    expect(cap.includes(0x80)).toBe(true);
    const tarPath = join(base, "caps.tar");
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-C", src, "-cf", tarPath, "ping"]);
    await extractLayer(tarPath, root);
    expect(getAttributeSync(join(root, "ping"), "security.capability")).toEqual(cap);
    expect(getAttributeSync(join(root, "ping"), "user.note")).toEqual(Buffer.from([0, 1, 0xfe, 0xff]));
    // Overlay's private attributes are never applied from a layer.
    expect(listAttributesSync(join(root, "ping"))).not.toContain("trusted.overlay.redirect");
    expect(execFileSync("getcap", [join(root, "ping")]).toString()).toMatch(/cap_setuid,cap_net_bind_service=ep/);
  });

  it("creates device nodes, fifos and hard links", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "dev/", type: "directory" } },
          { header: { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 } },
          { header: { name: "dev/loop0", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 } },
          { header: { name: "dev/pipe", type: "fifo", mode: 0o600 } },
          { header: { name: "file", type: "file", mode: 0o644 }, content: "shared" },
          { header: { name: "dev/hard", type: "link", linkname: "file" } },
        ]),
      ]),
      root,
    );
    const nul = await lstat(join(root, "dev/null"));
    expect(nul.isCharacterDevice()).toBe(true);
    expect(nul.rdev).toBe(0x103);
    expect(nul.mode & 0o7777).toBe(0o666);
    const loop = await lstat(join(root, "dev/loop0"));
    expect(loop.isBlockDevice()).toBe(true);
    expect(loop.gid).toBe(6);
    expect((await lstat(join(root, "dev/pipe"))).isFIFO()).toBe(true);
    const a = await stat(join(root, "file"));
    const b = await stat(join(root, "dev/hard"));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
  });

  it("lets a later member replace an earlier one, keeping directories", async () => {
    await extractLayer(
      Readable.from([
        await tarOf([
          { header: { name: "d/", type: "directory", mode: 0o700 } },
          { header: { name: "d/keep", type: "file" }, content: "k" },
          { header: { name: "d/", type: "directory", mode: 0o755 } },
          { header: { name: "f/", type: "directory" } },
          { header: { name: "f/child", type: "file" }, content: "c" },
          { header: { name: "f", type: "file" }, content: "now a file" },
        ]),
      ]),
      root,
    );
    expect(await readFile(join(root, "d/keep"), "utf8")).toBe("k");
    expect((await stat(join(root, "d"))).mode & 0o7777).toBe(0o755);
    expect(await readFile(join(root, "f"), "utf8")).toBe("now a file");
  });
});

describe("extractLayer digests", () => {
  const members: TestMember[] = [
    { header: { name: "etc/", type: "directory" } },
    { header: { name: "etc/hostname", type: "file" }, content: "box\n" },
  ];

  it("returns diffID and blob digest of a gzip layer and accepts the right diffID", async () => {
    const tar = await tarOf(members);
    const gz = gzipSync(tar);
    const layerPath = join(base, "layer.tar.gz");
    await writeFile(layerPath, gz);
    const result = await extractLayer(layerPath, root, { expectedDiffId: sha256(tar) as `sha256:${string}`, expectedDigest: sha256(gz) as `sha256:${string}` });
    expect(result).toEqual({
      diffId: sha256(tar),
      digest: sha256(gz),
      size: gz.length,
      uncompressedSize: tar.length,
      compression: "gzip",
    });
    expect(await readFile(join(root, "etc/hostname"), "utf8")).toBe("box\n");
  });

  it("refuses a gzip layer whose diffID does not match", async () => {
    const gz = gzipSync(await tarOf(members));
    const wrong = `sha256:${"0".repeat(64)}` as const;
    const err = await extractLayer(Readable.from([gz]), root, { expectedDiffId: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("DIGEST_MISMATCH");
    expect((err as BuildError).message).toMatch(/diffID/);
  });

  it("hashes trailing bytes after the end-of-archive marker (as containerd does)", async () => {
    const tar = Buffer.concat([await tarOf(members), Buffer.alloc(4096)]);
    const result = await extractLayer(Readable.from([tar]), root);
    expect(result.diffId).toBe(sha256(tar));
    expect(result.compression).toBe("none");
  });

  it("a small blob file that inflates past the one-call limit of 64 MiB (a bomb) extracts in full through the streaming path", async () => {
    // 65 MiB of zeros compresses to ~65 KB: small on disk, too big to inflate at once.
    const tar = await tarOf([...members, { header: { name: "zeros", type: "file" }, content: Buffer.alloc(65 << 20) }]);
    const gz = gzipSync(tar);
    expect(gz.length).toBeLessThan(1 << 20);
    const layerPath = join(base, "bomb.tar.gz");
    await writeFile(layerPath, gz);
    const result = await extractLayer(layerPath, root, { expectedDiffId: sha256(tar) as `sha256:${string}` });
    expect(result).toMatchObject({ diffId: sha256(tar), digest: sha256(gz), uncompressedSize: tar.length, compression: "gzip" });
    expect((await stat(join(root, "zeros"))).size).toBe(65 << 20);
  });

  it("a small blob file that is not valid gzip is LAYER_UNSAFE", async () => {
    const gz = gzipSync(await tarOf(members));
    gz[gz.length - 20] ^= 0xff; // corrupt the deflate data near the end
    const layerPath = join(base, "bad.tar.gz");
    await writeFile(layerPath, gz);
    const err = await extractLayer(layerPath, root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("LAYER_UNSAFE");
  });

  it("streams: input in many small chunks gives the same result", async () => {
    const tar = await tarOf([...members, { header: { name: "big", type: "file" }, content: randomBytes(300_000) }]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 777) chunks.push(tar.subarray(i, i + 777));
    const result = await extractLayer(Readable.from(chunks), root);
    expect(result.diffId).toBe(sha256(tar));
    expect((await stat(join(root, "big"))).size).toBe(300_000);
  });

  it("stops with ABORTED when the input stalls and the signal fires", async () => {
    const tar = await tarOf(members);
    const stalled: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        let sent = false;
        return {
          next: () => {
            if (!sent) {
              sent = true;
              return Promise.resolve({ done: false, value: tar.subarray(0, 700) });
            }
            return new Promise<IteratorResult<Uint8Array>>(() => undefined); // never
          },
        };
      },
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await extractLayer(stalled, root, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("ABORTED");
  });

  it("refuses an unsafe member in the middle of a gzip file without hanging", async () => {
    const big = randomBytes(3_000_000);
    const gz = gzipSync(
      await tarOf([
        { header: { name: "big1", type: "file" }, content: big },
        { header: { name: "../escape", type: "file" }, content: "x" },
        { header: { name: "big2", type: "file" }, content: big },
      ]),
    );
    const layerPath = join(base, "bad.tar.gz");
    await writeFile(layerPath, gz);
    const err = await extractLayer(layerPath, root).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("LAYER_UNSAFE");
    expect(existsSync(join(base, "escape"))).toBe(false);
  });

  it("reports a missing layer file as IO_READ", async () => {
    const err = await extractLayer(join(base, "missing.tar.gz"), root).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("IO_READ");
  });

  it("stops with ABORTED when the signal fires", async () => {
    const controller = new AbortController();
    controller.abort(new Error("user cancelled"));
    const err = await extractLayer(Readable.from([await tarOf(members)]), root, { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((err as BuildError).code).toBe("ABORTED");
  });
});

describe("extractLayer round trip with GNU tar", () => {
  it("extracts a tree archived by GNU tar into the same tree", async () => {
    const src = join(base, "tree");
    await mkdir(join(src, "a/b"), { recursive: true });
    await writeFile(join(src, "a/b/file"), "content");
    await writeFile(join(src, "a/" + "long-name-".repeat(20)), "long");
    await symlink("b/file", join(src, "a/rel-link"));
    await chmod(join(src, "a/b/file"), 0o4711);
    const tarPath = join(base, "tree.tar");
    execFileSync("tar", ["--numeric-owner", "-C", src, "-cf", tarPath, "."]);
    await extractLayer(tarPath, root);
    expect(await describeTree(root, { mtimes: true })).toEqual(await describeTree(src, { mtimes: true }));
  });
});
