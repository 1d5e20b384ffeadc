/**
 * Every stable error code tsbuild emits, with the process exit status the
 * CLI derives from it. Codes never change meaning once released: scripts and
 * tests match on them. Add new codes here, in their family.
 */
export const ERROR_CODES = {
  /** Dockerfile text that cannot be parsed (bad continuation, bad JSON, bad heredoc...). */
  DF_SYNTAX: { exit: 1, summary: "Dockerfile syntax error" },
  /** A line that starts with a word that is no Dockerfile instruction. */
  DF_UNKNOWN_INSTRUCTION: { exit: 1, summary: "unknown Dockerfile instruction" },
  /** A `--flag` an instruction does not accept, or a flag value of the wrong shape. */
  DF_FLAG: { exit: 1, summary: "invalid instruction flag" },
  /** An instruction whose arguments are missing or malformed (e.g. `ENV PATH`). */
  DF_ARGS: { exit: 1, summary: "invalid instruction arguments" },
  /** A Dockerfile without any instruction, or whose first instruction is not FROM/ARG. */
  DF_STRUCTURE: { exit: 1, summary: "invalid Dockerfile structure" },
  /** Variable expansion failed (`${X:?msg}`, unterminated quote, bad modifier). */
  DF_EXPANSION: { exit: 1, summary: "variable expansion failed" },
  /** A stage or target name that does not exist, or a stage cycle. */
  DF_STAGE: { exit: 1, summary: "invalid stage reference" },
  /** A build check (lint rule) that `# check=error=true` promotes to an error. */
  DF_LINT: { exit: 1, summary: "build check failed" },
  /** The command line itself is wrong: unknown flag, missing value. */
  CLI_USAGE: { exit: 2, summary: "invalid command line" },
  /** A file the user named could not be read. */
  IO_READ: { exit: 1, summary: "cannot read file" },
  /** An image reference that breaks Docker's reference grammar. */
  REF_INVALID: { exit: 1, summary: "invalid image reference" },
  /** The local store has no image or blob under that name. */
  STORE_NOT_FOUND: { exit: 1, summary: "not found in the local store" },
  /** A blob whose bytes do not match its digest or size. */
  DIGEST_MISMATCH: { exit: 1, summary: "content does not match its digest" },
  /** The local store is damaged or was written by an incompatible version. */
  STORE_CORRUPT: { exit: 1, summary: "local store is damaged" },
  /** Another process uses the local store in a way that excludes this command (`prune` while a build runs). */
  STORE_BUSY: { exit: 1, summary: "local store is in use" },
  /** A registry refused credentials (401/403 after authenticating). */
  REGISTRY_AUTH: { exit: 1, summary: "registry authentication failed" },
  /** A registry answered with an error status (with its own error code and message). */
  REGISTRY_ERROR: { exit: 1, summary: "registry request failed" },
  /** The registry could not be reached (DNS, TCP, TLS) after retries. */
  REGISTRY_UNREACHABLE: { exit: 1, summary: "registry unreachable" },
  /** A manifest or index that cannot be used (unknown media type, no matching platform). */
  MANIFEST_INVALID: { exit: 1, summary: "unusable image manifest" },
  /** Docker credentials could not be read or a credential helper failed. */
  CREDENTIALS: { exit: 1, summary: "credentials unavailable" },
  /** A RUN step exited non-zero. */
  STEP_FAILED: { exit: 1, summary: "build step failed" },
  /** A layer tries to write outside its root, or holds an entry the sandbox forbids. */
  LAYER_UNSAFE: { exit: 1, summary: "unsafe layer content" },
  /**
   * A COPY/ADD source that matches nothing: a missing path, or one that
   * `.dockerignore` hides from the build context (BuildKit's `"/x": not found`).
   */
  COPY_SOURCE_NOT_FOUND: { exit: 1, summary: "COPY/ADD source not found" },
  /**
   * A COPY/ADD whose destination cannot take the source: a directory copied
   * onto a non-directory, a file onto a directory, a path that escapes
   * through too many symlinks.
   */
  COPY_DEST_CONFLICT: { exit: 1, summary: "COPY/ADD destination conflict" },
  /** Reading a COPY/ADD source or writing its destination failed (permissions, disk full). */
  COPY_IO: { exit: 1, summary: "COPY/ADD input/output error" },
  /** An ADD URL could not be fetched (network failure or a non-2xx answer). */
  ADD_DOWNLOAD_FAILED: { exit: 1, summary: "ADD download failed" },
  /** A local archive ADD unpacks that is corrupt, or holds an entry that would land outside the destination. */
  ADD_ARCHIVE_INVALID: { exit: 1, summary: "ADD archive cannot be unpacked" },
  /** An `ADD` of a Git repository failed: the remote, the ref, or the fetch (with git's message). */
  ADD_GIT_FAILED: { exit: 1, summary: "ADD of a Git repository failed" },
  /** The work was cancelled (Ctrl-C, AbortSignal). */
  ABORTED: { exit: 130, summary: "cancelled" },
  /** A bug: an invariant tsbuild relies on did not hold. */
  INTERNAL: { exit: 70, summary: "internal error" },
} as const satisfies Record<string, { exit: number; summary: string }>;

/** A stable error code: one of the keys of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;
