import { createHash } from "node:crypto";
import { canonicalJson } from "../cache/keys.js";
import type { SelectionMemo } from "../cache/selection-memo.js";
import { checksumSelection } from "../copy/checksum.js";
import type { StepOp } from "../plan/graph.js";
import type { StageRead } from "./content-keyed.js";
import type { LayerRef, Snapshotter } from "../snapshot/snapshotter.js";
import { plainFilesLayer } from "./ops/copy.js";

/** Bump when the memo key's meaning or the checksum scheme changes, so old memo entries stop matching. */
const MEMO_VERSION = 1;

/** What {@link stageSelectionChecksum} reads with. */
export interface StageChecksumContext {
  /** Mounts (or looks into) the source stage's layers. */
  readonly snapshotter: Snapshotter;
  /** Checksums already computed for a chain and selection. */
  readonly memo: SelectionMemo;
  /** Cancels the checksum. */
  readonly signal?: AbortSignal;
}

/**
 * The content checksum of what `read` selects from a stage whose result is
 * `chain` (its layers, base first): the same checksum as for context
 * files, owners included (files from a stage keep them).
 *
 * Memoised by the chain's diffIDs and the selection (see
 * {@link SelectionMemo}): a rebuild whose source stage was cached reads one
 * small file instead of mounting the stage. On a miss the files are read
 * from the one layer directory that holds them when a copy's sources are
 * plain files (as the copy itself does), otherwise from a read-only overlay.
 *
 * @throws BuildError COPY_SOURCE_NOT_FOUND (with the stage hint) when a
 *   source is not in the stage, COPY_IO, ABORTED.
 */
export async function stageSelectionChecksum(read: StageRead, op: StepOp, chain: readonly LayerRef[], ctx: StageChecksumContext): Promise<string> {
  const memoKey = `sha256:${createHash("sha256")
    .update(canonicalJson({ v: MEMO_VERSION, layers: chain.map((l) => l.diffId), sources: read.sources, excludes: read.excludes, parents: read.parents }))
    .digest("hex")}`;
  const known = await ctx.memo.get(memoKey);
  if (known !== undefined) return known;
  const checksum = async (root: string): Promise<string> => {
    const sel = { root, sources: read.sources, excludes: read.excludes, parents: read.parents, followTopLevelSymlinks: true, keepOwnership: true };
    return (await checksumSelection(sel, ctx.signal ? { signal: ctx.signal } : {})).digest;
  };
  const layer = read.copy && op.kind === "copy" ? await plainFilesLayer(op, chain, ctx.snapshotter, ctx.signal) : undefined;
  const digest = layer !== undefined ? await checksum(layer) : await ctx.snapshotter.withReadOnly(chain, checksum, ctx.signal);
  await ctx.memo.put(memoKey, digest);
  return digest;
}
