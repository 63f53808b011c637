// The adapter's metrics backend, as the HTTP side sees it. One call builds everything behind
// the provider seam (src/adapter/provider.ts) from a prometheus-adapter config file:
//
//   import { loadConfigFile, defaultConfig, formatIssue } from "../config/index.js";
//   import { createPrometheusBackend, prometheusOptionsFromFlags } from "./index.js";
//
//   const loaded = await loadConfigFile(flags.config);      // { ok, config } | { ok: false, issues }
//   if (!loaded.ok) { for (const i of loaded.issues) log.error(formatIssue(i)); exit(1) }
//   const prom = await prometheusOptionsFromFlags({         // --prometheus-* flags → options
//     url, timeoutMs, authConfigFile, tokenFile, caFile, clientCertFile, clientKeyFile,
//     insecureSkipTlsVerify, headers });                    // { ok, options } | { ok: false, message }
//   const backend = createPrometheusBackend({               // synchronous; throws only on unreadable CA/cert files
//     config: loaded.config,                                 // or defaultConfig({ rateInterval: "5m" })
//     prometheus: prom.options,                              // PrometheusOptions {url, timeoutMs, auth, tls, headers}
//     relistIntervalMs: 60_000,                              // --metrics-relist-interval (default 1m)
//     metricsMaxAgeMs,                                       // --metrics-max-age (default = relist interval)
//     mapper, lister,                                        // ResourceMapper / ObjectLister (informers);
//                                                            // lister.listObjects (optional) gives PodMetrics labels
//     logger, metrics,                                       // pino Logger; BackendMetrics hooks (all optional)
//   });
//   await backend.start();   // one discovery run (resolves even if Prometheus is down), then relists;
//                            // while not ready it retries every 5 s (retryIntervalMs)
//   backend.custom / backend.external / backend.resource     // the three providers (never throw)
//   backend.servesResourceMetrics                            // false when the config has no resourceRules
//   backend.ready()          // discovery has succeeded once and Prometheus' last answer was good
//   backend.stats()          // BackendStats: ready, notReadyReason, discovery and Prometheus counters
//   await backend.relist()   // force a discovery run now (tests)
//   await backend.stop();    // stops relisting, closes keep-alive connections
//
// Provider errors are ProviderError values: NotFound (unknown metric or resource, no series
// for the object), BadRequest (selector the backend cannot express in PromQL, or Prometheus
// refused the query as bad_data), Unavailable (Prometheus unreachable / timed out / answering
// garbage; the message has the cause), Internal (a rule's query failed to render or to run).
export { createPrometheusBackend } from "./backend.js";
export { createPrometheusBackends } from "./backends.js";
export type { MultiBackend } from "./backends.js";
export type { PrometheusBackend, PrometheusBackendOptions } from "./backend.js";
export type { BackendMetrics, BackendStats } from "./types.js";
export type { PrometheusEndpoint, PrometheusOutcome } from "../prometheus/hooks.js";
export type { PrometheusOptions, PrometheusAuth, PrometheusTls } from "../prometheus/options.js";
export { prometheusOptionsFromFlags } from "../prometheus/flags.js";
export type { PrometheusFlags } from "../prometheus/flags.js";
