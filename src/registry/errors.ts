/**
 * Turning registry failures into {@link BuildError}s a user can act on.
 *
 * Every message names what was being done, to which repository on which
 * registry host, the HTTP status, and the registry's own error code and
 * message from its JSON error body
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes).
 *
 * Security: messages are built only from values we choose (host, repository,
 * status, the registry's error code/message) and from URLs passed through
 * {@link redactUrl}. Request or response headers are never included, since
 * they carry `Authorization` and tokens.
 */
import { STATUS_CODES } from "node:http";
import { BuildError } from "../diagnostics/build-error.js";
import type { ErrorCode } from "../diagnostics/error-codes.js";

/** One entry of a registry's `{"errors": [...]}` body. */
export interface RegistryErrorEntry {
  /** The registry's error code, e.g. `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`. */
  readonly code: string;
  /** The registry's human message. */
  readonly message: string;
}

/** Longest registry message kept, so a registry answering with an HTML page cannot flood the terminal. */
const MAX_MESSAGE = 300;

/**
 * Parses a registry error body. Accepts the distribution-spec shape
 * `{"errors":[{"code","message","detail"}]}`, and falls back to a single
 * entry with an empty code whose message is the (shortened) body text when
 * the body is not that JSON (proxies answer with HTML or plain text).
 * Returns an empty list for an empty body.
 */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    const errors = (parsed as { errors?: unknown } | null)?.errors;
    if (Array.isArray(errors)) {
      return errors.flatMap((e: unknown): RegistryErrorEntry[] => {
        if (typeof e !== "object" || e === null) return [];
        const { code, message } = e as { code?: unknown; message?: unknown };
        return [
          {
            code: typeof code === "string" ? code : "",
            message: typeof message === "string" ? shorten(message) : "",
          },
        ];
      });
    }
    // Token servers answer `{"error": "...", "error_description": "..."}` (OAuth2) or `{"details": "..."}`.
    const { error, error_description: description, details } = parsed as Record<string, unknown>;
    const msg = [error, description, details].filter((v): v is string => typeof v === "string").join(": ");
    if (msg !== "") return [{ code: "", message: shorten(msg) }];
  } catch {
    // Not JSON: fall through to the raw text.
  }
  // Strip tags so an HTML error page reads as its text.
  const plain = trimmed.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return plain === "" ? [] : [{ code: "", message: shorten(plain) }];
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > MAX_MESSAGE ? `${one.slice(0, MAX_MESSAGE)}...` : one;
}

/** `404 Not Found`: a status with its standard reason phrase. */
export function formatStatus(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/**
 * Removes what must never be printed from a URL: userinfo (`user:pass@`),
 * the query string and fragment. Queries are dropped whole because redirect
 * targets on object storage are pre-signed URLs whose query (e.g.
 * `X-Amz-Signature`) grants access by itself. Unparseable input is reduced
 * to `<url>`.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return "<url>";
  }
  const hadQuery = u.search !== "";
  u.username = "";
  u.password = "";
  u.search = "";
  u.hash = "";
  return hadQuery ? `${u.toString()}?...` : u.toString();
}

/** What a failed request was doing, for {@link registryError}. */
export interface RegistryErrorContext {
  /** The registry host, e.g. `127.0.0.1:5000` or `registry-1.docker.io`. */
  readonly host: string;
  /** The repository, e.g. `library/alpine`. Omitted for registry-wide calls (`/v2/`). */
  readonly repository?: string;
  /** Tag or digest the request was about, appended as `:tag` / `@digest`. */
  readonly reference?: string;
  /**
   * What was being done, phrased to precede the name: `pulling manifest`,
   * `pushing blob sha256:...`, `checking`. Used when no more specific phrase applies.
   */
  readonly action: string;
  /** True for pull-side operations: enables Docker's "pull access denied" phrasing. */
  readonly pull?: boolean;
}

/** `host/repo:tag`, `host/repo@sha256:...` or `host`. */
export function displayName(ctx: Pick<RegistryErrorContext, "host" | "repository" | "reference">): string {
  if (ctx.repository === undefined) return ctx.host;
  const base = `${ctx.host}/${ctx.repository}`;
  if (ctx.reference === undefined) return base;
  return ctx.reference.includes(":") ? `${base}@${ctx.reference}` : `${base}:${ctx.reference}`;
}

/**
 * Builds the BuildError for a registry's error response. 401 and 403 map to
 * REGISTRY_AUTH, everything else to REGISTRY_ERROR. The message reads e.g.
 * `pull access denied for 127.0.0.1:5000/foo: 404 Not Found: NAME_UNKNOWN: repository name not known to registry`.
 */
export function registryError(ctx: RegistryErrorContext, status: number, bodyText: string): BuildError {
  const entries = parseErrorBody(bodyText);
  const codes = new Set(entries.map((e) => e.code));
  const name = displayName(ctx);
  const repoName = displayName({ host: ctx.host, repository: ctx.repository });
  let code: ErrorCode = status === 401 || status === 403 ? "REGISTRY_AUTH" : "REGISTRY_ERROR";
  let subject: string;
  let hint: string | undefined;
  if (ctx.pull === true && (codes.has("NAME_UNKNOWN") || status === 401 || status === 403 || codes.has("DENIED"))) {
    // Docker's wording: registries answer 401/403 for repositories that do not
    // exist, to avoid leaking which private names exist.
    subject = `pull access denied for ${repoName}`;
    hint = "the repository does not exist or may require 'tsbuild login'";
  } else if (codes.has("MANIFEST_UNKNOWN") && ctx.repository !== undefined) {
    subject = `manifest for ${name} not found`;
  } else if (codes.has("BLOB_UNKNOWN") && ctx.repository !== undefined) {
    subject = `${ctx.action} ${name}: blob not found`;
  } else {
    subject = `${ctx.action} ${name}`;
    if (code === "REGISTRY_AUTH") hint = `check the credentials for ${ctx.host} ('tsbuild login ${ctx.host}')`;
  }
  if (codes.has("DIGEST_INVALID") || codes.has("SIZE_INVALID")) code = "DIGEST_MISMATCH";
  const details = entries.map((e) => (e.code === "" ? e.message : e.message === "" ? e.code : `${e.code}: ${e.message}`));
  const message = [subject, formatStatus(status), ...details.filter((d) => d !== "")].join(": ");
  return new BuildError(code, message, hint === undefined ? {} : { hint });
}

/**
 * The REGISTRY_UNREACHABLE error for a request that got no HTTP answer
 * (refused, reset, TLS failure, timeout) even after retries. Only the
 * error's code and message are shown; the error stays as `cause`.
 */
export function unreachableError(host: string, err: unknown): BuildError {
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  const detail = code !== undefined && !msg.includes(code) ? `${code}: ${msg}` : msg;
  return new BuildError("REGISTRY_UNREACHABLE", `cannot reach registry ${host}: ${detail}`, {
    cause: err,
    hint: isTlsError(err)
      ? `if ${host} serves plain HTTP, pass --insecure-registry ${host} (or set TSBUILD_INSECURE_REGISTRIES)`
      : undefined,
  });
}

function isTlsError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  const msg = err instanceof Error ? err.message : "";
  return (
    (typeof code === "string" && (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code.includes("CERT"))) ||
    /wrong version number|ssl|tls/i.test(msg)
  );
}
