// Everything behind the provider seam, assembled: the Prometheus client, the compiled rules,
// the relist loop and the three providers. See index.ts for how the HTTP side uses it.
import { silentLogger, type Logger } from "../../log/logger.js";
import type { MetricsDiscoveryConfig } from "../config/types.js";
import type {
  CustomMetricsProvider,
  ExternalMetricsProvider,
  ObjectLister,
  ResourceMapper,
  ResourceMetricsProvider,
} from "../provider.js";
import { createPrometheusClient, type PrometheusClient } from "../prometheus/client.js";
import type { PrometheusOptions } from "../prometheus/options.js";
import { SeriesDiscovery } from "../rules/series-discovery.js";
import { CompiledResourceRule, CompiledRule } from "../rules/rule.js";
import { PrometheusCustomMetrics } from "./custom.js";
import { PrometheusExternalMetrics } from "./external.js";
import { PrometheusResourceMetrics } from "./resource.js";
import type { MetricTimestamps } from "./sample-times.js";
import type { BackendMetrics, BackendStats } from "./types.js";

export interface PrometheusBackendOptions {
  /** A validated config: from loadConfigFile/parseConfig, or defaultConfig(). */
  config: MetricsDiscoveryConfig;
  prometheus: PrometheusOptions;
  /** --metrics-relist-interval; default 60 000 ms. */
  relistIntervalMs?: number;
  /** --metrics-max-age: series seen within this span are discovered; default the relist interval. */
  metricsMaxAgeMs?: number;
  /** While discovery has never succeeded or Prometheus is failing, retry this often; default 5 000 ms. */
  retryIntervalMs?: number;
  mapper: ResourceMapper;
  lister: ObjectLister;
  logger?: Logger;
  metrics?: BackendMetrics;
  /** Clock for the series API's time range; tests pass a fixed one. */
  now?: () => Date;
  /** A ready-made client instead of one built from `prometheus` (tests, benchmarks). */
  client?: PrometheusClient;
  /**
   * Where each rule sits in the config file ("rules[3]"), for messages, when `config` holds a
   * subset of the file's rules (one backend's); default their index in `config`.
   */
  rulePaths?: { rules: string[]; externalRules: string[] };
  /** --metric-timestamps: a custom/external value's timestamp is the query's time (default) or its newest sample's */
  metricTimestamps?: MetricTimestamps;
}

export interface PrometheusBackend {
  custom: CustomMetricsProvider;
  external: ExternalMetricsProvider;
  /** Answers NotFound for everything when the config has no resourceRules (see servesResourceMetrics). */
  resource: ResourceMetricsProvider;
  servesResourceMetrics: boolean;
  /** Runs discovery once (resolves whether or not Prometheus answered), then relists periodically. */
  start(): Promise<void>;
  /** Stops relisting and closes the connections to Prometheus. */
  stop(): Promise<void>;
  /** Discovery has succeeded at least once and Prometheus' last answer was good. */
  ready(): boolean;
  stats(): BackendStats;
  /** Runs one discovery now (also used by start); resolves when it is done. */
  relist(): Promise<void>;
  /**
   * Puts a new rules config in force without a failed request: its first discovery runs beside
   * the old rules, which keep answering until it succeeds; on failure the old rules stay.
   */
  reload(config: MetricsDiscoveryConfig): Promise<ReloadOutcome>;
}

export type ReloadOutcome = { ok: true; seriesCount: number } | { ok: false; message: string };

const DEFAULT_RELIST_MS = 60_000;
const DEFAULT_RETRY_MS = 5_000;

