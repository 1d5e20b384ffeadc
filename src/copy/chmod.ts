/**
 * `COPY --chmod` values: octal (`0644`, `755`) or symbolic (`u+x`,
 * `u=rwX,go=rX`, accepted since Dockerfile 1.14). BuildKit parses octal
 * itself (`strconv.ParseUint(s, 8, 32)`, at most 07777) and hands symbolic
 * modes to `github.com/tonistiigi/dchapes-mode`, a Go port of BSD
 * `setmode(3)`/`getmode(3)`; {@link parseChmod} reproduces both, including
 * BSD's rules that `X` looks at the *original* mode (any execute bit set,
 * or a directory), that `s` is ignored for `o` alone, and that `t` only
 * applies when someone other than `o` is named. buildkitd runs with umask 0,
 * so clauses without a who (`+x`) affect all of u, g and o.
 */

import { BuildError } from "../diagnostics/build-error.js";

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IRWXU = 0o700;
const S_IRWXG = 0o070;
const S_IRWXO = 0o007;
const READ = 0o444;
const WRITE = 0o222;
const EXEC = 0o111;
/** BSD STANDARD_BITS: set-id and rwx for everyone; the sticky bit is handled apart. */
const STANDARD = S_ISUID | S_ISGID | S_IRWXU | S_IRWXG | S_IRWXO;

const CLEAR = 1;
const SET = 2;
const GBITS = 4;
const OBITS = 8;
const UBITS = 16;

interface BitCmd {
  cmd: "+" | "-" | "X" | "u" | "g" | "o";
  cmd2: number;
  bits: number;
}

/** A parsed `--chmod` value that can be applied to a file's mode. */
export interface ChmodSpec {
  /** The value as written. */
  readonly text: string;
  /** The octal mode, when the value was octal; undefined for a symbolic mode. */
  readonly octal: number | undefined;
  /**
   * The permission bits (`& 0o7777`) a copied entry gets, given its
   * current mode bits and whether it is a directory.
   */
  apply(mode: number, isDir: boolean): number;
}

function syntax(text: string, why: string): BuildError {
  return new BuildError("DF_FLAG", `invalid chmod parameter: '${text}'. ${why}`, {
    hint: "use an octal mode such as 755, or a symbolic one such as u+x or u=rwX,go=rX",
  });
}

/**
 * Parses a `--chmod` value.
 *
 * @throws BuildError DF_FLAG with BuildKit's message for an octal value
 *   above 07777 or a malformed one ("it should be octal string and between
 *   0 and 07777").
 */
export function parseChmod(text: string): ChmodSpec {
  if (/^[0-9]+$/.test(text)) {
    if (!/^[0-7]+$/.test(text) || Number.parseInt(text, 8) > 0o7777) {
      throw syntax(text, "it should be octal string and between 0 and 07777");
    }
    const octal = Number.parseInt(text, 8);
    return { text, octal, apply: () => octal };
  }
  if (/^[0-9]/.test(text)) throw syntax(text, "it should be octal string and between 0 and 07777");
  const cmds = compileSymbolic(text);
  return { text, octal: undefined, apply: (mode, isDir) => applyCmds(cmds, mode & 0o7777, isDir) };
}

