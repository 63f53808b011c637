import type { MetricsDiscoveryConfig } from "./types.js";

export function defaultConfig(): MetricsDiscoveryConfig {
  return { rules: [], externalRules: [] };
}
