/** COPY and ADD: source selection, content checksums, and applying them into a root filesystem. */
export { applyCopy, type AddOptions, type CopyOptions, type CopyResult, type InlineFile } from "./apply.js";
export { checksumSelection, type ChecksumOptions, type SelectionChecksum } from "./checksum.js";
export { parseChmod, type ChmodSpec } from "./chmod.js";
export { resolveChown, type ResolvedOwner } from "./chown.js";
export { FileHashCache, type FileHashCacheOptions } from "./file-hash-cache.js";
export { selectSources, type SelectedMatch, type SelectedSource, type SourceSelection } from "./select.js";
