import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the static busybox of the test machine lives (Debian's busybox-static). */
export const BUSYBOX = "/bin/busybox";

export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "builder:x:1000:1000:Builder:/home/builder:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

export const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "wheel:x:10:builder",
  "builder:x:1000:",
  "audio:x:29:root,builder",
  "nogroup:x:65534:",
  "",
].join("\n");

/**
 * A minimal rootfs in a temp dir: busybox with one symlink per applet in
 * /bin, an /etc/passwd and /etc/group, /tmp and /root. No /proc, /dev, /sys,
 * /etc/hosts or /etc/resolv.conf, so tests can check the sandbox removes the
 * mount stubs it causes.
 */
export async function makeBusyboxRootfs(): Promise<string> {
  const rootfs = await mkdtemp(join(tmpdir(), "tsbuild-rootfs-"));
  // mkdtemp makes it 0700: a non-root USER could not even traverse "/".
  await chmod(rootfs, 0o755);
  await mkdir(join(rootfs, "bin"));
  await mkdir(join(rootfs, "etc"));
  await mkdir(join(rootfs, "tmp"), { mode: 0o1777 });
  await mkdir(join(rootfs, "root"), { mode: 0o700 });
  await copyFile(BUSYBOX, join(rootfs, "bin/busybox"));
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) {
    if (applet === "busybox" || applet.includes("/")) continue;
    await symlink("busybox", join(rootfs, "bin", applet));
  }
  await writeFile(join(rootfs, "etc/passwd"), PASSWD);
  await writeFile(join(rootfs, "etc/group"), GROUP);
  return rootfs;
}
