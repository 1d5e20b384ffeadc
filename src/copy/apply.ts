/**
 * COPY and ADD into a stage's root filesystem, with the semantics of
 * BuildKit's Dockerfile frontend (`dockerfile2llb/convert_copy.go`) and
 * file backend (solver/llbsolver/file/backend.go `docopy`, tonistiigi/fsutil
 * `copy.Copy`). References in brackets are BuildKit's
 * frontend/dockerfile tests.
 *
 * - Sources: see {@link selectSources} (cleaning, wildcards, symlinks,
 *   `.dockerignore`, `--exclude`, `--parents`). A plain source that is
 *   missing fails with COPY_SOURCE_NOT_FOUND; a wildcard may match nothing
 *   [testEmptyWildcard].
 * - A directory source copies its contents, never itself
 *   [testCopyWildcards: `COPY sub/dir1 subdest6`]; into a missing
 *   destination it creates it.
 * - A non-directory goes *inside* a destination that ends with `/` or is
 *   an existing directory, else it *is* the destination path
 *   [testCopyWildcards: `COPY f*.go foo2.go`, testPreserveDestDirSlash].
 * - Several sources (counting wildcard matches, heredocs and URLs) need a
 *   destination that ends with `/` or is an existing directory: "When
 *   using COPY with more than one source file, the destination must be a
 *   directory and end with a /" (Docker's message and the Dockerfile
 *   reference's rule; BuildKit itself silently overwrites, moby/buildkit
 *   #1853 and #4550). Archives ADD unpacks do not count: they always
 *   unpack into the destination directory [testDockerfileAddArchiveWildcard].
 * - A relative destination is relative to WORKDIR; an empty one is WORKDIR
 *   [testEmptyDestDir].
 * - Missing parent directories are created 0755, or with the `--chmod`
 *   mode [testCopyChmod: `/parent` is 0777 after `COPY --chmod=777 foo
 *   /parent/foo`], owned by the `--chown` user, else 0:0.
 * - Copied entries keep mode, mtime and extended attributes. Owner: the
 *   `--chown` user; else 0:0 for build context sources and the source's
 *   own ids for `--from` sources (`keepOwnership`)
 *   [testCopyChownExistingDir]. `--chown=name` uses the user's primary
 *   group; a bare uid also sets gid = uid [testCopyChown].
 * - `--chmod` applies to every copied file and directory (octal, or
 *   symbolic with BSD `X` semantics) [testCopyChmod, testChmodNonOctal].
 * - Heredoc sources are files of mode 0644 (before `--chmod`).
 * - ADD: local tar archives (gzip, bzip2, xz, zstd, plain; detected by
 *   content) are unpacked into the destination unless `--unpack=false`;
 *   URLs are downloaded (mode 0600, Last-Modified as mtime, `--checksum`
 *   verified) and unpacked only with `--unpack=true`
 *   [testDockerfileAddArchive, testDockerfileADDFromURL, testAddChecksum].
 * - The destination is resolved inside `destRoot` like a chroot; nothing is
 *   written outside it (see {@link DestRoot} and {@link TreeWriter}).
 */

import { lstat, realpath } from "node:fs/promises";
import { posix } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { extractArchive, isArchive } from "./archive.js";
import { parseChmod, type ChmodSpec } from "./chmod.js";
import { resolveChown } from "./chown.js";
import { DestRoot, destinationOf, type Destination } from "./dest-root.js";
import { destConflict } from "./errors.js";
import type { DownloadedFile } from "./http-source.js";
import { hostPath } from "./root-resolve.js";
import { selectSources, type SelectedMatch, type SourceSelection } from "./select.js";
import { isGitSource, isUrlSource } from "./source-path.js";
import { entryStat, ioError, kindOf, throwIfAborted, type TreeEntry } from "./tree.js";
import { TreeWriter } from "./write-tree.js";

/** A heredoc source of COPY/ADD (`COPY <<EOF /dst`). */
export interface InlineFile {
  /** The file name (the heredoc delimiter). */
  readonly name: string;
  /** The content. */
  readonly content: string;
}

