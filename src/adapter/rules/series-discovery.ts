// Series discovery: each distinct seriesQuery goes once to the series API; every rule then
// filters and names the series it got and ties them to Kubernetes resources through their
// labels. The result is an immutable registry of the metrics the adapter serves, replaced
// whole on every relist, so metrics appear and disappear with their series.
//
// Cost is linear in the number of series: a series name is filtered and named once per rule
// (cached), a label name is resolved once per rule (cached), and each series only does map
// lookups for its labels. 100k series take well under a second (see scripts/bench).
import type { Logger } from "../../log/logger.js";
import type { CustomMetricInfo, ExternalMetricInfo, GroupResource, ResourceMapping } from "../provider.js";
import type { PrometheusClient, PrometheusError } from "../prometheus/client.js";
import type { SeriesLabels } from "../prometheus/schema.js";
import { groupResourceKey } from "./resources.js";
import type { CompiledRule } from "./rule.js";

export interface CustomEntry {
  info: CustomMetricInfo;
  mapping: ResourceMapping;
  rule: CompiledRule;
  seriesName: string;
}

export interface ExternalEntry {
  metric: string;
  rule: CompiledRule;
  seriesName: string;
}

export function customKey(gr: GroupResource, metric: string, namespaced: boolean): string {
  return `${groupResourceKey(gr)}\u0000${metric}\u0000${namespaced ? "ns" : "cluster"}`;
}

export class MetricRegistry {
  readonly customList: CustomMetricInfo[];
  readonly externalList: ExternalMetricInfo[];

  constructor(
    readonly custom: ReadonlyMap<string, CustomEntry>,
    readonly external: ReadonlyMap<string, ExternalEntry>,
    readonly seriesCount: number,
  ) {
    this.customList = [...custom.values()].map((e) => e.info);
    this.externalList = [...external.keys()].map((metric) => ({ metric }));
  }

  static empty(): MetricRegistry {
    return new MetricRegistry(new Map(), new Map(), 0);
  }

  lookupCustom(gr: GroupResource, metric: string, namespaced: boolean): CustomEntry | undefined {
    return this.custom.get(customKey(gr, metric, namespaced));
  }

  lookupExternal(metric: string): ExternalEntry | undefined {
    return this.external.get(metric);
  }
}

const NAMESPACES_KEY = "namespaces";

/** Builds the registry from each selector's series. Pure apart from the rules' label caches. */
export function buildRegistry(
  rules: readonly CompiledRule[],
  externalRules: readonly CompiledRule[],
  seriesBySelector: ReadonlyMap<string, readonly SeriesLabels[]>,
): MetricRegistry {
  const custom = new Map<string, CustomEntry>();
  const external = new Map<string, ExternalEntry>();
  let seriesCount = 0;
  for (const list of seriesBySelector.values()) seriesCount += list.length;

  for (const rule of rules) {
    const series = seriesBySelector.get(rule.seriesQuery) ?? [];
    const names = new Map<string, string | null>();
    // metric → mappings already registered, by scope; mapping objects are cached per label by
    // the rule, so identity tells them apart without building a key string per series.
    const registered = new Map<string, { ns: Set<ResourceMapping>; cluster: Set<ResourceMapping> }>();
    for (const s of series) {
      const seriesName = s.__name__;
      if (seriesName === undefined) continue;
      let metric = names.get(seriesName);
      if (metric === undefined) {
        metric = rule.metricNameFor(seriesName) ?? null;
        names.set(seriesName, metric);
      }
      if (metric === null) continue;
      let hasNamespace = false;
      let found: ResourceMapping[] | undefined;
      for (const label in s) {
        if (label === "__name__") continue;
        const mapping = rule.resources.resourceForLabel(label);
        if (mapping === undefined) continue;
        if (mapping.groupResource.group === "" && mapping.groupResource.resource === NAMESPACES_KEY)
          hasNamespace = true;
        (found ??= []).push(mapping);
      }
      if (found === undefined) continue;
      let done = registered.get(metric);
      if (done === undefined) {
        done = { ns: new Set(), cluster: new Set() };
        registered.set(metric, done);
      }
      for (const mapping of found) {
        const namespaced = hasNamespace && mapping.namespaced;
        const seen = namespaced ? done.ns : done.cluster;
        if (seen.has(mapping)) continue;
        seen.add(mapping);
        // When several rules yield the same metric for a resource, the later rule wins, as upstream.
        custom.set(customKey(mapping.groupResource, metric, namespaced), {
          info: { groupResource: mapping.groupResource, metric, namespaced },
          mapping,
          rule,
          seriesName,
        });
      }
    }
  }

  for (const rule of externalRules) {
    const series = seriesBySelector.get(rule.seriesQuery) ?? [];
    const seen = new Set<string>();
    for (const s of series) {
      const seriesName = s.__name__;
      if (seriesName === undefined || seen.has(seriesName)) continue;
      seen.add(seriesName);
      const metric = rule.metricNameFor(seriesName);
      if (metric === undefined || external.has(metric)) continue;
      external.set(metric, { metric, rule, seriesName });
    }
  }
  return new MetricRegistry(custom, external, seriesCount);
}

