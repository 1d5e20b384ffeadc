/** tsbuild's version, shown by `tsbuild --version`. Kept in step with package.json. */
export const VERSION = "0.1.0";
