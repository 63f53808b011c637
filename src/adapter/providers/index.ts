// The adapter's metrics backend, as the HTTP side sees it. One call builds everything behind
// the provider seam (src/adapter/provider.ts) from a prometheus-adapter config file:
//
//   import { loadConfigFile, defaultConfig } from "../config/index.js";
//   import { createPrometheusBackend } from "../providers/index.js";
//
//   const loaded = await loadConfigFile(flags.config);       // Result: every issue with its path
//   if (!loaded.ok) { for (const i of loaded.issues) log.error(i); exit(1) }
//   const backend = createPrometheusBackend({
//     config: loaded.config,                                  // or defaultConfig()
//     prometheus: { url, timeoutMs, auth, tls, headers },     // see PrometheusOptions; or
//                                                             // await prometheusOptionsFromFlags({...})
//     relistIntervalMs: 60_000,                               // --metrics-relist-interval (default 1m)
//     mapper, lister,                                         // ResourceMapper / ObjectLister (informers)
//     logger, metrics,                                        // pino Logger; BackendMetrics hooks
//   });
//   await backend.start();   // runs discovery once (resolves even if Prometheus is down), then relists
//   backend.custom / backend.external / backend.resource      // the three providers
//   backend.ready()          // discovery has succeeded once and Prometheus' last answer was good
//   backend.stats()          // BackendStats snapshot (counts, last error, series count)
//   await backend.stop();    // stops relisting, closes keep-alive connections
//
// Errors from the providers are ProviderError values: NotFound (unknown metric, no series for
// the object), BadRequest (selector the backend cannot express, query refused as bad_data),
// Unavailable (Prometheus unreachable / timed out / answering garbage; message has the cause),
// Internal (a rule's template failed to render). Providers never throw.
export { createPrometheusBackend } from "./backend.js";
export type { PrometheusBackend, PrometheusBackendOptions } from "./backend.js";
export type { BackendMetrics, BackendStats, PrometheusEndpoint, PrometheusOutcome } from "./types.js";
export type { PrometheusOptions, PrometheusAuth, PrometheusTls } from "../prometheus/options.js";
export { prometheusOptionsFromFlags } from "../prometheus/flags.js";
export type { PrometheusFlags } from "../prometheus/flags.js";
