import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BuildError } from "../../../src/diagnostics/build-error.js";
import { getExecUser, parseGroup, parsePasswd, parseUidGid, resolveUser } from "../../../src/sandbox/user.js";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "builder:x:1000:1000:Builder:/home/builder:/bin/sh",
  "builder:x:1001:1001:shadowed duplicate:/nowhere:/bin/sh",
  "  spaced:x:1002:1002::/home/spaced:/bin/sh  ",
  "",
  "short:x:1003",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "",
].join("\n");

const GROUP = [
  "root:x:0:",
  "# a comment, skipped in group files",
  "wheel:x:10:builder,daemon",
  "builder:x:1000:",
  "audio:x:29:root,builder",
  "users:x:100:",
  "users:x:101:",
  "nogroup:x:65534:",
  "",
].join("\n");

function failure(fn: () => unknown): BuildError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BuildError) return err;
    throw err;
  }
  throw new Error("expected a BuildError");
}

describe("getExecUser (moby/sys/user semantics)", () => {
  const resolve = (spec: string) => getExecUser(spec, PASSWD, GROUP);

  it("resolves a name to its passwd ids and its /etc/group memberships", () => {
    expect(resolve("builder")).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 29], home: "/home/builder" });
    expect(resolve("root")).toEqual({ uid: 0, gid: 0, additionalGids: [29], home: "/root" });
    expect(resolve("daemon")).toEqual({ uid: 1, gid: 1, additionalGids: [10], home: "/usr/sbin" });
  });

  it("treats a numeric user as a uid, found in passwd or not", () => {
    expect(resolve("1000")).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 29], home: "/home/builder" });
    expect(resolve("4242")).toEqual({ uid: 4242, gid: 0, additionalGids: [] });
    expect(resolve("+4242")).toEqual({ uid: 4242, gid: 0, additionalGids: [] });
  });

  it("uses an explicit group as the primary group and drops supplementary groups", () => {
    expect(resolve("builder:audio")).toEqual({ uid: 1000, gid: 29, additionalGids: [], home: "/home/builder" });
    expect(resolve("builder:4242")).toEqual({ uid: 1000, gid: 4242, additionalGids: [], home: "/home/builder" });
    expect(resolve("4242:wheel")).toEqual({ uid: 4242, gid: 10, additionalGids: [] });
    expect(resolve("4242:4343")).toEqual({ uid: 4242, gid: 4343, additionalGids: [] });
    expect(resolve("builder:users")).toMatchObject({ gid: 100 }); // first match wins
  });

  it("takes the first of duplicate passwd entries", () => {
    expect(resolve("builder").uid).toBe(1000);
  });

  it("parses like moby/sys/user: trimmed lines, short lines, no passwd comments", () => {
    expect(resolve("spaced")).toEqual({ uid: 1002, gid: 1002, additionalGids: [], home: "/home/spaced" });
    expect(resolve("short")).toEqual({ uid: 1003, gid: 0, additionalGids: [], home: "" });
    expect(parsePasswd("#root:x:0:0::/:\n")[0]?.name).toBe("#root");
    expect(parseGroup("#wheel:x:10:a\nwheel:x:11:a,b\n")).toEqual([{ name: "wheel", gid: 11, members: ["a", "b"] }]);
    expect(parsePasswd("bad:x:abc:def::/h:\n")[0]).toEqual({ name: "bad", uid: 0, gid: 0, home: "/h" });
  });

  it("names the user or group it cannot find", () => {
    expect(failure(() => resolve("ghost")).message).toBe("unable to find user ghost: no matching entries in passwd file");
    expect(failure(() => resolve("ghost")).code).toBe("STEP_FAILED");
    expect(failure(() => resolve("builder:ghosts")).message).toBe(
      "unable to find group ghosts: no matching entries in group file",
    );
  });

  it("rejects ids outside 0..2^31-1", () => {
    expect(failure(() => resolve("-1")).message).toBe("uids and gids must be in range 0-2147483647");
    expect(failure(() => resolve("2147483648")).message).toMatch(/must be in range/);
    expect(failure(() => resolve("builder:-5")).message).toMatch(/must be in range/);
    expect(resolve("2147483647").uid).toBe(2147483647);
  });

  it("works without passwd or group files", () => {
    expect(getExecUser("1000", undefined, undefined)).toEqual({ uid: 1000, gid: 0, additionalGids: [] });
    expect(getExecUser("1000:1000", undefined, undefined)).toEqual({ uid: 1000, gid: 1000, additionalGids: [] });
    expect(failure(() => getExecUser("root", undefined, undefined)).message).toBe(
      "unable to find user root: no matching entries in passwd file",
    );
    expect(failure(() => getExecUser("1000:staff", PASSWD, undefined)).message).toMatch(/unable to find group staff/);
  });
});

describe("parseUidGid (BuildKit's fast path)", () => {
  it("accepts uid:gid with both parts numeric or root", () => {
    expect(parseUidGid("1000:1000")).toEqual({ uid: 1000, gid: 1000 });
    expect(parseUidGid("root:root")).toEqual({ uid: 0, gid: 0 });
    expect(parseUidGid("4294967295:0")).toEqual({ uid: 4294967295, gid: 0 });
  });
  it("leaves everything else to the file lookup", () => {
    for (const spec of ["1000", "builder:1000", "1000:wheel", "4294967296:0", "+1:0", ":0", "1000:"]) {
      expect(parseUidGid(spec)).toBeUndefined();
    }
  });
});