/** ADD-only behaviour. */
export interface AddOptions {
  /**
   * `--unpack`: undefined = default (local archives unpacked, URLs not);
   * false = never unpack; true = also unpack downloaded archives.
   */
  readonly unpack?: boolean;
  /** `--checksum` of a URL source (`sha256:<hex>`). */
  readonly checksum?: string;
  /** `--keep-git-dir`: keep `.git` in a Git source's checkout (see `git-source.ts`; the checkout is made by the caller). */
  readonly keepGitDir?: boolean;
  /** Checked-out Git sources, by source as written: the directories whose contents are copied (`git-source.ts`). */
  readonly gitCheckouts?: ReadonlyMap<string, string>;
  /**
   * URL sources already downloaded, by URL: used instead of fetching them
   * again, and left for their owner to dispose. The solver fetches a URL
   * once to key the step by its content, and the copy must then write
   * exactly those bytes, not a second download that may differ.
   */
  readonly downloaded?: ReadonlyMap<string, DownloadedFile>;
}

/** Everything {@link applyCopy} needs. */
export interface CopyOptions extends SourceSelection {
  /** Absolute directory of the target rootfs (an overlay merged mount); nothing is written outside it. */
  readonly destRoot: string;
  /** Destination as written in the Dockerfile (after expansion). */
  readonly dest: string;
  /** The stage's WORKDIR (absolute), for a relative destination. */
  readonly workdir: string;
  /** `--chown`: `user[:group]`, names resolved in destRoot's /etc/passwd and /etc/group, or numeric. */
  readonly chown?: string;
  /** `--chmod`: octal or symbolic (`u+x`, `u=rwX,go=rX`). */
  readonly chmod?: string;
  /** Heredoc files, written after the other sources. */
  readonly inline?: readonly InlineFile[];
  /** Present for ADD (even empty): enables unpacking and URL sources. */
  readonly add?: AddOptions;
  /** Cancels the copy (BuildError ABORTED); the destination may then hold part of it. */
  readonly signal?: AbortSignal;
}

/** What {@link applyCopy} did. */
export interface CopyResult {
  /** Non-directory entries written (files, symlinks, special files, unpacked entries). */
  readonly files: number;
  /** Bytes of regular file data written. */
  readonly bytes: number;
  /** Things BuildKit accepts silently but a user should know (e.g. an unknown `--chown` name fell back to 0). */
  readonly warnings: readonly string[];
}

/** One thing to put at the destination, in Dockerfile order. */
type Item =
  | { readonly kind: "match"; readonly match: SelectedMatch; readonly archive: boolean }
  | { readonly kind: "download"; readonly file: DownloadedFile; readonly entry: TreeEntry; readonly archive: boolean }
  | { readonly kind: "inline"; readonly file: InlineFile };

