/**
 * A client for the OCI distribution API (the Docker registry HTTP API v2)
 * of one registry host: manifests and blobs, pull and push.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 *
 * Authentication, retries, redirects and plain-HTTP policy live in
 * {@link RegistryTransport}; blob upload protocols in upload.ts. Content is
 * verified against digests wherever the client knows one. Manifests are
 * read into memory (bounded); blobs are only ever streamed.
 */
import type { Readable } from "node:stream";
import { BuildError } from "../diagnostics/build-error.js";
import { digestOf, isDigest, parseDigest, type Digest } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import { repositoryScope, type Scope } from "./auth.js";
import { displayName, registryError, unreachableError, type RegistryErrorContext } from "./errors.js";
import { registryHost, type ImageReference } from "./reference.js";
import { abortedError, isRetryableError, withRetry } from "./retry.js";
import { RegistryTransport, headerValue, type RegistryResponse, type SendOptions, type TransportOptions } from "./transport.js";
import { pushBlob, startUpload, type BlobSource, type PushBlobOptions, type PushBlobResult } from "./upload.js";
import { verifyingStream } from "./verify.js";

/**
 * The manifest media types we accept, in preference order: OCI and Docker
 * schema 2, single-platform and index. Registries pick the best match, and
 * without index types they would down-convert or refuse multi-platform images.
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/**
 * Largest manifest we read. Manifests are buffered, so a bound protects
 * memory from a broken or hostile registry; 4 MiB is containerd's limit
 * and far above any real manifest.
 */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

/** Options of {@link RegistryClient}: transport options plus upload tuning. */
export interface RegistryClientOptions extends TransportOptions {
  /** Blobs up to this many bytes are uploaded with one PUT, larger ones in chunks. Default 1 GiB. */
  readonly monolithicThreshold?: number;
  /** Chunk size of chunked uploads; each chunk is held in memory while sent. Default 8 MiB. */
  readonly chunkSize?: number;
}

/** Options every operation accepts. */
export interface RequestOptions {
  /** Cancels the operation (and, for streams, the transfer). */
  readonly signal?: AbortSignal;
}

/** Options of lookups that may precede a push. */
export interface LookupOptions extends RequestOptions {
  /**
   * Ask for pull+push access right away: set when checking before a push,
   * so one `pull,push` token serves the whole push instead of a `pull`
   * token first and a `pull,push` token after.
   */
  readonly forPush?: boolean;
}

/** Options of {@link RegistryClient.getManifest} and {@link RegistryClient.headManifest}. */
export interface ManifestRequestOptions extends LookupOptions {
  /** Media types to accept. Default {@link MANIFEST_ACCEPT}. */
  readonly accept?: readonly string[];
}

/** A fetched manifest. */
export interface FetchedManifest {
  /** The exact bytes (digests are over these; never re-serialize them). */
  readonly bytes: Buffer;
  /** The media type, from `Content-Type` or else the manifest's `mediaType` field. */
  readonly mediaType: string;
  /** sha256 of {@link bytes}: verified when fetched by digest, computed when fetched by tag. */
  readonly digest: Digest;
  /** Byte size. */
  readonly size: number;
}

/** What a manifest HEAD tells. */
export interface ManifestInfo {
  /** The manifest digest (`Docker-Content-Digest`). */
  readonly digest: Digest;
  /** The media type (`Content-Type`). */
  readonly mediaType: string;
  /** Byte size (`Content-Length`). */
  readonly size: number;
}

/** What a blob HEAD tells. */
export interface BlobInfo {
  /** Byte size, when the registry sent `Content-Length`. */
  readonly size: number | undefined;
}

/** Options of {@link RegistryClient.getVerifiedBlob}. */
export interface VerifiedBlobOptions extends RequestOptions {
  /** The exact size from the descriptor; checked along with the digest. */
  readonly size?: number;
}

/** Options of {@link RegistryClient.putManifest}. */
export type PutManifestOptions = RequestOptions;

/** Repository path grammar (distribution/reference's remote-name). Validated because it is spliced into URL paths. */
const REPOSITORY_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** Throws REF_INVALID unless `repository` is a valid repository path. */
export function checkRepository(repository: string): void {
  if (repository.length > 255 || !REPOSITORY_RE.test(repository)) {
    throw new BuildError("REF_INVALID", `invalid repository name "${repository}"`);
  }
}

/** Throws REF_INVALID unless `reference` is a tag or a sha256 digest. */
function checkTagOrDigest(reference: string): void {
  if (!TAG_RE.test(reference) && !isDigest(reference)) {
    throw new BuildError("REF_INVALID", `invalid tag or digest "${reference}"`);
  }
}

/** The media type without parameters (`application/json; charset=utf-8` → `application/json`). */
function bareMediaType(value: string | undefined): string | undefined {
  const t = value?.split(";")[0]?.trim();
  return t === undefined || t === "" ? undefined : t;
}

