import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withSshProxy } from "../../../src/solve/ops/ssh-proxy.js";
import { useBusyboxRegistry } from "../../helpers/busybox-registry.js";
import { makeContext, runTsbuild } from "../../helpers/tsbuild-process.js";

const fixture = useBusyboxRegistry();

/** A stand-in agent: answers every chunk with "pong:" and the chunk. */
let agent: Server;
let agentPath: string;
beforeAll(async () => {
  agentPath = join(mkdtempSync(join(tmpdir(), "tsb-agent-")), "agent.sock");
  agent = createServer((c) => c.on("data", (d) => c.write(`pong:${d.toString()}`)));
  await new Promise<void>((r) => agent.listen(agentPath, r));
});
afterAll(async () => {
  await new Promise((r) => agent.close(r));
});

function ask(socket: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket, () => c.write(text));
    c.on("data", (d) => {
      resolve(d.toString());
      c.destroy();
    });
    c.on("error", reject);
  });
}

// BuildKit forwards the client's agent through its session to a socket in the
// container (default /run/buildkit/ssh_agent.N, 0600 root) and sets SSH_AUTH_SOCK.
describe("--ssh and RUN --mount=type=ssh", () => {
  test("the proxy socket forwards to the agent, with the mount's owner and mode, and is gone afterwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsb-ssh-"));
    let seen = "";
    await withSshProxy(agentPath, { uid: 1000, gid: 1000, mode: 0o660 }, dir, async (socket) => {
      const st = statSync(socket);
      expect([st.isSocket(), st.uid, st.gid, st.mode & 0o777]).toEqual([true, 1000, 1000, 0o660]);
      seen = await ask(socket, "ping");
      expect(existsSync(socket)).toBe(true);
    });
    expect(seen).toBe("pong:ping");
    expect(execFileSync("ls", ["-A", dir]).toString()).toBe("");
  });

  test("a RUN sees the agent socket at its target with SSH_AUTH_SOCK set; nothing of it stays in the image", async () => {
    const ctx = makeContext({
      Dockerfile: [
        `FROM ${fixture.base}`,
        `RUN --mount=type=ssh,mode=0666,uid=1000 test -S "$SSH_AUTH_SOCK" && stat -c '%a %u' "$SSH_AUTH_SOCK" > /ssh.txt && echo "$SSH_AUTH_SOCK" >> /ssh.txt`,
        "",
      ].join("\n"),
    });
    const env = { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")), SSH_AUTH_SOCK: agentPath };
    const r = await runTsbuild(["build", "--ssh", "default", "-o", "type=tar,dest=fs.tar", "."], { cwd: ctx, env });
    expect(r.code, r.stderr).toBe(0);
    const out = mkdtempSync(join(tmpdir(), "tsb-ssh-out-"));
    execFileSync("tar", ["xf", join(ctx, "fs.tar"), "-C", out]);
    expect(readFileSync(join(out, "ssh.txt"), "utf8")).toBe("666 1000\n/run/buildkit/ssh_agent.0\n");
    expect(execFileSync("tar", ["tf", join(ctx, "fs.tar")]).toString()).not.toMatch(/^(\.\/)?run\//m);
  });

  test("a required agent that was not forwarded fails the step; a key file is refused before the build", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${fixture.base}\nRUN --mount=type=ssh,required=true true\n` });
    const env = { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), "tsb-root-")) };
    const missing = await runTsbuild(["build", "."], { cwd: ctx, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Dockerfile:2:1:');
    expect(missing.stderr).toContain('no SSH key "default" forwarded from the client');
    writeFileSync(join(ctx, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    const key = await runTsbuild(["build", "--ssh", "default=id_ed25519", "."], { cwd: ctx, env });
    expect(key.code).not.toBe(0);
    expect(key.stderr).toContain("is not an agent socket (key files are not supported yet)");
  });
});
