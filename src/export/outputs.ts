import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { BuildError } from "../diagnostics/build-error.js";
import type { Digest } from "../oci/digest.js";
import { writeLayer } from "../oci/layer/writer.js";
import { parseReference, type ImageReference } from "../registry/reference.js";
import type { LayerInfo } from "../solve/solver.js";
import type { Snapshotter } from "../snapshot/snapshotter.js";
import type { LocalStore } from "../store/store.js";
import { readImageManifest } from "../image/content.js";
import { imageArchive, writeArchiveFile } from "../image/save.js";
import type { BuiltImage } from "./image.js";

/** One `--output`/`-o` value, as Docker's `type=...,dest=...` syntax names it. */
export type OutputSpec =
  | { readonly type: "image"; readonly push: boolean }
  | { readonly type: "registry" }
  | { readonly type: "oci" | "docker" | "tar"; readonly dest: string }
  | { readonly type: "local"; readonly dest: string };

/**
 * Parses `--output` like buildx: `type=oci,dest=out.tar`, `type=local,dest=dir`,
 * the shorthand `-o DIR` (local) and `-o -` (tar to standard output is not
 * supported: name a file).
 */
export function parseOutput(text: string): OutputSpec {
  if (!text.includes("=")) {
    if (text === "-") throw new BuildError("CLI_USAGE", "--output -: writing to standard output is not supported", { hint: "use type=tar,dest=FILE" });
    return { type: "local", dest: text };
  }
  const fields = new Map(text.split(",").map((f) => {
    const eq = f.indexOf("=");
    return [eq < 0 ? f : f.slice(0, eq), eq < 0 ? "" : f.slice(eq + 1)] as const;
  }));
  const type = fields.get("type") ?? "local";
  const dest = fields.get("dest");
  switch (type) {
    case "image":
      return { type: "image", push: fields.get("push") === "true" };
    case "registry":
      return { type: "registry" };
    case "oci":
    case "docker":
    case "tar":
    case "local":
      if (!dest) throw new BuildError("CLI_USAGE", `--output type=${type} needs dest=PATH`);
      return { type, dest };
    default:
      throw new BuildError("CLI_USAGE", `unknown output type "${type}"`, { hint: "types are image, registry, oci, docker, tar, local" });
  }
}

/** What writing a file output needs. */
export interface FileOutputContext {
  readonly store: LocalStore;
  readonly snapshotter: Snapshotter;
  readonly image: BuiltImage;
  readonly layers: readonly LayerInfo[];
  readonly names: readonly ImageReference[];
  readonly cwd: string;
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
}

/** Writes an `oci`, `docker`, `tar` or `local` output. */
export async function writeFileOutput(spec: Extract<OutputSpec, { dest: string }>, ctx: FileOutputContext): Promise<void> {
  const dest = resolve(ctx.cwd, spec.dest);
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const chain = ctx.layers.map((l) => ({ digest: l.descriptor.digest, diffId: l.diffId }));
  switch (spec.type) {
    case "local": {
      // The image's filesystem, merged, copied out with COPY's own machinery (`COPY --from` of "/" with owners kept):
      // device nodes and FIFOs are recreated with mknod and never opened. A RUN may mknod (Docker's capabilities
      // include CAP_MKNOD), and opening a planted /dev/zero-like node on the host would read forever, or touch hardware.
      await mkdir(dest, { recursive: true });
      const { applyCopy } = await import("../copy/apply.js");
      await ctx.snapshotter.withReadOnly(
        chain,
        (root) =>
          applyCopy({ root, sources: ["/"], keepOwnership: true, destRoot: dest, dest: "/", workdir: "/", ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        ctx.signal,
      );
      return;
    }
    case "tar":
      await ctx.snapshotter.withReadOnly(
        chain,
        (root) =>
          writeLayer({ dir: root }, dest, {
            compression: "none",
            ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}),
            ...signal,
          }),
        ctx.signal,
      );
      return;
    case "oci":
    case "docker": {
      // Without -t the archive holds the image unnamed (no ref.name annotation, no RepoTags), as BuildKit's exporters write it;
      // the record's name is then only a label for error messages.
      const content = await readImageManifest(ctx.store.content, {
        name: ctx.names[0] ?? parseReference(`tsbuild/unnamed@${ctx.image.manifest.digest}`),
        manifestDigest: ctx.image.manifest.digest as Digest,
        mediaType: ctx.image.manifest.mediaType,
        size: ctx.image.manifest.size,
        configDigest: ctx.image.config.digest as Digest,
        platform: ctx.image.platform,
        created: ctx.image.imageConfig.created,
        updated: new Date().toISOString(),
      });
      await writeArchiveFile(dest, imageArchive(ctx.store.content, [{ content, names: ctx.names }], { format: spec.type, ...signal }), signal);
      return;
    }
  }
}
