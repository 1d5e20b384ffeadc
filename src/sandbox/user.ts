import { BuildError } from "../diagnostics/build-error.js";
import { readFileInRoot } from "./root-path.js";
import type { ProcessUser } from "./sandbox.js";

/**
 * Dockerfile `USER` resolution, with the semantics of BuildKit's
 * `executor/oci.GetUser` on top of `github.com/moby/sys/user.GetExecUser`:
 * which file lines count, which matches win, when supplementary groups are
 * added, and the error texts, so that a build resolves to the same ids as
 * with docker.
 */

/** Smallest and largest id GetExecUser accepts (31 bits, for 32-bit systems). */
const MIN_ID = 0;
const MAX_ID = 2 ** 31 - 1;

/** A resolved identity: what the process runs as, plus the passwd home directory if one matched. */
export interface ResolvedUser extends ProcessUser {
  /** Home directory from the matching passwd entry, when there was one. */
  readonly home?: string;
}

/** One `/etc/passwd` entry. */
export interface PasswdEntry {
  /** Login name. */
  readonly name: string;
  /** User id (0 when the field is not a number, as moby/sys/user does). */
  readonly uid: number;
  /** Primary group id. */
  readonly gid: number;
  /** Home directory. */
  readonly home: string;
}

/** One `/etc/group` entry. */
export interface GroupEntry {
  /** Group name. */
  readonly name: string;
  /** Group id. */
  readonly gid: number;
  /** Member login names. */
  readonly members: readonly string[];
}

/**
 * Go's `strconv.Atoi`: an optional sign and decimal digits. Like Go, a
 * syntax error yields 0 and an out-of-range value is clamped; `ok` tells
 * whether parsing succeeded.
 */
function goAtoi(text: string): { value: number; ok: boolean } {
  if (!/^[+-]?[0-9]+$/.test(text)) return { value: 0, ok: false };
  const n = BigInt(text);
  const max = 2n ** 63n - 1n;
  const min = -(2n ** 63n);
  if (n > max) return { value: Number(max), ok: false };
  if (n < min) return { value: Number(min), ok: false };
  return { value: Number(n), ok: true };
}

/** Lines of a passwd/group file: split as bufio.ScanLines, trimmed, blank ones dropped. */
function fileLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * Parses `/etc/passwd` text as moby/sys/user does: fields split on `:`,
 * missing fields empty, non-numeric ids read as 0, and no comment syntax (a
 * `#` line is an entry named `#...`).
 */
export function parsePasswd(text: string): PasswdEntry[] {
  return fileLines(text).map((line) => {
    const [name = "", , uid = "", gid = "", , home = ""] = line.split(":");
    return { name, uid: goAtoi(uid).value, gid: goAtoi(gid).value, home };
  });
}

/** Parses `/etc/group` text as moby/sys/user does; unlike passwd, `#` lines are comments. */
export function parseGroup(text: string): GroupEntry[] {
  return fileLines(text)
    .filter((line) => !line.startsWith("#"))
    .map((line) => {
      const [name = "", , gid = "", list = ""] = line.split(":");
      return { name, gid: goAtoi(gid).value, members: list === "" ? [] : list.split(",") };
    });
}

function userError(message: string): BuildError {
  return new BuildError("STEP_FAILED", message, {
    hint: "USER must name an entry of the image's /etc/passwd (or /etc/group for the group), or be numeric",
  });
}

function rangeError(): BuildError {
  return new BuildError("STEP_FAILED", `uids and gids must be in range ${MIN_ID}-${MAX_ID}`);
}

/**
 * `GetExecUser(userSpec, nil, passwd, group)`: resolves `user`, `uid`,
 * `user:group`, `uid:gid`, `user:gid` or `uid:group` against file contents
 * (`undefined` = file missing). Pure.
 *
 * - A numeric user is always a uid, never a name; it need not be in passwd
 *   (gid then stays 0 unless given).
 * - A name must be in passwd ("unable to find user NAME: no matching entries
 *   in passwd file"); the first matching line wins.
 * - Without an explicit group, supplementary groups are those listing the
 *   matched user name in `/etc/group`, in file order. With one, there are none.
 */
