/**
 * Talking to container registries: references, credentials, and the
 * distribution-API client. See client.ts for the entry point.
 */
export * from "./reference.js";
export {
  RegistryClient,
  MANIFEST_ACCEPT,
  MAX_MANIFEST_SIZE,
  checkRepository,
  type RegistryClientOptions,
  type RequestOptions,
  type LookupOptions,
  type ManifestRequestOptions,
  type FetchedManifest,
  type ManifestInfo,
  type BlobInfo,
  type VerifiedBlobOptions,
  type PutManifestOptions,
} from "./client.js";
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_THRESHOLD,
  type BlobSource,
  type PushBlobOptions,
  type PushBlobResult,
  type UploadStyle,
} from "./upload.js";
export {
  RegistryTransport,
  type BodyFactory,
  type RegistryMethod,
  type RegistryResponse,
  type SendOptions,
  type TransportOptions,
} from "./transport.js";
export {
  Authenticator,
  TokenCache,
  mergeScopes,
  parseWwwAuthenticate,
  repositoryScope,
  type AuthChallenge,
  type AuthenticatorOptions,
  type CachedToken,
  type Scope,
} from "./auth.js";
export {
  DOCKER_HUB_AUTH_KEY,
  DockerConfigCredentials,
  StaticCredentials,
  anonymousCredentials,
  dockerAuthKey,
  dockerConfigDir,
  eraseCredentials,
  isDockerHubHost,
  normalizeHost,
  storeCredentials,
  type CredentialLookupOptions,
  type CredentialProvider,
  type Credentials,
  type DockerConfigOptions,
  type StoreCredentialsInput,
  type StoredCredentials,
} from "./credentials.js";
export {
  INSECURE_REGISTRIES_ENV,
  insecureRegistriesFrom,
  isInsecureHost,
  isLoopbackHost,
  parseInsecureRegistries,
  registryBaseUrl,
  type InsecureRegistrySources,
} from "./endpoint.js";
export { parseErrorBody, redactUrl, registryError, type RegistryErrorContext, type RegistryErrorEntry } from "./errors.js";
export { runBounded, type RunBoundedOptions } from "./parallel.js";
export { backoffDelay, isRetryableError, isRetryableStatus, parseRetryAfter, withRetry, type RetryPolicy } from "./retry.js";
export { verifyingStream, type ExpectedContent } from "./verify.js";