export function createPrometheusBackend(options: PrometheusBackendOptions): PrometheusBackend {
  const logger = options.logger ?? silentLogger;
  const relistMs = options.relistIntervalMs ?? DEFAULT_RELIST_MS;
  const retryMs = Math.min(options.retryIntervalMs ?? DEFAULT_RETRY_MS, relistMs);
  const prom = { requests: 0, errors: 0, coalesced: 0, lastError: undefined as string | undefined };
  const userMetrics = options.metrics;
  const metrics: BackendMetrics = {
    prometheusRequest(endpoint, outcome, seconds) {
      prom.requests++;
      if (outcome !== "ok") prom.errors++;
      userMetrics?.prometheusRequest?.(endpoint, outcome, seconds);
    },
    coalescedQuery(endpoint) {
      prom.coalesced++;
      userMetrics?.coalescedQuery?.(endpoint);
    },
    discoveryRun(ok, seconds, count) {
      userMetrics?.discoveryRun?.(ok, seconds, count);
    },
  };
  const baseClient =
    options.client ??
    createPrometheusClient(options.prometheus, {
      metrics,
      onOutcome: (outcome, error) => {
        if (outcome !== "ok" && error) prom.lastError = error;
      },
    });

  // Every failed call brings the next relist forward to the retry interval, so readiness comes
  // back soon after Prometheus does even when no metric requests arrive meanwhile.
  let onFailure = (): void => {};
  const watch = <T extends { ok: boolean; error?: { kind: string } }>(p: Promise<T>): Promise<T> =>
    p.then((r) => {
      if (!r.ok && r.error?.kind !== "query_error") onFailure();
      return r;
    });
  const client: PrometheusClient = {
    query: (expr, opts) => watch(baseClient.query(expr, opts)),
    series: (match, opts) => watch(baseClient.series(match, opts)),
    lastCall: () => baseClient.lastCall(),
    close: () => baseClient.close(),
  };

  const { mapper, lister } = options;
  const maxAgeMs = options.metricsMaxAgeMs ?? relistMs;
  // Everything a rules config decides, replaced whole by reload(). A reloaded config's rules are
  // named by their index (rulePaths describes the file read at start).
  const compile = (config: MetricsDiscoveryConfig, paths = options.rulePaths) => {
    const rules = config.rules.map((r, i) => new CompiledRule(paths?.rules[i] ?? `rules[${i}]`, r, mapper));
    const externalRules = config.externalRules.map(
      (r, i) => new CompiledRule(paths?.externalRules[i] ?? `externalRules[${i}]`, r, mapper),
    );
    const rr = config.resourceRules;
    const resourceRules = rr
      ? {
          cpu: new CompiledResourceRule("resourceRules.cpu", rr.cpu, mapper),
          memory: new CompiledResourceRule("resourceRules.memory", rr.memory, mapper),
          windowSeconds: rr.windowSeconds,
        }
      : undefined;
    const discovery = new SeriesDiscovery({
      rules,
      externalRules,
      client,
      maxAgeMs,
      logger,
      metrics,
      now: options.now,
    });
    return { discovery, resourceRules };
  };
  let state = compile(options.config);
  const servesResourceMetrics = state.resourceRules !== undefined;
  const registry = () => state.discovery.registry();
  const d = {
    runs: 0,
    failures: 0,
    succeeded: false,
    lastRunAt: undefined as Date | undefined,
    lastDurationMs: undefined as number | undefined,
    lastError: undefined as string | undefined,
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  const relist = (): Promise<void> => {
    running ??= (async () => {
      const outcome = await state.discovery.run();
      d.runs++;
      d.lastRunAt = new Date();
      d.lastDurationMs = outcome.durationMs;
      if (outcome.ok) {
        if (!d.succeeded) {
          const reg = registry();
          logger.info(
            {
              series: reg.seriesCount,
              customMetrics: reg.customList.length,
              externalMetrics: reg.externalList.length,
              durationMs: Math.round(outcome.durationMs),
            },
            "series discovery ready",
          );
        } else if (d.lastError !== undefined)
          logger.info({ durationMs: Math.round(outcome.durationMs) }, "series discovery recovered");
        d.succeeded = true;
        d.lastError = undefined;
      } else {
        d.failures++;
        // Logged when an outage starts, not on every retry of it.
        if (d.lastError === undefined) {
          logger.warn(
            { err: outcome.error.message, kind: outcome.error.kind, haveMetrics: d.succeeded },
            "series discovery failed; keeping the previous metric list and retrying",
          );
        }
        d.lastError = outcome.error.message;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const healthy = (): boolean => d.succeeded && client.lastCall().ok;

  const timestamps =
    options.metricTimestamps !== undefined ? { metricTimestamps: options.metricTimestamps } : {};
  let due = 0;
  const schedule = (delayMs = healthy() ? relistMs : retryMs): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    due = Date.now() + delayMs;
    timer = setTimeout(() => {
      timer = undefined;
      void relist().finally(() => {
        if (timer === undefined) schedule();
      });
    }, delayMs);
    timer.unref();
  };
  onFailure = () => {
    if (timer !== undefined && due - Date.now() > retryMs) schedule(retryMs);
  };

  return {
    custom: new PrometheusCustomMetrics({ registry, client, mapper, lister, ...timestamps }),
    external: new PrometheusExternalMetrics({ registry, client, ...timestamps }),
    resource: new PrometheusResourceMetrics({ rules: () => state.resourceRules, client, lister }),
    servesResourceMetrics,
    async start() {
      stopped = false;
      await relist();
      if (timer === undefined) schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      await client.close();
    },
    ready: healthy,
    relist,
    async reload(config) {
      const next = compile(config, undefined);
      // Not while a relist of the old rules is running: it would swap its registry in after ours.
      await running;
      const outcome = await next.discovery.run();
      if (!outcome.ok) return { ok: false, message: outcome.error.message };
      state = next;
      if (servesResourceMetrics && next.resourceRules === undefined)
        logger.warn("the new rules have no resourceRules: metrics.k8s.io answers NotFound until they do");
      return { ok: true, seriesCount: outcome.seriesCount };
    },
    stats(): BackendStats {
      const reg = registry();
      const last = client.lastCall();
      const ready = healthy();
      const notReadyReason = ready
        ? undefined
        : !d.succeeded
          ? `series discovery has not succeeded yet${d.lastError ? `: ${d.lastError}` : ""}`
          : `Prometheus is not answering: ${last.error ?? prom.lastError ?? "unknown error"}`;
      const discoveryStats: BackendStats["discovery"] = {
        runs: d.runs,
        failures: d.failures,
        seriesCount: reg.seriesCount,
        customMetrics: reg.customList.length,
        externalMetrics: reg.externalList.length,
      };
      if (d.lastRunAt) discoveryStats.lastRunAt = d.lastRunAt;
      if (d.lastDurationMs !== undefined) discoveryStats.lastDurationMs = d.lastDurationMs;
      if (d.lastError) discoveryStats.lastError = d.lastError;
      const promStats: BackendStats["prometheus"] = {
        requests: prom.requests,
        errors: prom.errors,
        coalesced: prom.coalesced,
      };
      if (prom.lastError) promStats.lastError = prom.lastError;
      return notReadyReason
        ? { ready, notReadyReason, discovery: discoveryStats, prometheus: promStats }
        : { ready, discovery: discoveryStats, prometheus: promStats };
    },
  };
}