/** Reads a response body fully, failing once it exceeds `limit` bytes. */
async function readBody(res: RegistryResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(headerValue(res.headers, "content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new BuildError("MANIFEST_INVALID", `${what} is ${declared} bytes, more than the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new BuildError("MANIFEST_INVALID", `${what} is more than the ${limit}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads an error response's body as text (bounded), for {@link registryError}. */
async function errorText(res: RegistryResponse): Promise<string> {
  try {
    return (await readBody(res, 64 * 1024, "error response")).toString("utf8");
  } catch {
    return "";
  }
}

/**
 * A registry client for one host. Create one per registry for a whole pull
 * or push (it holds that registry's tokens), and {@link close} it after.
 *
 * @example
 * const client = new RegistryClient({ host: "127.0.0.1:5000", credentials: new DockerConfigCredentials() });
 * const { bytes, digest } = await client.getManifest("busybox", "latest");
 * await client.close();
 */
export class RegistryClient {
  /** The registry host, e.g. `127.0.0.1:5000`. */
  readonly host: string;
  /** The transport (auth state, dispatcher). */
  readonly transport: RegistryTransport;
  readonly #options: RegistryClientOptions;

  /** See {@link RegistryClientOptions}. */
  constructor(options: RegistryClientOptions) {
    this.#options = options;
    this.host = options.host;
    this.transport = new RegistryTransport(options);
  }

  /** A client for the registry serving `ref` (`registry-1.docker.io` for Docker Hub). */
  static forReference(ref: Pick<ImageReference, "domain">, options: Omit<RegistryClientOptions, "host"> = {}): RegistryClient {
    return new RegistryClient({ ...options, host: registryHost(ref) });
  }

  /** How many token requests this client sent (tests assert token caching with it). */
  get tokenRequests(): number {
    return this.transport.authenticator.tokenRequests;
  }

  #ctx(action: string, repository?: string, reference?: string, pull?: boolean): RegistryErrorContext {
    return { host: this.host, repository, reference, action, pull };
  }

  async #fail(res: RegistryResponse, ctx: RegistryErrorContext): Promise<never> {
    throw registryError(ctx, res.status, await errorText(res));
  }

  /**
   * Checks that the host speaks the registry API v2 (`GET /v2/`), and
   * authenticates if it asks to: with credentials configured, this is how
   * `login` verifies them. Throws REGISTRY_AUTH when access is refused.
   */
  async ping(options: RequestOptions = {}): Promise<void> {
    const res = await this.transport.send({ method: "GET", url: "/v2/", scopes: [], signal: options.signal });
    if (res.status === 200) {
      await res.body.dump();
      return;
    }
    const ctx = this.#ctx("checking registry");
    if (res.status === 404) {
      await res.body.dump();
      throw new BuildError("REGISTRY_ERROR", `${this.host} does not implement the registry API v2 (GET /v2/: 404 Not Found)`);
    }
    return this.#fail(res, ctx);
  }

  /**
   * Sends a GET and reads a 200 body (bounded by {@link MAX_MANIFEST_SIZE});
   * other statuses come back unread for the caller's error. The transport
   * retries failures before the response starts; a connection that breaks
   * while the body is read is retried here, the request sent afresh.
   */
  async #sendAndRead(send: SendOptions, what: string): Promise<{ res: RegistryResponse; bytes: Buffer | undefined }> {
    try {
      return await withRetry(
        async () => {
          const res = await this.transport.send(send);
          if (res.status !== 200) return { res, bytes: undefined };
          return { res, bytes: await readBody(res, MAX_MANIFEST_SIZE, what) };
        },
        {
          ...this.#options.retry,
          signal: send.signal,
          retryableError: (err) => !(err instanceof BuildError) && isRetryableError(err),
        },
      );
    } catch (err) {
      if (err instanceof BuildError) throw err;
      if (send.signal?.aborted === true) throw abortedError(send.signal);
      throw unreachableError(this.host, err);
    }
  }

  #scopes(repository: string, push: boolean | undefined): Scope[] {
    return [repositoryScope(repository, push === true ? ["pull", "push"] : ["pull"])];
  }

  /**
   * Fetches a manifest or index by tag or digest. Verifies the bytes when
   * `reference` is a digest; otherwise computes the digest (and checks it
   * against `Docker-Content-Digest` when the registry sends one).
   */
  async getManifest(repository: string, reference: string, options: ManifestRequestOptions = {}): Promise<FetchedManifest> {
    checkRepository(repository);
    checkTagOrDigest(reference);
    const ctx = this.#ctx("pulling manifest", repository, reference, true);
    const name = displayName(ctx);
    const { res, bytes } = await this.#sendAndRead(
      {
        method: "GET",
        url: `/v2/${repository}/manifests/${reference}`,
        scopes: this.#scopes(repository, options.forPush),
        headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(", ") },
        signal: options.signal,
      },
      `manifest ${name}`,
    );
    if (bytes === undefined) return this.#fail(res, ctx);
    const digest = digestOf(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new BuildError("DIGEST_MISMATCH", `manifest ${name} does not match its digest: got ${digest}`);
    }
    const claimed = headerValue(res.headers, "docker-content-digest");
    if (claimed !== undefined && claimed.startsWith("sha256:") && claimed !== digest) {
      throw new BuildError(
        "DIGEST_MISMATCH",
        `manifest ${name}: registry says its digest is ${claimed}, but the received bytes hash to ${digest}`,
      );
    }
    let mediaType = bareMediaType(headerValue(res.headers, "content-type"));
    if (mediaType === undefined || mediaType === "application/json" || mediaType === "text/plain") {
      // Some registries (and static file servers) send a generic type; the
      // manifest's own mediaType field is then the best evidence.
      try {
        const field = (JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown }).mediaType;
        if (typeof field === "string") mediaType = field;
      } catch {
        throw new BuildError("MANIFEST_INVALID", `manifest ${name} is not valid JSON`);
      }
    }
    if (mediaType === undefined) {
      throw new BuildError("MANIFEST_INVALID", `manifest ${name} has no media type`);
    }
    return { bytes, mediaType, digest, size: bytes.length };
  }

  /**
   * Looks a manifest up without downloading it (`HEAD`). Resolves undefined
   * when the registry has no such manifest (404). Falls back to a GET when
   * the registry does not send `Docker-Content-Digest`.
   */
  async headManifest(repository: string, reference: string, options: ManifestRequestOptions = {}): Promise<ManifestInfo | undefined> {
    checkRepository(repository);
    checkTagOrDigest(reference);
    const res = await this.transport.send({
      method: "HEAD",
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: this.#scopes(repository, options.forPush),
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(", ") },
      signal: options.signal,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw registryError(this.#ctx("checking manifest", repository, reference, true), res.status, "");
    }
    const digest = headerValue(res.headers, "docker-content-digest");
    const mediaType = bareMediaType(headerValue(res.headers, "content-type"));
    const size = Number(headerValue(res.headers, "content-length"));
    if (digest === undefined || !isDigest(digest) || mediaType === undefined || mediaType === "application/json" || !Number.isFinite(size)) {
      const m = await this.getManifest(repository, reference, options);
      return { digest: m.digest, mediaType: m.mediaType, size: m.size };
    }
    if (isDigest(reference) && digest !== reference) {
      throw new BuildError(
        "DIGEST_MISMATCH",
        `manifest ${displayName({ host: this.host, repository, reference })}: registry reports digest ${digest}`,
      );
    }
    return { digest, mediaType, size };
  }

  /**
   * Uploads a manifest under a tag or its digest and resolves with its
   * digest. The digest is computed locally and, when the registry reports
   * one, checked against it. Every blob the manifest references must already
   * be in the repository.
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: PutManifestOptions = {},
  ): Promise<Digest> {
    checkRepository(repository);
    checkTagOrDigest(reference);
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new BuildError("DIGEST_MISMATCH", `cannot push manifest as ${reference}: its bytes hash to ${digest}`);
    }
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const res = await this.transport.send({
      method: "PUT",
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: this.#scopes(repository, true),
      headers: { "content-type": mediaType, "content-length": String(body.length) },
      body: () => body,
      signal: options.signal,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
      return this.#fail(res, this.#ctx("pushing manifest", repository, reference));
    }
    await res.body.dump();
    const reported = headerValue(res.headers, "docker-content-digest");
    if (reported !== undefined && reported.startsWith("sha256:") && reported !== digest) {
      throw new BuildError(
        "DIGEST_MISMATCH",
        `registry ${this.host} stored manifest ${repository}:${reference} as ${reported}, expected ${digest}`,
      );
    }
    return digest;
  }

  /**
   * Lists a repository's tags (`GET /v2/<name>/tags/list`), following the
   * registry's `Link: <...>; rel="next"` pagination. Throws (Docker's "pull
   * access denied" wording) when the repository does not exist.
   */
  async listTags(repository: string, options: RequestOptions = {}): Promise<string[]> {
    checkRepository(repository);
    const tags: string[] = [];
    let url: string | URL = `/v2/${repository}/tags/list`;
    // Bounded, in case a broken registry links pages in a cycle.
    for (let page = 0; page < 1000; page++) {
      const { res, bytes: body } = await this.#sendAndRead(
        { method: "GET", url, scopes: this.#scopes(repository, false), signal: options.signal },
        `tag list of ${displayName({ host: this.host, repository })}`,
      );
      if (body === undefined) return this.#fail(res, this.#ctx("listing tags of", repository, undefined, true));
      let parsed: { tags?: unknown };
      try {
        parsed = JSON.parse(body.toString("utf8")) as { tags?: unknown };
      } catch {
        throw new BuildError("REGISTRY_ERROR", `registry ${this.host} sent an invalid tag list for ${repository}`);
      }
      if (Array.isArray(parsed.tags)) tags.push(...parsed.tags.filter((t): t is string => typeof t === "string"));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(headerValue(res.headers, "link") ?? "")?.[1];
      if (next === undefined) return tags;
      const nextUrl = new URL(next, res.url);
      // Pagination must stay on the registry: a Link elsewhere would receive our token.
      if (nextUrl.origin !== this.transport.baseUrl.origin) return tags;
      url = nextUrl;
    }
    return tags;
  }

  /** Looks a blob up (`HEAD`); resolves undefined when the repository does not have it. */
  async statBlob(repository: string, digest: string, options: LookupOptions = {}): Promise<BlobInfo | undefined> {
    checkRepository(repository);
    const d = parseDigest(digest);
    const res = await this.transport.send({
      method: "HEAD",
      url: `/v2/${repository}/blobs/${d}`,
      scopes: this.#scopes(repository, options.forPush),
      signal: options.signal,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw registryError(this.#ctx("checking blob", repository, d, !options.forPush), res.status, "");
    }
    const size = Number(headerValue(res.headers, "content-length"));
    return { size: Number.isFinite(size) ? size : undefined };
  }

  /** True when the repository has the blob (`HEAD`), e.g. to skip uploading it. */
  async hasBlob(repository: string, digest: string, options: LookupOptions = {}): Promise<boolean> {
    return (await this.statBlob(repository, digest, options)) !== undefined;
  }

  /**
   * Opens a blob for download, following redirects (to storage, without
   * our credentials). The stream is NOT verified: the caller must check the
   * digest, or use {@link getVerifiedBlob}. Abort through `signal` or by
   * destroying the stream.
   */
  async getBlob(repository: string, digest: string, options: RequestOptions = {}): Promise<Readable> {
    checkRepository(repository);
    const d = parseDigest(digest);
    const res = await this.transport.send({
      method: "GET",
      url: `/v2/${repository}/blobs/${d}`,
      scopes: this.#scopes(repository, false),
      signal: options.signal,
    });
    if (res.status !== 200) return this.#fail(res, this.#ctx("pulling blob", repository, d, true));
    return res.body;
  }

  /**
   * Opens a blob for download like {@link getBlob}, verifying it while it
   * streams: the stream errors with DIGEST_MISMATCH at its end if the bytes
   * do not match `digest` (or `size`, when given).
   */
  async getVerifiedBlob(repository: string, digest: string, options: VerifiedBlobOptions = {}): Promise<Readable> {
    const d = parseDigest(digest);
    const stream = await this.getBlob(repository, d, options);
    return verifyingStream(stream, {
      digest: d,
      size: options.size,
      what: `blob ${d} of ${displayName({ host: this.host, repository })}`,
    });
  }

  /**
   * Asks the registry to link a blob from `fromRepository` (same registry)
   * into `repository` without uploading it. True when mounted (201); false
   * when the registry declined and opened an upload session instead (202),
   * which is cancelled. Use {@link pushBlob} with `mountFrom` to reuse that
   * session for the upload instead.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string, options: RequestOptions = {}): Promise<boolean> {
    checkRepository(repository);
    checkRepository(fromRepository);
    const d = parseDigest(digest);
    const result = await startUpload(this.transport, {
      repository,
      mount: { digest: d, from: fromRepository },
      signal: options.signal,
    });
    if (result.mounted) return true;
    await result.session.cancel();
    return false;
  }

  /**
   * Uploads a blob unless the repository already has it: tries a
   * cross-repository mount when `mountFrom` is given, then a monolithic PUT
   * (blobs up to the monolithic threshold) or a chunked PATCH upload
   * (larger ones), falling back to the other style when the registry
   * rejects one. `blob.open` is called once per attempt.
   */
  async pushBlob(repository: string, blob: BlobSource, options: PushBlobOptions = {}): Promise<PushBlobResult> {
    checkRepository(repository);
    if (options.mountFrom !== undefined) checkRepository(options.mountFrom);
    return pushBlob(this, blob, {
      monolithicThreshold: this.#options.monolithicThreshold,
      chunkSize: this.#options.chunkSize,
      retry: this.#options.retry,
      ...options,
      repository,
    });
  }

  /** Closes the HTTP connections this client opened (not a dispatcher passed in). Idempotent. */
  async close(): Promise<void> {
    await this.transport.close();
  }
}
