/** Shared by the image command tests: temp dirs, a CLI runner with binary stdio, tar inspection. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { promisify } from "node:util";
import { afterEach } from "vitest";
import type { CliIo } from "../../../src/cli/command.js";
import { main } from "../../../src/cli/main.js";
import type { BinaryStdio } from "../../../src/cli/store-options.js";
import { readTar } from "../../../src/oci/layer/tar-reader.js";
import { openStore, type LocalStore } from "../../../src/store/store.js";

export const exec = promisify(execFile);

const dirs: string[] = [];

/** A fresh temp directory, removed after the test. */
export async function tempDir(prefix = "tsbuild-image-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A store in a fresh temp root. */
export async function tempStore(): Promise<LocalStore> {
  return openStore({ root: await tempDir("tsbuild-image-store-") });
}

/** What a CLI run printed (text and binary stdout) and returned. */
export interface BinaryCliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** Everything written to the binary standard output. */
  readonly stdout: Buffer;
}

/** Runs `tsbuild ARGV` in-process, with binary stdin/stdout (neither a terminal unless asked). */
export async function runBinaryCli(
  argv: string[],
  options: { cwd: string; stdin?: Buffer; stdinIsTTY?: boolean; stdoutIsTTY?: boolean; env?: NodeJS.ProcessEnv },
): Promise<BinaryCliRun> {
  let out = "";
  let err = "";
  const stdoutStream = Object.assign(new PassThrough(), { isTTY: options.stdoutIsTTY === true });
  const chunks: Buffer[] = [];
  stdoutStream.on("data", (c: Buffer) => chunks.push(c));
  const stdinStream = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: options.stdinIsTTY === true });
  const io: CliIo & BinaryStdio = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    env: options.env ?? {},
    cwd: options.cwd,
    readStdin: async () => options.stdin ?? Buffer.alloc(0),
    signal: new AbortController().signal,
    stdoutStream,
    stdinStream,
  };
  const code = await main(argv, io);
  return { code, out, err, stdout: Buffer.concat(chunks) };
}

/** The members of a tar file: name to content (directories map to an empty buffer). */
export async function tarMembers(file: string | Buffer): Promise<Map<string, Buffer>> {
  const data = typeof file === "string" ? await readFile(file) : file;
  const members = new Map<string, Buffer>();
  for await (const { header, body } of readTar(Readable.from([data]))) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    members.set(header.name, Buffer.concat(parts));
  }
  return members;
}

/** Offset of the data of member `name` in the tar bytes `data` (ustar names only). */
export function memberDataOffset(data: Buffer, name: string): number {
  let offset = 0;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const prefix = header.subarray(345, 500).toString("latin1").replace(/\0.*$/s, "");
    const base = header.subarray(0, 100).toString("latin1").replace(/\0.*$/s, "");
    const size = parseInt(header.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    const full = prefix === "" ? base : `${prefix}/${base}`;
    if (full === name) return offset + 512;
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no member ${name}`);
}
