/**
 * OCI image-spec data types, as JSON objects. Field names follow the spec
 * exactly, since these objects are serialised as they are.
 */

/** A content descriptor. https://github.com/opencontainers/image-spec/blob/main/descriptor.md */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** `sha256:<hex>` of the referenced bytes. */
  digest: string;
  /** Size of the referenced bytes. */
  size: number;
  /** For index entries: the platform this manifest is for. */
  platform?: Platform;
  /** Arbitrary metadata (e.g. `org.opencontainers.image.ref.name` in an OCI layout). */
  annotations?: Record<string, string>;
  /** Alternative download locations (foreign layers). */
  urls?: string[];
}

/** A platform. https://github.com/opencontainers/image-spec/blob/main/image-index.md */
export interface Platform {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** CPU architecture in GOARCH terms, e.g. `amd64`, `arm64`. */
  architecture: string;
  /** CPU variant, e.g. `v7` for arm. */
  variant?: string;
  /** OS version (Windows images). */
  "os.version"?: string;
  /** Required OS features (Windows images). */
  "os.features"?: string[];
}

/** An image manifest. https://github.com/opencontainers/image-spec/blob/main/manifest.md */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** OCI or Docker manifest media type. */
  mediaType?: string;
  /** Descriptor of the image config blob. */
  config: Descriptor;
  /** Layer descriptors, base first. */
  layers: Descriptor[];
  /** Free-form metadata. */
  annotations?: Record<string, string>;
}

/** An image index / manifest list. https://github.com/opencontainers/image-spec/blob/main/image-index.md */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** OCI index or Docker manifest list media type. */
  mediaType?: string;
  /** One descriptor per platform manifest (or nested index). */
  manifests: Descriptor[];
  /** Free-form metadata. */
  annotations?: Record<string, string>;
}

/** Healthcheck as stored in an image config (durations in nanoseconds). */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`. */
  Test?: string[];
  /** Nanoseconds between checks. */
  Interval?: number;
  /** Nanoseconds before a check is considered hung. */
  Timeout?: number;
  /** Nanoseconds of grace period at start. */
  StartPeriod?: number;
  /** Nanoseconds between checks during the start period. */
  StartInterval?: number;
  /** Consecutive failures before unhealthy. */
  Retries?: number;
}

/** The runtime part of an image config. https://github.com/opencontainers/image-spec/blob/main/config.md */
export interface ContainerConfig {
  /** `user`, `uid`, `user:group` or `uid:gid`. */
  User?: string;
  /** Keys like `80/tcp` mapped to `{}`. */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** `KEY=value` entries. */
  Env?: string[];
  /** Entrypoint argv. */
  Entrypoint?: string[] | null;
  /** Default arguments. */
  Cmd?: string[] | null;
  /** Paths mapped to `{}`. */
  Volumes?: Record<string, Record<string, never>>;
  /** Working directory. */
  WorkingDir?: string;
  /** Image labels. */
  Labels?: Record<string, string>;
  /** Signal name or number. */
  StopSignal?: string;
  /** Docker extension: health check. */
  Healthcheck?: HealthConfig;
  /** Docker extension: shell for shell-form instructions. */
  Shell?: string[];
  /** Docker extension: ONBUILD triggers, as source lines. */
  OnBuild?: string[] | null;
  /** Docker extension: argv escaping (Windows). */
  ArgsEscaped?: boolean;
}

/** One history entry of an image config. */
export interface HistoryEntry {
  /** RFC 3339 creation time. */
  created?: string;
  /** The instruction that made this entry, e.g. `RUN /bin/sh -c make # buildkit`. */
  created_by?: string;
  /** Author. */
  author?: string;
  /** Free-form comment. */
  comment?: string;
  /** True when this entry made no layer. */
  empty_layer?: boolean;
}

/** An image config. https://github.com/opencontainers/image-spec/blob/main/config.md */
export interface ImageConfig {
  /** RFC 3339 creation time. */
  created?: string;
  /** Author (MAINTAINER). */
  author?: string;
  /** CPU architecture. */
  architecture: string;
  /** Operating system. */
  os: string;
  /** CPU variant. */
  variant?: string;
  /** Runtime defaults. */
  config?: ContainerConfig;
  /** Uncompressed layer digests, base first. */
  rootfs: { type: "layers"; diff_ids: string[] };
  /** One entry per instruction, base first. */
  history?: HistoryEntry[];
}
