/**
 * `ADD <git URL> <dest>`: a Git repository as a source, as BuildKit's Git
 * source does it (source/git, frontend/dockerfile's `ADD` of a Git URL):
 *
 * - The URL is `git@host:path`, `git://…`, `ssh://…`, or `http(s)://…`
 *   ending in `.git`; a fragment `#REF[:SUBDIR]` picks a branch, tag or
 *   commit (default: the remote's HEAD) and a subdirectory to copy.
 * - The reference is resolved to a commit with `git ls-remote` before the
 *   cache lookup, and the step is keyed by that commit (BuildKit keys a Git
 *   source by its commit), so an unchanged branch is a cache hit and a
 *   moved one reruns the step, without fetching anything in the first case.
 * - When the step runs, exactly that commit is fetched (shallow where the
 *   server allows) and checked out into a temporary directory, with its
 *   submodules; `.git` is removed unless `--keep-git-dir`. Its contents are
 *   then copied like a directory of the context (owned by root unless
 *   `--chown`).
 *
 * Everything runs the system `git` (Debian package `git`), never
 * prompting: `GIT_TERMINAL_PROMPT=0`, SSH in batch mode, no
 * `file://` or `ext::` transports.
 */
import { lstat, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import { resolveInRoot } from "../sandbox/root-path.js";
import { runTool } from "../snapshot/exec.js";

/** A Git source, split. */
export interface GitRef {
  /** What `git` fetches from (the URL without its fragment). */
  readonly remote: string;
  /** Branch, tag or commit from the fragment (or `?ref=`); undefined for the remote's HEAD. */
  readonly ref?: string;
  /** `?branch=` or `?tag=`: the ref must be a branch (`refs/heads/`) or a tag (`refs/tags/`). */
  readonly only?: "branch" | "tag";
  /** Subdirectory to copy (cleaned, relative), `""` for the whole tree. */
  readonly subdir: string;
}

/** A checked-out commit: its directory (the tree to copy) and a way to remove it. */
export interface GitCheckout {
  /** The directory whose contents are copied (the subdirectory when the fragment names one). */
  readonly dir: string;
  /** Removes the checkout. Never throws. */
  dispose(): Promise<void>;
}

const COMMIT_RE = /^[0-9a-f]{40}$/;

/**
 * The environment every `git` run gets: no prompts, no interactive SSH, no
 * local or command transports. The caller's other `GIT_*` variables are
 * dropped: a `GIT_DIR` or `GIT_WORK_TREE` inherited from a hook or a CI
 * job would point these commands at the user's own repository.
 */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_") || k === "GIT_SSH_COMMAND" || k === "GIT_SSH") env[k] = v;
  return {
    ...env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: process.env["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes",
    GIT_ALLOW_PROTOCOL: "http:https:git:ssh",
    GIT_CONFIG_NOSYSTEM: "1",
  };
}

/**
 * Splits a Git source into remote, ref and subdirectory (BuildKit's
 * `gitutil.ParseGitRef`): `URL#REF:SUBDIR`, or the query form
 * `URL?ref=REF&subdir=DIR` with `branch=`/`tag=` for a ref that must be a
 * branch or a tag (testGitQueryString). A query ref and a fragment ref must
 * agree (`?tag=v1#refs/tags/v1` does), else "ref conflicts".
 *
 * @throws BuildError DF_ARGS for conflicting refs or subdirectories, or a
 *   query parameter tsbuild does not support.
 */
export function parseGitRef(source: string): GitRef {
  const hash = source.indexOf("#");
  const beforeHash = hash < 0 ? source : source.slice(0, hash);
  const fragment = hash < 0 ? "" : source.slice(hash + 1);
  const colon = fragment.indexOf(":");
  const fragmentRef = colon < 0 ? fragment : fragment.slice(0, colon);
  let ref = fragmentRef;
  let subdir = colon < 0 ? "" : fragment.slice(colon + 1);
  let only: GitRef["only"];
  const q = beforeHash.indexOf("?");
  const remote = q < 0 ? beforeHash : beforeHash.slice(0, q);
  if (q >= 0) {
    const fail = (why: string): BuildError => new BuildError("DF_ARGS", `Git source ${JSON.stringify(source)}: ${why}`);
    for (const [key, value] of new URLSearchParams(beforeHash.slice(q + 1))) {
      if (key === "ref" || key === "branch" || key === "tag") {
        const full = key === "branch" ? `refs/heads/${value}` : key === "tag" ? `refs/tags/${value}` : value;
        if (fragmentRef !== "" && fragmentRef !== value && fragmentRef !== full) throw fail(`ref conflicts: ${JSON.stringify(fragmentRef)} and ${key}=${value}`);
        if (ref !== "" && ref !== fragmentRef && ref !== value) throw fail(`ref conflicts: several refs in the query`);
        ref = value;
        if (key !== "ref") only = key;
      } else if (key === "subdir") {
        if (subdir !== "" && subdir !== value) throw fail(`subdir conflicts: ${JSON.stringify(subdir)} and subdir=${value}`);
        subdir = value;
      } else {
        throw fail(`query parameter ${JSON.stringify(key)} is not supported`);
      }
    }
  }
  // Cleaned as a path below the repository root: `..` cannot climb above it.
  const cleaned = posix.normalize(`/${subdir}`);
  return { remote, ...(ref !== "" ? { ref } : {}), ...(only ? { only } : {}), subdir: cleaned === "/" ? "" : cleaned.slice(1) };
}

/** What a ref names: its commit, and for an annotated tag the tag object too. */
export interface ResolvedGitRef {
  /** The commit checked out. */
  readonly commit: string;
  /** The annotated tag object's id, when the ref is one. */
  readonly tag?: string;
}

/**
 * `ADD --checksum=HEX <git URL>` (BuildKit's GitChecksum, testAddGitChecksum):
 * the resolved commit, or the annotated tag object, must start with HEX.
 *
 * @throws BuildError DF_FLAG for a checksum that is not a hex commit id;
 *   ADD_GIT_FAILED "expected checksum to match" when it names another commit.
 */
export function checkGitChecksum(g: GitRef, resolved: ResolvedGitRef, checksum: string): void {
  if (!/^[0-9a-f]{4,64}$/.test(checksum)) {
    throw new BuildError("DF_FLAG", `invalid checksum ${JSON.stringify(checksum)} for Git source ${g.remote}: expected hex commit hash`);
  }
  if (resolved.commit.startsWith(checksum) || (resolved.tag?.startsWith(checksum) ?? false)) return;
  const got = resolved.tag !== undefined ? `${resolved.tag} or ${resolved.commit}` : resolved.commit;
  throw new BuildError("ADD_GIT_FAILED", `expected checksum to match ${checksum}, got ${got} (${g.remote}${g.ref !== undefined ? `#${g.ref}` : ""})`, {
    hint: "the ref now names another commit: update --checksum, or pin the commit in the URL",
  });
}

