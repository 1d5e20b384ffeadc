/**
 * `COPY --chown=user[:group]` resolution, as BuildKit does it: the value is
 * split at the first `:` by `llb.WithUser`; each part that parses as a
 * number (or is `root`) is an id, anything else is a name looked up in the
 * *destination* stage's `/etc/passwd` and `/etc/group`
 * (solver/llbsolver/file/user_linux.go `readUser`).
 *
 * - `name`: uid and gid from the passwd entry (the user's primary group).
 * - `uid` alone: gid = uid (`UserOpt_ByID` sets both).
 * - `name:group`, `uid:gid`, `name:gid`, `uid:group`: the group part wins.
 * - A user name without an entry (or no passwd file at all) gives uid and
 *   gid 0; an unknown group name leaves the gid as the user part set it.
 *   BuildKit does both silently; tsbuild reports them in
 *   {@link ResolvedOwner.warnings}.
 */

import { BuildError } from "../diagnostics/build-error.js";
import { readFileInRoot } from "../sandbox/root-path.js";
import { parseGroup, parsePasswd } from "../sandbox/user.js";

/** The owner every copied entry gets. */
export interface ResolvedOwner {
  /** User id. */
  readonly uid: number;
  /** Group id. */
  readonly gid: number;
  /** Names that were not found, with the fallback used (BuildKit falls back silently). */
  readonly warnings: readonly string[];
}

const MAX_ID = 2 ** 31 - 1;

/** BuildKit's `parseUID`: `root` or a decimal 32-bit integer; undefined for a name. */
function parseId(text: string, chown: string): number | undefined {
  if (text === "root") return 0;
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ID) {
    throw new BuildError("DF_FLAG", `invalid --chown value "${chown}": ids must be in range 0-${MAX_ID}`);
  }
  return n;
}

/**
 * Resolves a `--chown` value against `destRoot`. Files are read with
 * {@link readFileInRoot}: a symlinked `/etc/passwd` is followed only inside
 * the rootfs, and FIFOs or devices in its place are not read, so a hostile
 * base image can neither leak host ids nor hang the build.
 *
 * @throws BuildError DF_FLAG for an empty user or an id out of range.
 */
export async function resolveChown(chown: string, destRoot: string): Promise<ResolvedOwner> {
  const colon = chown.indexOf(":");
  const userPart = colon < 0 ? chown : chown.slice(0, colon);
  const groupPart = colon < 0 ? undefined : chown.slice(colon + 1);
  if (userPart === "") throw new BuildError("DF_FLAG", `invalid --chown value "${chown}": the user part is empty`);
  const warnings: string[] = [];
  let uid = 0;
  let gid = 0;

  const userId = parseId(userPart, chown);
  if (userId !== undefined) {
    uid = userId;
    gid = userId;
  } else {
    const passwd = await readFileInRoot(destRoot, "/etc/passwd");
    const entry = passwd === undefined ? undefined : parsePasswd(passwd.toString("utf8")).find((u) => u.name === userPart);
    if (entry === undefined) {
      warnings.push(`--chown: user "${userPart}" not found in /etc/passwd of the destination; using uid 0 as BuildKit does`);
    } else {
      uid = entry.uid;
      gid = entry.gid;
    }
  }

  if (groupPart !== undefined) {
    // BuildKit reads "user:" as group id 0 (an empty group name marshals to id 0).
    const groupId = groupPart === "" ? 0 : parseId(groupPart, chown);
    if (groupId !== undefined) {
      gid = groupId;
    } else {
      const group = await readFileInRoot(destRoot, "/etc/group");
      const entry = group === undefined ? undefined : parseGroup(group.toString("utf8")).find((g) => g.name === groupPart);
      if (entry === undefined) {
        // BuildKit leaves the gid it had (the user's) when the group is unknown.
        warnings.push(`--chown: group "${groupPart}" not found in /etc/group of the destination; keeping gid ${gid} as BuildKit does`);
      } else {
        gid = entry.gid;
      }
    }
  }
  return { uid, gid, warnings };
}
