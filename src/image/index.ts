/** Local image operations behind `tsbuild images/tag/rmi/inspect/save/load`. */
export { findImage, isIdQuery, namesOfImage, noSuchImage, queryLabel, type FindImageOptions } from "./find.js";
export { readImageContent, readImageManifest, imageSize, type ImageContent, type ImageManifestContent, type ReadImageOptions } from "./content.js";
export {
  checkDescriptor,
  parseConfig,
  parseIndex,
  parseJsonObject,
  parseManifest,
  type CheckedDescriptor,
  type CheckedIndex,
  type CheckedManifest,
} from "./documents.js";
export { createdSince, formatGoG, humanDuration, humanSize, parseCreated, shortDigest, shortId } from "./display.js";
export { listImageSummaries, type ImageSummary, type ListImagesOptions } from "./list.js";
export { tagImage, type TagImageOptions } from "./tag.js";
export { isSingleReference, removeImage, type RemoveImageOptions, type RemoveImageResult } from "./remove.js";
export { inspectImage, type ImageInspection, type InspectImageOptions } from "./inspect.js";
export {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  nameAnnotations,
  nameFromAnnotations,
  nameFromRepoTag,
  recordableName,
} from "./archive-names.js";
export { tarArchive, type ArchiveMember, type TarArchiveOptions } from "./archive-tar.js";
export {
  ARCHIVE_FORMATS,
  blobPath,
  imageArchive,
  selectImagesToSave,
  writeArchiveFile,
  writeArchiveStream,
  type ArchiveFormat,
  type ImageArchiveOptions,
  type ImageToSave,
  type SelectImagesOptions,
  type WriteArchiveOptions,
} from "./save.js";
export {
  ArchiveFiles,
  cleanArchivePath,
  decompressArchive,
  readImageArchive,
  MAX_METADATA_SIZE,
  type ArchiveFile,
  type ReadArchiveOptions,
} from "./archive-reader.js";
export { layerDiffId, layerMediaType, sniffCompression, type LayerCompression, type LayerDiffId } from "./diff-id.js";
export { loadImageArchive, type LoadedImage, type LoadImageOptions } from "./load.js";
