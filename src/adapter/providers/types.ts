// What the backend reports about itself, for the adapter's /metrics and /readyz. The HTTP side
// owns the prom-client registry; the backend only calls these hooks, so nothing here registers
// metrics globally.
import type { PrometheusMetrics } from "../prometheus/hooks.js";
import type { DiscoveryMetrics } from "../rules/series-discovery.js";

/** Hooks the backend calls (its Prometheus client's and its discovery's); all optional. */
export interface BackendMetrics extends PrometheusMetrics, DiscoveryMetrics {}

export interface BackendStats {
  ready: boolean;
  /** Why not ready, when not ready. */
  notReadyReason?: string;
  discovery: {
    runs: number;
    failures: number;
    lastRunAt?: Date;
    lastDurationMs?: number;
    lastError?: string;
    seriesCount: number;
    customMetrics: number;
    externalMetrics: number;
  };
  prometheus: {
    requests: number;
    errors: number;
    coalesced: number;
    lastError?: string;
  };
}