export type DiscoveryOutcome =
  | { ok: true; seriesCount: number; durationMs: number }
  | { ok: false; error: PrometheusError; durationMs: number };

/** What discovery reports about its runs, for the adapter's /metrics; optional. */
export interface DiscoveryMetrics {
  /** One discovery (relist) run finished. seriesCount is the number of series returned. */
  discoveryRun?(ok: boolean, seconds: number, seriesCount: number): void;
}

export interface DiscoveryOptions {
  rules: readonly CompiledRule[];
  externalRules: readonly CompiledRule[];
  client: PrometheusClient;
  /** Only series seen within this span count (prometheus-adapter's --metrics-max-age). */
  maxAgeMs: number;
  logger?: Logger;
  metrics?: DiscoveryMetrics;
  now?: () => Date;
}

export class SeriesDiscovery {
  private current = MetricRegistry.empty();
  private readonly selectors: string[];
  /** When the newest successful relist asked its question, while relists fail since (ms). */
  private lastGoodAtMs: number | undefined;
  private failedSinceGood = false;

  constructor(private readonly options: DiscoveryOptions) {
    this.selectors = [...new Set([...options.rules, ...options.externalRules].map((r) => r.seriesQuery))];
  }

  registry(): MetricRegistry {
    return this.current;
  }

  /** One relist. On failure the previous registry stays in place. */
  async run(): Promise<DiscoveryOutcome> {
    const started = performance.now();
    const now = this.options.now?.() ?? new Date();
    // An outage must never shrink discovery: while Prometheus was away nothing was scraped, so
    // the first relist after an outage longer than maxAge would find no recent series and drop
    // every metric. It looks back from the last good relist instead, until one succeeds again.
    const fromMs =
      this.failedSinceGood && this.lastGoodAtMs !== undefined
        ? Math.min(now.getTime(), this.lastGoodAtMs)
        : now.getTime();
    const start = new Date(fromMs - this.options.maxAgeMs);
    const answers = await Promise.all(
      this.selectors.map((sel) => this.options.client.series([sel], { start })),
    );
    const bySelector = new Map<string, readonly SeriesLabels[]>();
    for (const [i, answer] of answers.entries()) {
      const selector = this.selectors[i] as string;
      if (!answer.ok) {
        this.failedSinceGood = true;
        const durationMs = performance.now() - started;
        this.options.metrics?.discoveryRun?.(false, durationMs / 1000, 0);
        // The caller logs (once per outage); the selector goes into the error it gets.
        return {
          ok: false,
          error: { ...answer.error, message: `series ${JSON.stringify(selector)}: ${answer.error.message}` },
          durationMs,
        };
      }
      bySelector.set(selector, answer.value);
    }
    for (const r of [...this.options.rules, ...this.options.externalRules]) r.resources.reset();
    const registry = buildRegistry(this.options.rules, this.options.externalRules, bySelector);
    this.current = registry;
    this.lastGoodAtMs = now.getTime();
    this.failedSinceGood = false;
    const durationMs = performance.now() - started;
    this.options.metrics?.discoveryRun?.(true, durationMs / 1000, registry.seriesCount);
    this.options.logger?.debug(
      {
        series: registry.seriesCount,
        customMetrics: registry.customList.length,
        externalMetrics: registry.externalList.length,
        durationMs: Math.round(durationMs),
      },
      "series discovery done",
    );
    return { ok: true, seriesCount: registry.seriesCount, durationMs };
  }
}
