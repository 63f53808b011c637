// Loading prometheus-adapter's metrics-discovery config (--config): parse, validate, report
// every mistake with the path of its field.
export type * from "./types.js";
export { loadConfigFile, parseConfig } from "./load.js";
export type { LoadResult } from "./load.js";
export { defaultConfig, defaultConfigYaml } from "./default.js";
export type { DefaultConfigOptions } from "./default.js";
export { formatIssue, parsePromDuration } from "./load.js";
