import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

/** Owner and mode of the socket a RUN sees (`RUN --mount=type=ssh,uid=,gid=,mode=`). */
export interface SocketAccess {
  /** Owner uid (default 0). */
  readonly uid?: number;
  /** Owner gid (default 0). */
  readonly gid?: number;
  /** Permission bits (default 0600). */
  readonly mode?: number;
}

/**
 * Runs `fn` with a socket that forwards every connection to the SSH agent
 * at `agent`, as BuildKit's session forwards one: the container gets this
 * socket, owned and moded as the mount says, never the host agent's own
 * (whose owner and mode are not ours to change). Closed, and its directory
 * removed, when `fn` settles.
 */
export async function withSshProxy<T>(agent: string, access: SocketAccess, dir: string, fn: (socket: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(dir, "ssh-"));
  const path = join(home, "agent.sock");
  const clients = new Set<Socket>();
  const server: Server = createServer((client) => {
    clients.add(client);
    const upstream = connect(agent);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      clients.delete(client);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    await chown(path, access.uid ?? 0, access.gid ?? 0);
    await chmod(path, access.mode ?? 0o600);
    return await fn(path);
  } finally {
    for (const c of clients) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(home, { recursive: true, force: true });
  }
}