export function getExecUser(spec: string, passwd: string | undefined, group: string | undefined): ResolvedUser {
  const [userArg = "", groupArg = ""] = spec.split(":");
  const uidArg = goAtoi(userArg);
  const gidArg = goAtoi(groupArg);

  let uid = 0;
  let gid = 0;
  let home: string | undefined;
  let additionalGids: number[] = [];

  const users = (passwd === undefined ? [] : parsePasswd(passwd)).filter((u) => {
    if (userArg === "") return u.uid === 0;
    if (uidArg.ok) return u.uid === uidArg.value;
    return u.name === userArg;
  });

  let matchedName = "";
  const first = users[0];
  if (first !== undefined) {
    matchedName = first.name;
    uid = first.uid;
    gid = first.gid;
    home = first.home;
  } else if (userArg !== "") {
    if (!uidArg.ok) throw userError(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg.value;
    if (uid < MIN_ID || uid > MAX_ID) throw rangeError();
  }

  if (groupArg !== "" || matchedName !== "") {
    const groups = (group === undefined ? [] : parseGroup(group)).filter((g) => {
      if (groupArg === "") return g.members.includes(matchedName);
      if (gidArg.ok) return g.gid === gidArg.value;
      return g.name === groupArg;
    });
    if (groupArg !== "") {
      const firstGroup = groups[0];
      if (firstGroup !== undefined) {
        gid = firstGroup.gid;
      } else {
        if (!gidArg.ok) throw userError(`unable to find group ${groupArg}: no matching entries in group file`);
        gid = gidArg.value;
        if (gid < MIN_ID || gid > MAX_ID) throw rangeError();
      }
    } else if (groups.length > 0) {
      additionalGids = groups.map((g) => g.gid);
    }
  }

  return home === undefined ? { uid, gid, additionalGids } : { uid, gid, additionalGids, home };
}

/** BuildKit's `parseUID`: `root` or an unsigned 32-bit decimal. */
function parseFastId(text: string): number | undefined {
  if (text === "root") return 0;
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

/**
 * BuildKit's fast path: a spec with both parts numeric (or `root`) is used as
 * is, without reading any file and without supplementary groups.
 */
export function parseUidGid(spec: string): { uid: number; gid: number } | undefined {
  const colon = spec.indexOf(":");
  if (colon < 0) return undefined;
  const uid = parseFastId(spec.slice(0, colon));
  const gid = parseFastId(spec.slice(colon + 1));
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** Options for {@link resolveUser}. */
export interface ResolveUserOptions {
  /** The container root filesystem; only files inside it are read. */
  readonly rootfs: string;
  /** The Dockerfile `USER` value; empty means the default (root). */
  readonly user: string;
}

/**
 * Resolves a Dockerfile `USER` value against the rootfs's `/etc/passwd` and
 * `/etc/group`, as BuildKit does before every RUN step. The files are read
 * through {@link readFileInRoot}: a symlinked `/etc/passwd` is followed only
 * within the rootfs, so a malicious image cannot make tsbuild read (or leak
 * ids from) the host's files. A missing or unreadable file counts as absent.
 *
 * Throws a `STEP_FAILED` BuildError naming the user or group that was not
 * found; the default user never fails (a scratch image has no passwd).
 */
export async function resolveUser(options: ResolveUserOptions): Promise<ResolvedUser> {
  const isDefault = options.user === "";
  const spec = isDefault ? "0" : options.user;
  const fast = parseUidGid(spec);
  if (fast !== undefined) return { ...fast, additionalGids: [] };

  const [passwd, group] = await Promise.all([
    readFileInRoot(options.rootfs, "/etc/passwd"),
    readFileInRoot(options.rootfs, "/etc/group"),
  ]);
  try {
    return getExecUser(spec, passwd?.toString("utf8"), group?.toString("utf8"));
  } catch (err) {
    if (isDefault) return { uid: 0, gid: 0, additionalGids: [] };
    throw err;
  }
}
