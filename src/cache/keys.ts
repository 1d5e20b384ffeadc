import { createHash } from "node:crypto";

/** Version of the key scheme: bump it when the meaning of a definition changes, so old records stop matching. */
export const CACHE_KEY_VERSION = 1;

/**
 * JSON with object keys sorted at every level: the canonical encoding a
 * cache key hashes, so that field order never changes a key.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
      return sorted;
    }
    return v;
  });
}

/** The inputs of a step's cache key (BuildKit: op digest + input keys + content checksums). */
export interface KeyInputs {
  /** The step's canonical definition. */
  readonly definition: unknown;
  /** The key of the step before it in its stage (or the stage's base key). */
  readonly parent: string;
  /** Keys of the stages it reads from by key (RUN mounts), in a stable order. */
  readonly stageKeys?: readonly string[];
  /** Content checksums of what it reads: context files (COPY sources, bind mounts), URL bodies, files of another stage (`COPY --from`). */
  readonly checksums?: readonly string[];
}

/** A step's content-addressed cache key: `sha256:<hex>` of its canonical inputs. */
export function stepKey(inputs: KeyInputs): string {
  const body = canonicalJson({ v: CACHE_KEY_VERSION, ...inputs });
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

/** The key of a stage's starting point: the base image's manifest digest, another stage's key, or scratch. */
export function baseKey(base: { kind: "image"; manifestDigest: string } | { kind: "scratch" }): string {
  return stepKey({ definition: base.kind === "image" ? { op: "image", digest: base.manifestDigest } : { op: "scratch" }, parent: "" });
}