/** dchapes-mode `ParseWithUmask(s, 0)` for a symbolic mode: the list of bit commands. */
function compileSymbolic(text: string): BitCmd[] {
  const mask = 0o7777; // ^umask with umask 0
  const cmds: BitCmd[] = [];
  const add = (op: "+" | "-" | "=" | "X" | "u" | "g" | "o", who: number, oparg: number | string): void => {
    if (op === "=" ) {
      cmds.push({ cmd: "-", cmd2: 0, bits: who !== 0 ? who : STANDARD });
      op = "+";
    }
    if (op === "+" || op === "-" || op === "X") {
      cmds.push({ cmd: op, cmd2: 0, bits: who !== 0 ? who & (oparg as number) : mask & (oparg as number) });
      return;
    }
    let cmd2 = 0;
    let bits: number;
    if (who !== 0) {
      if ((who & 0o400) !== 0) cmd2 |= UBITS;
      if ((who & 0o040) !== 0) cmd2 |= GBITS;
      if ((who & 0o004) !== 0) cmd2 |= OBITS;
      bits = ~0;
    } else {
      cmd2 = UBITS | GBITS | OBITS;
      bits = mask;
    }
    if (oparg === "+") cmd2 |= SET;
    else if (oparg === "-") cmd2 |= CLEAR;
    else cmd2 |= SET | CLEAR;
    cmds.push({ cmd: op, cmd2, bits });
  };

  let s = text;
  let equalOpDone = false;
  for (;;) {
    let who = 0;
    for (;;) {
      const c = s[0];
      if (c === "a") who |= STANDARD;
      else if (c === "u") who |= S_ISUID | S_IRWXU;
      else if (c === "g") who |= S_ISGID | S_IRWXG;
      else if (c === "o") who |= S_IRWXO;
      else break;
      s = s.slice(1);
    }
    getop: for (;;) {
      const op = s[0];
      if (op !== "+" && op !== "-" && op !== "=") throw syntax(text, "it should be octal string and between 0 and 07777, or a symbolic mode such as u+x");
      s = s.slice(1);
      if (op === "=") equalOpDone = false;
      who &= ~S_ISVTX;
      let perm = 0;
      let permX = 0;
      for (;;) {
        const b = s[0];
        if (b === "r") perm |= READ;
        else if (b === "s") {
          // Set-id bits mean nothing for "other" alone.
          if (who === 0 || (who & ~S_IRWXO) !== 0) perm |= S_ISUID | S_ISGID;
        } else if (b === "t") {
          if (who === 0 || (who & ~S_IRWXO) !== 0) {
            who |= S_ISVTX;
            perm |= S_ISVTX;
          }
        } else if (b === "w") perm |= WRITE;
        else if (b === "X") {
          if (op === "+") permX = EXEC;
        } else if (b === "x") perm |= EXEC;
        else if (b === "u" || b === "g" || b === "o") {
          if (perm !== 0) {
            add(op, who, perm);
            perm = 0;
          }
          if (op === "=") equalOpDone = true;
          if (permX !== 0) {
            add("X", who, permX);
            permX = 0;
          }
          add(b, who, op);
        } else {
          if (perm !== 0 || (op === "=" && !equalOpDone)) {
            if (op === "=") equalOpDone = true;
            add(op, who, perm);
            perm = 0;
          }
          if (permX !== 0) {
            add("X", who, permX);
            permX = 0;
          }
          break;
        }
        s = s.slice(1);
      }
      if (s === "") return compress(cmds);
      if (s[0] !== ",") continue getop;
      s = s.slice(1);
      if (s === "") throw syntax(text, "a symbolic mode cannot end with ','");
      break;
    }
  }
}

/** dchapes-mode `compress`: consecutive +, - and X commands merged (same results, fewer steps). */
function compress(cmds: BitCmd[]): BitCmd[] {
  const out: BitCmd[] = [];
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i] as BitCmd;
    if (c.cmd !== "+" && c.cmd !== "-" && c.cmd !== "X") {
      out.push(c);
      continue;
    }
    let setbits = 0;
    let clrbits = 0;
    let xbits = 0;
    for (; i < cmds.length; i++) {
      const d = cmds[i] as BitCmd;
      if (d.cmd === "-") {
        clrbits |= d.bits;
        setbits &= ~d.bits;
        xbits &= ~d.bits;
      } else if (d.cmd === "+") {
        setbits |= d.bits;
        clrbits &= ~d.bits;
        xbits &= ~d.bits;
      } else if (d.cmd === "X") {
        xbits |= d.bits & ~setbits;
      } else {
        i--;
        break;
      }
    }
    if (clrbits !== 0) out.push({ cmd: "-", cmd2: 0, bits: clrbits });
    if (setbits !== 0) out.push({ cmd: "+", cmd2: 0, bits: setbits });
    if (xbits !== 0) out.push({ cmd: "X", cmd2: 0, bits: xbits });
  }
  return out;
}

/** dchapes-mode `Set.Apply` on permission bits. */
function applyCmds(cmds: readonly BitCmd[], omode: number, isDir: boolean): number {
  let newmode = omode;
  const common = (c: BitCmd, value: number): void => {
    if ((c.cmd2 & CLEAR) !== 0) {
      const clrval = (c.cmd2 & SET) !== 0 ? S_IRWXO : value;
      if ((c.cmd2 & UBITS) !== 0) newmode &= ~((clrval << 6) & c.bits);
      if ((c.cmd2 & GBITS) !== 0) newmode &= ~((clrval << 3) & c.bits);
      if ((c.cmd2 & OBITS) !== 0) newmode &= ~(clrval & c.bits);
    }
    if ((c.cmd2 & SET) !== 0) {
      if ((c.cmd2 & UBITS) !== 0) newmode |= (value << 6) & c.bits;
      if ((c.cmd2 & GBITS) !== 0) newmode |= (value << 3) & c.bits;
      if ((c.cmd2 & OBITS) !== 0) newmode |= value & c.bits;
    }
  };
  for (const c of cmds) {
    switch (c.cmd) {
      case "u":
        common(c, (newmode & S_IRWXU) >> 6);
        break;
      case "g":
        common(c, (newmode & S_IRWXG) >> 3);
        break;
      case "o":
        common(c, newmode & S_IRWXO);
        break;
      case "+":
        newmode |= c.bits;
        break;
      case "-":
        newmode &= ~c.bits;
        break;
      case "X":
        if ((omode & EXEC) !== 0 || isDir) newmode |= c.bits;
        break;
    }
  }
  return newmode & 0o7777;
}
