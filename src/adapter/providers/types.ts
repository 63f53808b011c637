// What the backend reports about itself, for the adapter's /metrics and /readyz. The HTTP side
// owns the prom-client registry; the backend only calls these hooks, so nothing here registers
// metrics globally.

/** Outcome of one call to Prometheus. */
export type PrometheusOutcome =
  | "ok"
  | "unreachable" // connection refused/reset, DNS, TLS
  | "timeout"
  | "bad_response" // non-JSON, unexpected shape, 5xx without a Prometheus error body
  | "query_error"; // Prometheus refused the query (bad_data, execution error)

export type PrometheusEndpoint = "query" | "series";

/** Hooks the backend calls; every method is optional so a caller wires only what it exports. */
export interface BackendMetrics {
  /** One HTTP call to Prometheus finished (coalesced callers do not count again). */
  prometheusRequest?(endpoint: PrometheusEndpoint, outcome: PrometheusOutcome, seconds: number): void;
  /** A query was answered by joining an identical in-flight query (single-flight hit). */
  coalescedQuery?(endpoint: PrometheusEndpoint): void;
  /** One discovery (relist) run finished. seriesCount is the number of series returned. */
  discoveryRun?(ok: boolean, seconds: number, seriesCount: number): void;
}

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