/**
 * The commit `ref` names on the remote (`git ls-remote`), with the annotated
 * tag object when it is one (for {@link checkGitChecksum}): a full commit id
 * is taken as it is; otherwise the first of `ref` itself (peeled),
 * `refs/tags/REF` (peeled to its commit) and `refs/heads/REF`, only the
 * branch or the tag for `?branch=` / `?tag=`; without a ref, `HEAD`.
 *
 * @throws BuildError ADD_GIT_FAILED naming the remote when it cannot be read
 *   or has no such ref.
 */
export async function resolveGitRef(g: GitRef, signal?: AbortSignal): Promise<ResolvedGitRef> {
  if (g.ref !== undefined && COMMIT_RE.test(g.ref)) return { commit: g.ref };
  const wanted = g.ref ?? "HEAD";
  let out: string;
  try {
    out = (await runTool("git", ["ls-remote", "--", g.remote], { env: gitEnv(), captureStdout: true, ...(signal ? { signal } : {}) })).stdout;
  } catch (err) {
    throw gitFailed(`cannot read Git remote ${g.remote}`, err);
  }
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha !== undefined && name !== undefined && COMMIT_RE.test(sha)) refs.set(name, sha);
  }
  const short = wanted.replace(/^refs\/(heads|tags)\//, "");
  const candidates =
    g.only === "branch"
      ? [`refs/heads/${short}`]
      : g.only === "tag"
        ? [`refs/tags/${short}^{}`, `refs/tags/${short}`]
        : wanted === "HEAD"
          ? ["HEAD"]
          : [`${wanted}^{}`, wanted, `refs/tags/${wanted}^{}`, `refs/tags/${wanted}`, `refs/heads/${wanted}`];
  for (const name of candidates) {
    const sha = refs.get(name);
    if (sha === undefined) continue;
    // `refs/tags/X^{}` is the commit an annotated tag points at; `refs/tags/X` is the tag object itself.
    const tag = name.endsWith("^{}") ? refs.get(name.slice(0, -3)) : undefined;
    return { commit: sha, ...(tag !== undefined ? { tag } : {}) };
  }
  const what = g.only === undefined ? "ref" : g.only;
  throw new BuildError("ADD_GIT_FAILED", `Git remote ${g.remote} has no ${what} ${JSON.stringify(wanted)} (repository does not contain ref)`, {
    hint: "check the branch, tag or commit in the URL",
  });
}

