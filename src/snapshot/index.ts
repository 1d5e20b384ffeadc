export { diffUpperDir, type DiffOptions } from "./diff.js";
export { extractLayer, type ExtractLayerOptions, type ExtractLayerResult, type LayerInput } from "./extract.js";
export {
  MAX_LOWER_LAYERS,
  MAX_OPTIONS_LENGTH,
  OVERLAY_OPTIONS,
  mountOverlay,
  planOverlayMount,
  unmount,
  type OverlayMountOptions,
  type OverlayMountPlan,
  type UnmountOptions,
} from "./overlay.js";
