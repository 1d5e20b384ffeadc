export * from "./media-types.js";
export type * from "./types.js";
export * from "./digest.js";