/**
 * Fetches `commit` from the remote and checks it out (with submodules)
 * into a new temporary directory; `.git` is removed unless `keepGitDir`.
 *
 * @throws BuildError ADD_GIT_FAILED with git's own message; DF_ARGS when the
 *   subdirectory is not a directory of that commit.
 */
export async function checkoutGit(g: GitRef, commit: string, options: { readonly keepGitDir: boolean; readonly signal?: AbortSignal }): Promise<GitCheckout> {
  const work = await mkdtemp(join(tmpdir(), "tsbuild-git-"));
  const dispose = (): Promise<void> => rm(work, { recursive: true, force: true }).catch(() => undefined);
  const repo = join(work, "repo");
  const git = (args: readonly string[]): Promise<unknown> => runTool("git", ["-C", repo, ...args], { env: gitEnv(), ...(options.signal ? { signal: options.signal } : {}) });
  try {
    await runTool("git", ["init", "-q", repo], { env: gitEnv() });
    await git(["remote", "add", "origin", g.remote]);
    // Shallow, by commit, where the server allows it; otherwise the ref (or everything) and check that the commit came.
    const attempts: string[][] = [["fetch", "-q", "--depth=1", "origin", commit]];
    if (g.ref !== undefined && !COMMIT_RE.test(g.ref)) attempts.push(["fetch", "-q", "origin", g.ref]);
    attempts.push(["fetch", "-q", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"]);
    let fetched: unknown;
    for (const args of attempts) {
      try {
        await git(args);
        await git(["cat-file", "-e", `${commit}^{commit}`]);
        fetched = true;
        break;
      } catch (err) {
        fetched = err;
      }
    }
    if (fetched !== true) throw gitFailed(`cannot fetch commit ${commit} from ${g.remote}`, fetched);
    await git(["-c", "advice.detachedHead=false", "checkout", "-q", commit]);
    await git(["-c", "protocol.file.allow=never", "submodule", "update", "--init", "--recursive", "--depth=1", "-q"]).catch((err: unknown) => {
      throw gitFailed(`cannot fetch the submodules of ${g.remote} at ${commit}`, err);
    });
    if (!options.keepGitDir) await rm(join(repo, ".git"), { recursive: true, force: true });
    // Resolved inside the checkout: a repository may hold a symlink `a -> /`, and `#ref:a/etc` must not
    // name the host's /etc (symlinks are followed as the container would, with the checkout as root).
    const dir = g.subdir === "" ? repo : await resolveInRoot(repo, g.subdir);
    if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) {
      throw new BuildError("ADD_GIT_FAILED", `${g.remote} has no directory ${JSON.stringify(g.subdir)} at ${commit}`, { hint: "check the subdirectory after : in the URL fragment" });
    }
    return { dir, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function gitFailed(what: string, err: unknown): BuildError {
  const detail = err instanceof Error ? err.message : String(err);
  return new BuildError("ADD_GIT_FAILED", `${what}: ${detail}`, { cause: err, hint: "check the URL and that this machine can reach the repository (git ls-remote URL)" });
}
