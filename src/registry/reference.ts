/**
 * Image references (`alpine`, `user/img:tag`, `host:5000/x@sha256:…`), parsed
 * and normalised the way Docker does it.
 *
 * The grammar and the normalisation rules follow github.com/distribution/reference
 * (`reference.go`, `regexp.go`, `normalize.go`; `ParseNormalizedNamed`):
 *
 *     reference        := name [ ":" tag ] [ "@" digest ]
 *     name             := [domain "/"] remote-name
 *     domain           := host [":" port-number]
 *     host             := domain-name | "[" IPv6address "]"
 *     domain-name      := domain-component ["." domain-component]*
 *     domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *     remote-name      := path-component ["/" path-component]*
 *     path-component   := /[a-z0-9]+/ [ separator /[a-z0-9]+/ ]*
 *     separator        := /[_.]|__|[-]+/
 *     tag              := /[\w][\w.-]{0,127}/
 *
 * Normalisation (Docker's `splitDockerDomain`): the first `/`-separated
 * component is a domain when it contains `.` or `:`, is `localhost`, or
 * contains an uppercase letter (domains are case-insensitive, repository
 * paths are not, so Docker reads `Foo/bar` as registry `Foo`, repository
 * `bar`). Otherwise the domain is `docker.io`. `index.docker.io` becomes
 * `docker.io`, and a single-component Docker Hub path gets `library/`.
 *
 * Deliberate difference from Docker: only sha256 digests are accepted,
 * because the rest of tsbuild (the {@link Digest} type, the content store)
 * is sha256-only. `sha384`/`sha512` digests, which Docker accepts, are
 * rejected with REF_INVALID naming the algorithm.
 */
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";

/** Docker Hub's canonical domain in reference names. */
export const DOCKER_HUB_DOMAIN = "docker.io";
/** The legacy Docker Hub domain, normalised to {@link DOCKER_HUB_DOMAIN}. */
export const LEGACY_DOCKER_HUB_DOMAIN = "index.docker.io";
/** The host actually serving the Docker Hub registry API. */
export const DOCKER_HUB_REGISTRY_HOST = "registry-1.docker.io";
/** Namespace of official Docker Hub images (`alpine` is `library/alpine`). */
export const OFFICIAL_REPO_PREFIX = "library/";
/** Tag added by {@link withDefaultTag}. */
export const DEFAULT_TAG = "latest";
/** Maximum length of a repository path (distribution's `RepositoryNameTotalLengthMax`). */
export const MAX_PATH_LENGTH = 255;

/** Inputs longer than this are rejected before running any regular expression. */
const MAX_INPUT_LENGTH = 4096;

// --- grammar, transcribed from distribution/reference regexp.go -------------

const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6_ADDRESS = "\\[(?:[a-fA-F0-9:]+)\\]";
const HOST = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

/** Whole reference: captures name, tag, digest. */
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** A name: captures domain (optional) and path. */
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const ANCHORED_DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const ANCHORED_REMOTE_NAME_RE = new RegExp(`^${REMOTE_NAME}$`);
/** A bare 64-hex identifier, which Docker refuses as a repository name. */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Hex lengths of the digest algorithms go-digest knows (others are "unsupported"). */
const KNOWN_DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * A parsed, normalised image reference. Instances are immutable; build
 * variants with {@link withTag}, {@link withDigest}, {@link withDefaultTag}.
 */
export interface ImageReference {
  /** Registry domain as written in names, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  readonly path: string;
  /** The tag, when one was given. */
  readonly tag?: string | undefined;
  /** The manifest digest, when one was given. */
  readonly digest?: Digest | undefined;
  /** The repository, `domain/path`, e.g. `docker.io/library/alpine`. */
  readonly name: string;
  /** Canonical full form: `docker.io/library/alpine:latest`, `name:tag@sha256:…`. */
  toString(): string;
  /** Docker's short ("familiar") form: `alpine:latest`, `user/img:tag`, `localhost:5000/x:y`. */
  familiar(): string;
}

class Reference implements ImageReference {
  readonly domain: string;
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;

  constructor(domain: string, path: string, tag: string | undefined, digest: Digest | undefined) {
    this.domain = domain;
    this.path = path;
    this.tag = tag;
    this.digest = digest;
    Object.freeze(this);
  }

