/** The local content store: blobs by digest, image names, blob sources. */
export { openStore, type LocalStore, type OpenStoreOptions } from "./store.js";
export { defaultStoreRoot, resolveStoreRoot, type StoreEnv } from "./root.js";
export { storeLayout, blobFile, STORE_LAYOUT_VERSION, type StoreLayout } from "./layout.js";
export type {
  BlobInput,
  ContentStore,
  ExpectedBlob,
  OpenBlobOptions,
  ReadBlobOptions,
  StoreCallOptions,
  WrittenBlob,
} from "./content-store.js";
export { FsContentStore, type OpenContentStoreOptions } from "./fs-content-store.js";
export { ImageStore, type PutImageOptions } from "./image-store.js";
export {
  imageId,
  manifestDescriptor,
  IMAGE_RECORD_VERSION,
  type ImageRecord,
  type NewImage,
} from "./image-record.js";
export { BlobSourceIndex } from "./blob-sources.js";
export { cleanStaleTempFiles, DEFAULT_STALE_TEMP_AGE_MS, type CleanTempOptions } from "./temp-files.js";
