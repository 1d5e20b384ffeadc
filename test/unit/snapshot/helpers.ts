import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { listAttributesSync, getAttributeSync } from "@napi-rs/xattr";
import { pack, type Header } from "tar-stream";

/** A tar member for {@link tarOf}: tar-stream headers (plus optional PAX records) and content. */
export interface TestMember {
  header: Partial<Header> & { name: string; pax?: Record<string, string> };
  content?: string | Buffer;
}

/** Builds a tar in memory with tar-stream (an independent writer, so tests do not trust our encoder). */
export async function tarOf(members: readonly TestMember[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on("data", (c: unknown) => chunks.push(c as Buffer));
    p.on("end", () => resolve());
    p.on("error", reject);
  });
  for (const m of members) {
    const header = { mtime: new Date(1_600_000_000_000), ...m.header };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (m.content !== undefined) p.entry(header, typeof m.content === "string" ? Buffer.from(m.content) : m.content, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A comparable description of every file under `dir` (not following links):
 * type, mode, owner, size, content hash-ish, link target, device, xattrs.
 * Directory mtimes are left out (mounting/unmounting touches them).
 */
export async function describeTree(dir: string, options: { mtimes?: boolean } = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function visit(rel: string): Promise<void> {
    const names = (await readdir(rel === "" ? dir : join(dir, rel))).sort();
    for (const name of names) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const abs = join(dir, r);
      const st = await lstat(abs);
      const kind = st.isDirectory()
        ? "dir"
        : st.isFile()
          ? "file"
          : st.isSymbolicLink()
            ? "symlink"
            : st.isCharacterDevice()
              ? "chr"
              : st.isBlockDevice()
                ? "blk"
                : st.isFIFO()
                  ? "fifo"
                  : "other";
      let extra = "";
      if (st.isFile()) extra = `size=${st.size} content=${(await readFile(abs)).toString("base64").slice(0, 64)}`;
      if (st.isSymbolicLink()) extra = `-> ${await readlink(abs)}`;
      if (st.isCharacterDevice() || st.isBlockDevice()) extra = `rdev=${st.rdev}`;
      const xattrs = listAttributesSync(abs)
        .filter((n) => !n.startsWith("trusted.overlay.") || n === "trusted.overlay.opaque")
        .sort()
        .map((n) => `${n}=${getAttributeSync(abs, n)?.toString("hex") ?? ""}`)
        .join(",");
      const mtime = options.mtimes === true && !st.isDirectory() ? ` mtime=${Math.floor(st.mtimeMs / 1000)}` : "";
      out[r] = `${kind} mode=${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${extra}${mtime}${xattrs ? ` xattrs[${xattrs}]` : ""}`;
      if (st.isDirectory()) await visit(r);
    }
  }
  await visit("");
  return out;
}
