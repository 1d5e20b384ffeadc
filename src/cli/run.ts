import type { CliIo } from "./command.js";
import { main } from "./main.js";

/**
 * The process entry: wires stdin/stdout/signals into {@link CliIo} and sets
 * the exit status. `bin/tsbuild` runs it through `launcher.cts` (bundled into
 * `dist/bundle/`), or directly when there is no bundle. No top-level await:
 * the bundle is CommonJS.
 */
// bin/tsbuild moves NODE_EXTRA_CA_CERTS aside so Node does not parse the
// whole CA bundle at start-up (tls-trust.ts loads it when a TLS connection
// is made). Programs tsbuild starts (credential helpers) get it back.
if (process.env.TSBUILD_EXTRA_CA_CERTS && !process.env.NODE_EXTRA_CA_CERTS) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.TSBUILD_EXTRA_CA_CERTS;
}

const controller = new AbortController();
let interrupted = 0;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    interrupted++;
    // First signal: cancel cleanly (running steps stop, mounts are undone).
    // Second: the user insists; leave now.
    if (interrupted > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  });
}

const io: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
  signal: controller.signal,
};

void main(process.argv.slice(2), io).then((status) => {
  process.exitCode = status;
});