  /** `domain/path`. */
  get name(): string {
    return `${this.domain}/${this.path}`;
  }

  /** Canonical full form. */
  toString(): string {
    return this.name + suffix(this.tag, this.digest);
  }

  /** Docker's short form. */
  familiar(): string {
    return familiarName(this.domain, this.path) + suffix(this.tag, this.digest);
  }

  /** So `JSON.stringify` and template strings agree. */
  toJSON(): string {
    return this.toString();
  }
}

function suffix(tag: string | undefined, digest: Digest | undefined): string {
  return (tag === undefined ? "" : `:${tag}`) + (digest === undefined ? "" : `@${digest}`);
}

/** distribution's `familiarizeName`: drop `docker.io/` and a one-level `library/`. */
function familiarName(domain: string, path: string): string {
  if (domain !== DOCKER_HUB_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes("/")) return rest;
  }
  return path;
}

function invalid(input: string, rule: string): BuildError {
  return new BuildError("REF_INVALID", `invalid reference ${JSON.stringify(input)}: ${rule}`, {
    hint: "image references look like name[:tag][@sha256:digest], e.g. alpine:3.20 or registry.example.com:5000/team/app:v1",
  });
}

/**
 * Docker's `splitDockerDomain`: decide whether the first component names a
 * registry, and apply the Docker Hub defaults.
 */
function splitDockerDomain(s: string): { domain: string; remainder: string } {
  const slash = s.indexOf("/");
  if (slash === -1) {
    // A single component ("alpine", "alpine:3"): always a Docker Hub official
    // image, so "localhost:5000" alone is the repo "localhost" with tag 5000.
    return { domain: DOCKER_HUB_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + s };
  }
  const first = s.slice(0, slash);
  const rest = s.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === "localhost") {
    domain = first;
    remainder = rest;
  } else if (first === LEGACY_DOCKER_HUB_DOMAIN) {
    domain = DOCKER_HUB_DOMAIN;
    remainder = rest;
  } else if (first.includes(".") || first.includes(":") || first.toLowerCase() !== first) {
    domain = first;
    remainder = rest;
  } else {
    domain = DOCKER_HUB_DOMAIN;
    remainder = s;
  }
  if (domain === DOCKER_HUB_DOMAIN && !remainder.includes("/")) {
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  }
  return { domain, remainder };
}

/** go-digest `Parse` rules, narrowed to sha256. */
function parseRefDigest(input: string, d: string): Digest {
  const colon = d.indexOf(":");
  const algorithm = d.slice(0, colon);
  const hex = d.slice(colon + 1);
  const expectedLength = KNOWN_DIGEST_HEX_LENGTH[algorithm];
  if (expectedLength === undefined) {
    throw invalid(input, `unsupported digest algorithm "${algorithm}"`);
  }
  if (hex.length !== expectedLength) {
    throw invalid(input, `invalid checksum digest length (${algorithm} needs ${expectedLength} hex digits, got ${hex.length})`);
  }
  if (!/^[a-f0-9]+$/.test(hex)) {
    throw invalid(input, "invalid checksum digest format (hex digits must be lowercase)");
  }
  if (algorithm !== "sha256") {
    throw invalid(input, `digest algorithm "${algorithm}" is not supported by tsbuild (only sha256)`);
  }
  return d as Digest;
}

/**
 * Parses and normalises an image reference like `docker pull` does
 * (distribution's `ParseNormalizedNamed`): `alpine` becomes
 * `docker.io/library/alpine` (no tag is added: see {@link withDefaultTag}).
 * Both a tag and a digest may be present (`name:tag@sha256:…`).
 *
 * @throws BuildError REF_INVALID, with a message naming the rule broken.
 */
