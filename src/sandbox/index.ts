export type {
  NetworkMode,
  OutputStream,
  ProcessSpec,
  ProcessUser,
  RunOptions,
  RunResult,
  Sandbox,
  SandboxMount,
} from "./sandbox.js";
export type * from "./runtime-spec.js";
export { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, capabilityMask, normalizeCapabilities } from "./capabilities.js";
export { DEFAULT_HOSTNAME, MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
export { OCI_RUNTIME_VERSION, buildOciSpec, type OciSpecInput } from "./oci-spec.js";
export {
  getExecUser,
  parseGroup,
  parsePasswd,
  parseUidGid,
  resolveUser,
  type GroupEntry,
  type PasswdEntry,
  type ResolveUserOptions,
  type ResolvedUser,
} from "./user.js";
export { containerResolvConf, hostsFileContent, readHostResolvConf, type HostEntry } from "./resolv.js";
export { mkdirInRoot, readFileInRoot, resolveInRoot } from "./root-path.js";
export { recordMountStubs, type MountStubs } from "./mount-stubs.js";
export {
  CONTAINER_ID_PREFIX,
  RuncSandbox,
  bundlesRoot,
  cleanupStale,
  runtimeStateRoot,
  type CleanupStaleOptions,
  type RuncSandboxOptions,
} from "./runc-sandbox.js";
