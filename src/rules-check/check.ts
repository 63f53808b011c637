// What each rule of a rules file does with a set of series: the series its seriesQuery matches,
// the metrics and resources it yields, one query it renders. Rules that match nothing and
// metric names two rules both claim are flagged. Pure: the series come from the caller
// (Prometheus' series API or a file), so it runs offline and in tests.
import type { MetricsDiscoveryConfig } from "../adapter/config/types.js";
import type { ResourceMapper } from "../adapter/provider.js";
import type { SeriesLabels } from "../adapter/prometheus/schema.js";
import { buildRegistry } from "../adapter/rules/series-discovery.js";
import { buildExternalQuery, buildObjectQuery } from "../adapter/rules/query.js";
import { groupResourceKey } from "../adapter/rules/resources.js";
import { CompiledRule } from "../adapter/rules/rule.js";

export interface RuleReport {
  /** "rules[2]" or "externalRules[0]", as config errors name them. */
  path: string;
  seriesQuery: string;
  seriesMatched: number;
  /** A few of the matched series, as selectors. */
  seriesExamples: string[];
  /** "pods/http_requests_per_second" (custom) or "queue_depth" (external). */
  metrics: string[];
  /** One query the rule renders for its first metric, for an example object. */
  exampleQuery?: string;
  exampleQueryError?: string;
  warnings: string[];
}

export interface CheckReport {
  rules: RuleReport[];
  /** Metric names more than one rule yields (the later rule wins, as upstream). */
  conflicts: { metric: string; rules: string[] }[];
  seriesTotal: number;
  warningCount: number;
}

const EXAMPLES = 3;

export function seriesText(s: SeriesLabels): string {
  const labels = Object.entries(s)
    .filter(([k]) => k !== "__name__")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${s.__name__ ?? ""}{${labels.join(",")}}`;
}

/**
 * `seriesFor(selector)` answers what Prometheus' series API would for the rule's seriesQuery.
 */
export function checkRules(
  config: MetricsDiscoveryConfig,
  mapper: ResourceMapper,
  seriesFor: (seriesQuery: string) => readonly SeriesLabels[],
): CheckReport {
  const compiled = [
    ...config.rules.map((r, i) => ({ rule: new CompiledRule(`rules[${i}]`, r, mapper), external: false })),
    ...config.externalRules.map((r, i) => ({
      rule: new CompiledRule(`externalRules[${i}]`, r, mapper),
      external: true,
    })),
  ];
  const bySelector = new Map<string, readonly SeriesLabels[]>();
  for (const { rule } of compiled)
    if (!bySelector.has(rule.seriesQuery)) bySelector.set(rule.seriesQuery, seriesFor(rule.seriesQuery));

  const claimedBy = new Map<string, { metric: string; rules: string[] }>();
  const reports: RuleReport[] = [];
  for (const { rule, external } of compiled) {
    const series = bySelector.get(rule.seriesQuery) ?? [];
    const registry = external ? buildRegistry([], [rule], bySelector) : buildRegistry([rule], [], bySelector);
    const warnings: string[] = [];
    const report: RuleReport = {
      path: rule.path,
      seriesQuery: rule.seriesQuery,
      seriesMatched: series.length,
      seriesExamples: series.slice(0, EXAMPLES).map(seriesText),
      metrics: [],
      warnings,
    };
    if (external) {
      for (const [metric, entry] of registry.external) {
        report.metrics.push(metric);
        claim(claimedBy, `external ${metric}`, metric, rule.path);
        if (report.exampleQuery === undefined && report.exampleQueryError === undefined) {
          const q = buildExternalQuery(rule.metricsQuery, rule.resources, {
            series: entry.seriesName,
            namespace: rule.namespaced ? "default" : undefined,
            metricSelector: [],
            labelValueReplacements: rule.labelValueReplacements,
          });
          if (q.ok) report.exampleQuery = q.query;
          else report.exampleQueryError = q.error.message;
        }
      }
    } else {
      // The registry's own key, so "the same metric" means what discovery means by it. An
      // object's metric (a pod's) makes a better example than the namespace roll-up: first.
      const entries = [...registry.custom].sort(
        ([, a], [, b]) => Number(!a.info.namespaced) - Number(!b.info.namespaced),
      );
      for (const [key, entry] of entries) {
        const { groupResource, metric, namespaced } = entry.info;
        report.metrics.push(`${groupResourceKey(groupResource)}/${metric}${namespaced ? "" : " (cluster)"}`);
        claim(claimedBy, key, `${groupResourceKey(groupResource)}/${metric}`, rule.path);
        if (report.exampleQuery === undefined && report.exampleQueryError === undefined) {
          const label = rule.resources.labelForResource(groupResource);
          const example = series.find((s) => label !== undefined && s[label] !== undefined);
          const nsLabel = rule.resources.labelForResource({ group: "", resource: "namespaces" });
          const q = buildObjectQuery(rule.metricsQuery, rule.resources, {
            series: entry.seriesName,
            groupResource,
            namespace: namespaced ? ((nsLabel && example?.[nsLabel]) ?? "default") : undefined,
            names: [(label && example?.[label]) ?? "example"],
          });
          if (q.ok) report.exampleQuery = q.query;
          else report.exampleQueryError = q.error.message;
        }
      }
    }
    report.metrics.sort();
    if (series.length === 0) warnings.push("its seriesQuery matches no series");
    else if (report.metrics.length === 0)
      warnings.push(
        external
          ? "its series match, but name.matches/seriesFilters leave no metric"
          : "its series match, but none yields a metric: check name.matches, seriesFilters and that resources map a label of those series",
      );
    reports.push(report);
  }
  const conflicts = [...claimedBy.values()]
    .filter((c) => new Set(c.rules).size > 1)
    .map((c) => ({ metric: c.metric, rules: [...new Set(c.rules)] }))
    .sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  for (const c of conflicts)
    for (const r of reports)
      if (c.rules.includes(r.path))
        r.warnings.push(`${c.metric} is also yielded by ${c.rules.filter((p) => p !== r.path).join(", ")}`);
  // Distinct series: two selectors may match the same one.
  const distinct = new Set<string>();
  for (const list of bySelector.values()) for (const x of list) distinct.add(seriesText(x));
  const seriesTotal = distinct.size;
  return {
    rules: reports,
    conflicts,
    seriesTotal,
    warningCount: reports.reduce((n, r) => n + r.warnings.length, 0),
  };
}

function claim(
  claimed: Map<string, { metric: string; rules: string[] }>,
  key: string,
  metric: string,
  path: string,
): void {
  const c = claimed.get(key);
  if (c === undefined) claimed.set(key, { metric, rules: [path] });
  else c.rules.push(path);
}