describe("resolveUser against a rootfs", () => {
  let rootfs: string;
  let hostDir: string;

  beforeAll(async () => {
    hostDir = await mkdtemp(join(tmpdir(), "tsbuild-hostetc-"));
    // A "host" passwd with a user the rootfs does not have: reading it would
    // make `hostonly` resolve.
    await writeFile(join(hostDir, "passwd"), "hostonly:x:4321:4321::/:/bin/sh\nroot:x:0:0::/root:/bin/sh\n");
    await writeFile(join(hostDir, "group"), "hostgroup:x:4321:root\n");
  });
  afterAll(async () => {
    await rm(hostDir, { recursive: true, force: true });
  });

  async function freshRootfs(): Promise<string> {
    rootfs = await mkdtemp(join(tmpdir(), "tsbuild-userfs-"));
    await mkdir(join(rootfs, "etc"));
    return rootfs;
  }
  afterEach(async () => {
    if (rootfs !== undefined) await rm(rootfs, { recursive: true, force: true });
  });

  it("reads /etc/passwd and /etc/group of the rootfs", async () => {
    const root = await freshRootfs();
    await writeFile(join(root, "etc/passwd"), PASSWD);
    await writeFile(join(root, "etc/group"), GROUP);
    expect(await resolveUser({ rootfs: root, user: "builder" })).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 29],
      home: "/home/builder",
    });
    // The default user is uid 0, with root's supplementary groups, as BuildKit.
    expect(await resolveUser({ rootfs: root, user: "" })).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [29],
      home: "/root",
    });
    // uid:gid never reads the files, so no supplementary groups.
    expect(await resolveUser({ rootfs: root, user: "1000:1000" })).toEqual({ uid: 1000, gid: 1000, additionalGids: [] });
    await expect(resolveUser({ rootfs: root, user: "ghost" })).rejects.toThrow(
      "unable to find user ghost: no matching entries in passwd file",
    );
  });

  it("falls back to root for the default user of a rootfs without passwd (scratch)", async () => {
    const root = await freshRootfs();
    expect(await resolveUser({ rootfs: root, user: "" })).toEqual({ uid: 0, gid: 0, additionalGids: [] });
    expect(await resolveUser({ rootfs: root, user: "1000" })).toEqual({ uid: 1000, gid: 0, additionalGids: [] });
    await expect(resolveUser({ rootfs: root, user: "root" })).rejects.toThrow(/unable to find user root/);
  });

  it("follows a symlinked /etc/passwd that stays inside the rootfs", async () => {
    const root = await freshRootfs();
    await mkdir(join(root, "usr/share/base"), { recursive: true });
    await writeFile(join(root, "usr/share/base/passwd"), PASSWD);
    await symlink("/usr/share/base/passwd", join(root, "etc/passwd"));
    expect((await resolveUser({ rootfs: root, user: "builder" })).uid).toBe(1000);
  });

  it("never reads the host's files through a malicious /etc/passwd symlink", async () => {
    const targets = [
      join(hostDir, "passwd"), // absolute: means <rootfs><hostDir>/passwd in the container
      `../../../../../../../../../..${hostDir}/passwd`, // relative, climbing out: clamped at the rootfs
      "/etc/passwd", // the host's own passwd: resolves to itself, a loop
      "../../../../../../../../../../etc/passwd",
    ];
    for (const target of targets) {
      const root = await freshRootfs();
      await symlink(target, join(root, "etc/passwd"));
      await symlink(target.replace(/passwd$/, "group"), join(root, "etc/group"));
      await expect(resolveUser({ rootfs: root, user: "hostonly" }), target).rejects.toThrow(
        "unable to find user hostonly: no matching entries in passwd file",
      );
      // root is in every host passwd: it must not be found either.
      await expect(resolveUser({ rootfs: root, user: "root" }), target).rejects.toThrow(/unable to find user root/);
      await rm(root, { recursive: true, force: true });
    }
  });

  it("never escapes through a symlinked /etc directory", async () => {
    const root = await freshRootfs();
    await rm(join(root, "etc"), { recursive: true });
    await symlink(`../../../../../../../..${hostDir}`, join(root, "etc"));
    await expect(resolveUser({ rootfs: root, user: "hostonly" })).rejects.toThrow(/unable to find user hostonly/);
    await unlink(join(root, "etc"));
    await symlink(hostDir, join(root, "etc"));
    await expect(resolveUser({ rootfs: root, user: "hostonly" })).rejects.toThrow(/unable to find user hostonly/);
  });

  it("does not hang on a FIFO or read a directory as /etc/passwd", async () => {
    const root = await freshRootfs();
    execFileSync("mkfifo", [join(root, "etc/passwd")]);
    await mkdir(join(root, "etc/group"));
    expect(await resolveUser({ rootfs: root, user: "1000" })).toEqual({ uid: 1000, gid: 0, additionalGids: [] });
    await expect(resolveUser({ rootfs: root, user: "builder" })).rejects.toThrow(/unable to find user builder/);
  });
});
