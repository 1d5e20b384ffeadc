export * from "./entry.js";
export { ParallelGzip, type ParallelGzipOptions } from "./gzip.js";
export { readTar, type TarEntry, type TarEntryType, type TarHeader } from "./tar-reader.js";
export { TarFormatError } from "./tar-format.js";
export { walkDirectory, type WalkOptions, type WalkedEntry } from "./walk.js";
export * from "./writer.js";
