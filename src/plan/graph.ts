import type { SourceRange } from "../diagnostics/source.js";
import type { CopyInstruction, RunInstruction, RunMount } from "../instructions/types.js";
import type { ContainerConfig, Descriptor, ImageConfig } from "../oci/types.js";
import type { PlatformSpec } from "../instructions/platform.js";
import type { RunCommand } from "./run-command.js";

/**
 * The build graph: what `tsbuild build` runs. Pure data made by
 * `planBuild` from the resolved Dockerfile and the base images' metadata;
 * the solver turns it into layers. Source ranges and display names ride
 * along on each step but are never part of a cache key.
 */
export interface BuildGraph {
  /** The stages the target needs, by index. */
  readonly stages: ReadonlyMap<number, PlannedStage>;
  /** Their indices, dependencies first, the target last. */
  readonly order: readonly number[];
  /** The stage whose result is the image. */
  readonly target: number;
}

/** A base image as the store knows it (resolved once per build). */
export interface BaseImage {
  /** The reference as written in the Dockerfile (after expansion). */
  readonly ref: string;
  /** Digest of the platform-specific manifest: what FROM's cache key is. */
  readonly manifestDigest: string;
  /** Its config. */
  readonly config: ImageConfig;
  /** Its layers, base first. */
  readonly layers: readonly Descriptor[];
}

/** Where a stage starts. */
export type PlannedBase =
  | { readonly kind: "image"; readonly image: BaseImage }
  | { readonly kind: "stage"; readonly stage: number }
  | { readonly kind: "scratch" };

/** Where COPY reads or a RUN mount binds from. */
export type SourceRef =
  | { readonly kind: "context" }
  | { readonly kind: "stage"; readonly stage: number }
  | { readonly kind: "image"; readonly image: BaseImage };

/** A RUN mount with its source resolved. */
export interface PlannedMount extends RunMount {
  /** For bind and cache mounts with `from=`, or bind mounts of the context. */
  readonly sourceRef?: SourceRef;
}

/** What a step does. */
export type StepOp =
  | {
      readonly kind: "exec";
      /** The RUN instruction (expanded). */
      readonly run: RunInstruction;
      /** argv, env and shebang script. */
      readonly command: RunCommand;
      /** USER in effect (resolved against the rootfs when the step runs). */
      readonly user: string;
      /** WORKDIR in effect (absolute). */
      readonly workdir: string;
      /** Network mode. */
      readonly network: "default" | "none" | "host";
      /** Mounts with their sources. */
      readonly mounts: readonly PlannedMount[];
    }
  | {
      readonly kind: "copy";
      /** The COPY/ADD instruction (expanded). */
      readonly copy: CopyInstruction;
      /** WORKDIR in effect, for relative destinations. */
      readonly workdir: string;
      /** Where the sources are. */
      readonly source: SourceRef;
      /**
       * `--link` in effect (set, and no `--chmod`, as BuildKit decides): the
       * copy is applied to an empty filesystem and its layer stacked on the
       * stage (BuildKit's MergeOp), so neither its cache key nor its layer
       * depends on the layers below; a change before it does not rerun it.
       */
      readonly linked: boolean;
    }
  | {
      readonly kind: "workdir";
      /** Absolute directory to create. */
      readonly path: string;
      /** Owner (USER in effect). */
      readonly user: string;
    };

/** One step that may produce a layer: RUN, COPY, ADD, WORKDIR. */
export interface StepNode {
  /** Unique id in the graph, e.g. `s1.3` (stage 1, 3rd step). */
  readonly id: string;
  /** Stage index. */
  readonly stage: number;
  /** Display name, BuildKit style: `[build 2/4] RUN make`. */
  readonly name: string;
  /** What it does. */
  readonly op: StepOp;
  /**
   * Its canonical definition: everything that decides its result except
   * its parent's key, the keys of stages it reads, and context checksums
   * (added by the solver). Never contains source ranges or names.
   */
  readonly definition: unknown;
  /** Stages it reads from (COPY --from, RUN --mount from=). */
  readonly stageDeps: readonly number[];
  /** The history line (`created_by`) of the step. */
  readonly createdBy: string;
  /** The instruction's lines. */
  readonly range: SourceRange;
}

/** An entry of a stage in order: a step, or an instruction that only changes the config. */
export type StageEntry = { readonly kind: "step"; readonly step: StepNode } | { readonly kind: "meta"; readonly createdBy: string };

/** A stage ready to run. */
export interface PlannedStage {
  /** Index in the Dockerfile. */
  readonly index: number;
  /** Name after AS. */
  readonly name?: string;
  /** Where it starts. */
  readonly base: PlannedBase;
  /** Steps and config-only entries, in order. */
  readonly entries: readonly StageEntry[];
  /** The image config at the end of the stage (without rootfs/history, which come from the solve). */
  readonly config: ContainerConfig;
  /** The image author (MAINTAINER), inherited from the base unless set. */
  readonly author?: string;
  /** The platform it builds for. */
  readonly platform: PlatformSpec;
}
