/**
 * The contract between the build engine and whatever isolates one RUN step.
 * The engine prepares a root filesystem and a {@link ProcessSpec}; a
 * {@link Sandbox} runs the process in it and reports how it ended. The runc
 * implementation lives in `runc-sandbox.ts`; tests or other runtimes can
 * provide their own.
 */

/** The identity the process runs as, already resolved to numbers (see `user.ts`). */
export interface ProcessUser {
  /** Numeric user id. */
  readonly uid: number;
  /** Numeric primary group id. */
  readonly gid: number;
  /** Supplementary group ids (from `/etc/group`), in file order. */
  readonly additionalGids: readonly number[];
}

/** Network mode of a RUN step (`RUN --network=`). */
export type NetworkMode = "host" | "none";

/** An extra mount for the process (a `RUN --mount`, a cache directory, a secret...). */
export interface SandboxMount {
  /** `bind` mounts a host path; `tmpfs` mounts an empty in-memory filesystem. */
  readonly type: "bind" | "tmpfs";
  /** Host path for `bind`; ignored for `tmpfs`. */
  readonly source?: string;
  /** Absolute path inside the container. */
  readonly destination: string;
  /** Extra mount options (e.g. `size=64m` for tmpfs, `nosuid`). */
  readonly options?: readonly string[];
  /** Mount read-only. */
  readonly readonly?: boolean;
}

/** Everything needed to run one process in a sandbox. */
export interface ProcessSpec {
  /** An already-mounted directory used as `/`. The sandbox never unmounts it. */
  readonly rootfs: string;
  /** argv; `args[0]` is looked up in the container's `PATH` by the runtime. */
  readonly args: readonly string[];
  /** `KEY=value` entries, exactly as the process will see them. */
  readonly env: readonly string[];
  /** Absolute working directory inside the container; created if missing. */
  readonly cwd: string;
  /** Resolved numeric identity. */
  readonly user: ProcessUser;
  /** Host name inside the UTS namespace. */
  readonly hostname: string;
  /** `none`: own network namespace with only loopback. `host`: the host's network. */
  readonly network: NetworkMode;
  /** Extra mounts, applied after the defaults (a mount on the same destination replaces a default one). */
  readonly mounts?: readonly SandboxMount[];
  /** Content of `/etc/hosts`; defaults to `localhost` entries plus {@link hostname}. */
  readonly hostsFile?: string;
  /** Content of `/etc/resolv.conf`; defaults to the host's, filtered as Docker does. */
  readonly resolvConf?: string;
  /** Capability names (`CAP_CHOWN` or `CHOWN`) replacing Docker's default set. */
  readonly capabilities?: readonly string[];
  /** Mount the root filesystem read-only. */
  readonly readonlyRootfs?: boolean;
  /**
   * Set `no_new_privs` (default true): setuid binaries and file capabilities
   * then cannot raise privileges. BuildKit leaves it off, so `sudo`/`su`
   * inside a RUN step need this set to false.
   */
  readonly noNewPrivileges?: boolean;
}

/** Which output stream a chunk came from. */
export type OutputStream = "stdout" | "stderr";

/** Options for {@link Sandbox.run}. */
export interface RunOptions {
  /** Aborting kills the process and rejects with a `ABORTED` BuildError once cleanup is done. */
  readonly signal?: AbortSignal;
  /** Receives output as it is produced, unbuffered and unmodified. */
  readonly onOutput?: (stream: OutputStream, chunk: Buffer) => void;
}

/** How the process ended. */
export interface RunResult {
  /**
   * Exit status of the process. A process killed by signal N is reported as
   * 128+N, as a shell would (runc cannot tell the two apart either).
   */
  readonly exitCode: number;
  /** Set when the runtime itself was killed by this signal (e.g. `SIGKILL`). */
  readonly signal?: string;
}

/** Runs one process in isolation. */
export interface Sandbox {
  /**
   * Runs `spec` to completion. Resolves with the exit status, whatever it is;
   * rejects with a BuildError when the process could not be started
   * (`STEP_FAILED`, with the runtime's message) or was aborted (`ABORTED`).
   * Nothing of the run (container, bundle, mount stubs) is left behind in
   * either case.
   */
  run(spec: ProcessSpec, options?: RunOptions): Promise<RunResult>;
}