export function parseReference(s: string): ImageReference {
  if (s === "") throw invalid(s, "repository name must have at least one component");
  if (s.length > MAX_INPUT_LENGTH) throw invalid(s.slice(0, 64) + "…", `reference is longer than ${MAX_INPUT_LENGTH} characters`);
  if (IDENTIFIER_RE.test(s)) {
    throw invalid(s, "a 64-character hexadecimal string is an image ID, not a repository name");
  }
  const { domain: splitDomain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(":");
  const remote = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remote.toLowerCase() !== remote) throw invalid(s, "repository name must be lowercase");

  const full = `${splitDomain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (m === null) {
    const lower = full.toLowerCase();
    if (lower !== full && REFERENCE_RE.test(lower)) throw invalid(s, "repository name must be lowercase");
    throw invalid(s, describeFormatError(s));
  }
  const [, name = "", tag, digestText] = m;
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1];
  const path = nm?.[2];
  if (domain === undefined || path === undefined) {
    // Cannot happen: splitDockerDomain always puts a domain in front.
    throw invalid(s, "invalid reference format");
  }
  if (path.length > MAX_PATH_LENGTH) {
    throw invalid(s, `repository name must not be more than ${MAX_PATH_LENGTH} characters`);
  }
  const digest = digestText === undefined ? undefined : parseRefDigest(s, digestText);
  return new Reference(domain, path, tag, digest);
}

/** Best-effort explanation for a reference the grammar rejects. */
function describeFormatError(s: string): string {
  const at = s.indexOf("@");
  const beforeDigest = at === -1 ? s : s.slice(0, at);
  const lastSlash = beforeDigest.lastIndexOf("/");
  const colon = beforeDigest.indexOf(":", lastSlash + 1);
  if (colon !== -1 && !ANCHORED_TAG_RE.test(beforeDigest.slice(colon + 1))) {
    return "invalid tag format (a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with . or -)";
  }
  if (at !== -1 && !new RegExp(`^${DIGEST}$`).test(s.slice(at + 1))) {
    return "invalid digest format (expected sha256:<64 hex digits>)";
  }
  return "invalid reference format (repository path components are lowercase letters and digits, separated by '.', '_', '__' or '-')";
}

/**
 * True when `s` parses as a reference. Never throws.
 */
export function isValidReference(s: string): boolean {
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}

/** `ref` with `latest` as its tag when it has neither a tag nor a digest (distribution's `TagNameOnly`). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return new Reference(ref.domain, ref.path, DEFAULT_TAG, undefined);
}

/**
 * `ref` with its tag replaced by `tag` (its digest is kept).
 *
 * @throws BuildError REF_INVALID when `tag` breaks the tag grammar.
 */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!ANCHORED_TAG_RE.test(tag)) {
    throw invalid(`${ref.name}:${tag}`, "invalid tag format (a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with . or -)");
  }
  return new Reference(ref.domain, ref.path, tag, ref.digest);
}

/** `ref` with its digest replaced by `digest` (its tag is kept). */
export function withDigest(ref: ImageReference, digest: Digest): ImageReference {
  return new Reference(ref.domain, ref.path, ref.tag, parseRefDigest(`${ref.name}@${digest}`, digest));
}

/** The bare repository of `ref`, without tag or digest. */
export function repositoryOf(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? ref : new Reference(ref.domain, ref.path, undefined, undefined);
}

/**
 * Builds a reference from parts already split, validating each against the
 * grammar without Docker Hub normalisation (distribution's `WithName`).
 *
 * @throws BuildError REF_INVALID when a part is invalid.
 */
export function referenceFromParts(parts: {
  domain: string;
  path: string;
  tag?: string | undefined;
  digest?: Digest | undefined;
}): ImageReference {
  const text = `${parts.domain}/${parts.path}${suffix(parts.tag, parts.digest)}`;
  if (!ANCHORED_DOMAIN_RE.test(parts.domain)) throw invalid(text, "invalid domain");
  if (!ANCHORED_REMOTE_NAME_RE.test(parts.path)) {
    throw invalid(text, parts.path.toLowerCase() !== parts.path ? "repository name must be lowercase" : "invalid reference format");
  }
  if (parts.path.length > MAX_PATH_LENGTH) {
    throw invalid(text, `repository name must not be more than ${MAX_PATH_LENGTH} characters`);
  }
  let ref: ImageReference = new Reference(parts.domain, parts.path, undefined, undefined);
  if (parts.tag !== undefined) ref = withTag(ref, parts.tag);
  if (parts.digest !== undefined) ref = withDigest(ref, parts.digest);
  return ref;
}

/**
 * The host to contact for `ref`'s registry API: `registry-1.docker.io` for
 * Docker Hub, the domain (with its port) otherwise.
 */
export function registryHost(ref: Pick<ImageReference, "domain">): string {
  return ref.domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_REGISTRY_HOST : ref.domain;
}