/** Applies COPY/ADD into `opts.destRoot` exactly as Docker/BuildKit do (see the module comment). */
export async function applyCopy(opts: CopyOptions): Promise<CopyResult> {
  const { signal } = opts;
  throwIfAborted(signal);
  const isAdd = opts.add !== undefined;
  const keyword = isAdd ? "ADD" : "COPY";
  validateSources(opts, keyword);

  let root: string;
  try {
    root = await realpath(opts.destRoot);
    if (!(await lstat(root)).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    throw new BuildError("INTERNAL", `destination root ${opts.destRoot} is not a directory: ${(err as Error).message}`, { cause: err });
  }

  const chmod: ChmodSpec | undefined = opts.chmod === undefined || opts.chmod === "" ? undefined : parseChmod(opts.chmod);
  const chown = opts.chown === undefined || opts.chown === "" ? undefined : await resolveChown(opts.chown, root);
  const owner = chown === undefined ? undefined : { uid: chown.uid, gid: chown.gid };
  const destRoot = new DestRoot(root, {
    uid: owner?.uid ?? 0,
    gid: owner?.gid ?? 0,
    mode: chmod === undefined ? 0o755 : chmod.apply(0o755, true),
  });
  const dest = destinationOf(opts.dest, opts.workdir);

  // Git sources of ADD are not paths of the root: they are read from their checkouts (planItems).
  const selected = await selectSources(isAdd ? { ...opts, sources: opts.sources.filter((src) => !isGitSource(src)) } : opts, signal ? { signal } : {});
  const downloads: DownloadedFile[] = [];
  try {
    const items = await planItems(opts, selected, downloads);
    await checkDestinationShape(items, dest, destRoot, keyword, opts.parents === true);

    const writer = new TreeWriter({ keepOwnership: opts.keepOwnership === true, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}), ...(signal ? { signal } : {}) });
    let files = 0;
    let bytes = 0;
    try {
      for (const item of items) {
        throwIfAborted(signal);
        // Items are applied in order: a later one may overwrite an earlier one's file.
        await writer.flush();
        if (item.kind === "inline") {
          const target = await placeFile(destRoot, dest, item.file.name);
          await writer.writeDataAt(item.file.content, target.host, target.path, chmod === undefined ? 0o644 : chmod.apply(0o644, false));
          continue;
        }
        const entry = item.kind === "match" ? item.match.entry : item.entry;
        if (item.archive) {
          // Unpacking always treats the destination as a directory (BuildKit unpack(): MkdirAll(dest)).
          const { host } = await destRoot.mkdirAll(dest.path);
          const r = await extractArchive(entry.abs, host, { ...(owner ? { owner } : {}), ...(signal ? { signal } : {}) });
          files += r.files;
          bytes += r.bytes;
          continue;
        }
        if (entry.kind === "dir") {
          await ensureParent(destRoot, dest);
          const res = await destRoot.resolve(dest.path);
          let host = res.host;
          let created = false;
          if (res.missingFrom < res.parts.length) {
            ({ host, created } = await destRoot.mkdirAll(dest.path));
          } else if (!(await lstat(res.host)).isDirectory()) {
            throw destConflict(`cannot copy to non-directory: ${dest.path}`);
          }
          await writer.writeChildren(entry.children ?? [], host, dest.path, created);
          // fsutil restores the source directory's times on the destination directory.
          writer.deferTimes(host, entry);
          continue;
        }
        const target = await placeFile(destRoot, dest, entry.name);
        await writer.writeFileAt(entry, target.host, target.path);
      }
      await writer.finish();
    } catch (err) {
      // Let copies already started end before reporting: nothing may still be writing once we return.
      await writer.settle();
      throw err;
    }
    return { files: files + writer.files, bytes: bytes + writer.bytes, warnings: chown?.warnings ?? [] };
  } catch (err) {
    throw ioError(`${keyword} failed`, err);
  } finally {
    for (const d of downloads) await d.dispose().catch(() => undefined);
  }
}

function validateSources(opts: CopyOptions, keyword: string): void {
  for (const s of opts.sources) {
    if (isGitSource(s) && opts.add === undefined) {
      throw new BuildError("DF_ARGS", `source can't be a Git repository for COPY: ${JSON.stringify(s)}`, { hint: "use ADD to copy a Git repository" });
    }
    if (isGitSource(s) && opts.add?.gitCheckouts?.get(s) === undefined) {
      throw new BuildError("INTERNAL", `Git source ${JSON.stringify(s)} was not checked out`);
    }
    if (isUrlSource(s) && opts.add === undefined) {
      throw new BuildError("DF_ARGS", "source can't be a URL for COPY", { hint: "use ADD to download a URL" });
    }
  }
  if (opts.add?.checksum !== undefined && opts.add.checksum !== "") {
    if (opts.sources.length !== 1 || opts.inline?.length) throw new BuildError("DF_FLAG", "checksum can't be specified for multiple sources");
    if (!isUrlSource(opts.sources[0] as string) && !isGitSource(opts.sources[0] as string)) throw new BuildError("DF_FLAG", "checksum requires HTTP(S) or Git sources");
  }
  for (const f of opts.inline ?? []) {
    if (f.name === "" || f.name.includes("/") || f.name === "." || f.name === "..") {
      throw new BuildError("DF_ARGS", `invalid heredoc file name ${JSON.stringify(f.name)}`);
    }
  }
}

