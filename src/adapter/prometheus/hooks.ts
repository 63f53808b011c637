// What the Prometheus client reports about its calls, for the adapter's /metrics. The HTTP
// side owns the prom-client registry; the client only calls these hooks.

/** Outcome of one call to Prometheus. */
export type PrometheusOutcome =
  | "ok"
  | "unreachable" // connection refused/reset, DNS, TLS
  | "timeout"
  | "bad_response" // non-JSON, unexpected shape, 5xx without a Prometheus error body
  | "query_error"; // Prometheus refused the query (bad_data, execution error)

export type PrometheusEndpoint = "query" | "series";

/** Every method is optional so a caller wires only what it exports. */
export interface PrometheusMetrics {
  /** One HTTP call to Prometheus finished (coalesced callers do not count again). */
  prometheusRequest?(endpoint: PrometheusEndpoint, outcome: PrometheusOutcome, seconds: number): void;
  /** A query was answered by joining an identical in-flight query (single-flight hit). */
  coalescedQuery?(endpoint: PrometheusEndpoint): void;
}
