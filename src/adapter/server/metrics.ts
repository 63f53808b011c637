// The adapter's own /metrics (prom-client, a registry per adapter so several can run in one
// process). Request counts and latency by API group/version/resource and code, the backend's
// Prometheus calls and discovery runs, and cache hits of authentication and authorization.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { BackendMetrics } from "../providers/index.js";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type AuthCache = "tokenreview" | "subjectaccessreview";

export class AdapterMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"group" | "version" | "resource" | "verb" | "code">;
  private readonly latency: Histogram<"group" | "version" | "resource" | "verb">;
  private readonly authCache: Counter<"cache" | "result">;
  private readonly promLatency: Histogram<"endpoint" | "outcome">;
  private readonly promErrors: Counter<"endpoint" | "outcome">;
  private readonly coalesced: Counter<"endpoint">;
  private readonly discoveryLatency: Histogram<"result">;
  private readonly discoverySeries: Gauge;
  private readonly resourceDiscovery: Histogram<"result">;
  private readonly configReloads: Counter<"result">;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "prom_hpa_adapter_" });
    this.requests = new Counter({
      name: "prom_hpa_adapter_requests_total",
      help: "API requests answered, by API group, version, resource, verb and HTTP code.",
      labelNames: ["group", "version", "resource", "verb", "code"],
      registers,
    });
    this.latency = new Histogram({
      name: "prom_hpa_adapter_request_duration_seconds",
      help: "Time from receiving a request to writing its answer, by API group, version, resource and verb.",
      labelNames: ["group", "version", "resource", "verb"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.authCache = new Counter({
      name: "prom_hpa_adapter_auth_cache_total",
      help: "Lookups in the TokenReview and SubjectAccessReview caches, by result (hit or miss).",
      labelNames: ["cache", "result"],
      registers,
    });
    this.promLatency = new Histogram({
      name: "prom_hpa_adapter_prometheus_request_duration_seconds",
      help: "Duration of HTTP calls to Prometheus, by API endpoint and outcome.",
      labelNames: ["endpoint", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.promErrors = new Counter({
      name: "prom_hpa_adapter_prometheus_errors_total",
      help: "Failed calls to Prometheus, by API endpoint and outcome (unreachable, timeout, bad_response, query_error).",
      labelNames: ["endpoint", "outcome"],
      registers,
    });
    this.coalesced = new Counter({
      name: "prom_hpa_adapter_prometheus_coalesced_total",
      help: "Prometheus queries answered by joining an identical query already in flight.",
      labelNames: ["endpoint"],
      registers,
    });
    this.discoveryLatency = new Histogram({
      name: "prom_hpa_adapter_series_discovery_duration_seconds",
      help: "Duration of series discovery (relist) runs, by result.",
      labelNames: ["result"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
      registers,
    });
    this.discoverySeries = new Gauge({
      name: "prom_hpa_adapter_series_discovered",
      help: "Series returned by the last successful discovery run.",
      registers,
    });
    this.resourceDiscovery = new Histogram({
      name: "prom_hpa_adapter_api_discovery_duration_seconds",
      help: "Duration of Kubernetes API discovery runs (resource mapper refresh), by result.",
      labelNames: ["result"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.configReloads = new Counter({
      name: "prom_hpa_adapter_config_reloads_total",
      help: "Changes of the rules file seen while running, by result (applied, invalid: refused, failed: not applied yet).",
      labelNames: ["result"],
      registers,
    });
  }

  observeRequest(
    group: string,
    version: string,
    resource: string,
    verb: string,
    code: number,
    seconds: number,
  ): void {
    this.requests.inc({ group, version, resource, verb, code: String(code) });
    this.latency.observe({ group, version, resource, verb }, seconds);
  }

  authCacheLookup(cache: AuthCache, hit: boolean): void {
    this.authCache.inc({ cache, result: hit ? "hit" : "miss" });
  }

  /** A changed rules file: applied, refused as invalid, or valid but not applied yet. */
  configReload(result: "applied" | "invalid" | "failed"): void {
    this.configReloads.inc({ result });
  }

  apiDiscoveryRun(ok: boolean, seconds: number): void {
    this.resourceDiscovery.observe({ result: ok ? "success" : "failure" }, seconds);
  }

  /** The hooks the Prometheus backend calls. */
  backendHooks(): BackendMetrics {
    return {
      prometheusRequest: (endpoint, outcome, seconds) => {
        this.promLatency.observe({ endpoint, outcome }, seconds);
        if (outcome !== "ok") this.promErrors.inc({ endpoint, outcome });
      },
      coalescedQuery: (endpoint) => this.coalesced.inc({ endpoint }),
      discoveryRun: (ok, seconds, seriesCount) => {
        this.discoveryLatency.observe({ result: ok ? "success" : "failure" }, seconds);
        if (ok) this.discoverySeries.set(seriesCount);
      },
    };
  }
}