/** Turns the selection, URLs and heredocs into ordered items, downloading URLs and detecting archives. */
async function planItems(opts: CopyOptions, selected: Awaited<ReturnType<typeof selectSources>>, downloads: DownloadedFile[]): Promise<Item[]> {
  const unpackLocal = opts.add !== undefined && opts.add.unpack !== false;
  const unpackRemote = opts.add?.unpack === true;
  const items: Item[] = [];
  let next = 0;
  for (const source of opts.sources) {
    throwIfAborted(opts.signal);
    const checkout = isGitSource(source) ? opts.add?.gitCheckouts?.get(source) : undefined;
    if (checkout !== undefined) {
      // The repository's tree, copied as a directory's contents (BuildKit copies the Git source's root, or the #ref:subdir).
      const [tree] = await selectSources(
        { root: checkout, sources: ["/"], excludes: opts.excludes ?? [], followTopLevelSymlinks: true },
        opts.signal ? { signal: opts.signal } : {},
      );
      for (const match of tree?.matches ?? []) items.push({ kind: "match", match, archive: false });
      continue;
    }
    if (isUrlSource(source)) {
      let file = opts.add?.downloaded?.get(source);
      if (file === undefined) {
        // Loaded only for a URL: it brings undici and the TLS set-up (~15 ms
        // of start-up), which a COPY from the context or a stage never needs.
        const { downloadUrl } = await import("./http-source.js");
        file = await downloadUrl(source, {
          ...(opts.add?.checksum ? { checksum: opts.add.checksum } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        downloads.push(file);
      }
      let st;
      try {
        st = entryStat(await lstat(file.path));
      } catch (err) {
        throw ioError(`cannot stat ${file.path}`, err);
      }
      const entry: TreeEntry = { name: file.name, abs: file.path, st, kind: kindOf(st) };
      items.push({ kind: "download", file, entry, archive: unpackRemote && (await isArchive(file.path)) });
      continue;
    }
    const sel = selected[next++];
    if (sel === undefined) throw new BuildError("INTERNAL", "selection out of step with the sources");
    for (const match of sel.matches) {
      const archive = unpackLocal && match.entry.kind === "file" && (await isArchive(match.entry.abs));
      items.push({ kind: "match", match, archive });
    }
  }
  for (const file of opts.inline ?? []) items.push({ kind: "inline", file });
  return items;
}

/** The multiple-sources rule (see the module comment). */
async function checkDestinationShape(items: readonly Item[], dest: Destination, destRoot: DestRoot, keyword: string, parents: boolean): Promise<void> {
  const copied = items.filter((i) => i.kind === "inline" || !i.archive).length;
  if (copied <= 1 || parents || dest.dirShaped) return;
  const res = await destRoot.resolve(dest.path);
  if (res.missingFrom === res.parts.length) {
    const st = await lstat(res.host).catch(() => undefined);
    if (st?.isDirectory() === true) return;
  }
  throw new BuildError("DF_ARGS", `When using ${keyword} with more than one source file, the destination must be a directory and end with a /`, {
    hint: `write the destination as "${dest.path === "/" ? "/" : `${dest.path}/`}"`,
  });
}

/** fsutil's `ensureDstPath`: a directory-shaped destination is created, otherwise its parent. */
async function ensureParent(destRoot: DestRoot, dest: Destination): Promise<void> {
  await destRoot.mkdirAll(dest.dirShaped ? dest.path : posix.dirname(dest.path));
}

/**
 * Where a non-directory named `name` goes: inside the destination when it
 * is (now) a directory, else at the destination path itself.
 */
async function placeFile(destRoot: DestRoot, dest: Destination, name: string): Promise<{ host: string; path: string }> {
  await ensureParent(destRoot, dest);
  const res = await destRoot.resolve(dest.path);
  if (res.missingFrom === res.parts.length) {
    const st = await lstat(res.host).catch(() => undefined);
    if (st?.isDirectory() === true) {
      return { host: `${res.host}/${name}`, path: dest.path === "/" ? `/${name}` : `${dest.path}/${name}` };
    }
  }
  if (res.parts.length === 0) throw destConflict(`cannot copy ${name} over the root directory`);
  // A dangling symlink at the destination leads elsewhere: make that place's parent too (still inside the root).
  if (res.missingFrom < res.parts.length - 1) await destRoot.mkdirAll(`/${res.parts.slice(0, -1).join("/")}`);
  // Every component of res.parts before the last is now a real directory.
  return { host: hostPath(destRoot.root, res.parts), path: dest.path };
}
