import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A scratch area with a build context, a source stage root and a destination root. */
export interface Scratch {
  readonly base: string;
  /** The build context. */
  readonly ctx: string;
  /** A destination rootfs. */
  readonly dest: string;
  /** Somewhere outside both, standing for the host. */
  readonly outside: string;
  cleanup(): Promise<void>;
}

export async function scratch(): Promise<Scratch> {
  const base = await mkdtemp(join(tmpdir(), "tsbuild-copy-"));
  const s = { base, ctx: join(base, "ctx"), dest: join(base, "dest"), outside: join(base, "outside") };
  await Promise.all([mkdir(s.ctx), mkdir(s.dest), mkdir(s.outside)]);
  return { ...s, cleanup: () => rm(base, { recursive: true, force: true }) };
}

/** A file to create: content, and optionally mode, owner and mtime (seconds). */
export interface FileSpec {
  readonly content?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  /** Create a symlink with this target instead of a file. */
  readonly link?: string;
  /** Create a directory (content ignored). */
  readonly dir?: boolean;
}

/** Creates files under `root` (parents 0755), in order. */
export async function populate(root: string, files: Record<string, FileSpec | string>): Promise<void> {
  for (const [rel, raw] of Object.entries(files)) {
    const spec: FileSpec = typeof raw === "string" ? { content: raw } : raw;
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    if (spec.link !== undefined) {
      await symlink(spec.link, p);
      continue;
    }
    if (spec.dir === true) await mkdir(p, { recursive: true });
    else await writeFile(p, spec.content ?? "");
    if (spec.mode !== undefined) await chmod(p, spec.mode);
    if (spec.uid !== undefined || spec.gid !== undefined) await chown(p, spec.uid ?? 0, spec.gid ?? 0);
    if (spec.mtime !== undefined) await utimes(p, spec.mtime, spec.mtime);
  }
}

/** `path -> "f 0644 0:0 content" | "d 0755 0:0" | "l -> target"` for every entry below `root`, sorted. */
export async function describeTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const p = join(root, r);
      const st = await lstat(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      if (st.isSymbolicLink()) out[r] = `l -> ${await readlink(p)}`;
      else if (st.isDirectory()) {
        out[r] = `d ${mode} ${st.uid}:${st.gid}`;
        await visit(r);
      } else if (st.isFile()) out[r] = `f ${mode} ${st.uid}:${st.gid} ${await readFile(p, "utf8")}`;
      else out[r] = `? ${mode}`;
    }
  };
  await visit("");
  return out;
}
