// Loading prometheus-adapter's metrics-discovery config (--config): parse, validate, report
// every mistake with the path of its field.
export type * from "./types.js";
export { loadConfigFile, parseConfig } from "./load.js";
export type { LoadResult } from "./load.js";
export { defaultConfig } from "./default.js";
