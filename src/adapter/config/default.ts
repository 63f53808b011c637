// The rules prometheus-adapter runs with out of the box (its config-gen defaults, which the Helm
// chart also ships): cAdvisor container series attached to pods and namespaces, every other
// namespaced series attached to the resources its labels name, counters turned into rates over
// the rate interval, and resource rules (cpu, memory) from cAdvisor for metrics.k8s.io.
import { parseConfig } from "./load.js";
import type { MetricsDiscoveryConfig } from "./types.js";

export interface DefaultConfigOptions {
  /** Range of the rate() windows and the resource metrics window. Default "5m". */
  rateInterval?: string;
  /** Prefix of the namespace/pod/node labels, for setups that relabel them (e.g. "kubernetes_"). Default "". */
  labelPrefix?: string;
}

/** The default config as a YAML document in prometheus-adapter's format (for manifests and --config). */
export function defaultConfigYaml(options: DefaultConfigOptions = {}): string {
  const rate = options.rateInterval ?? "5m";
  const p = options.labelPrefix ?? "";
  const ns = `${p}namespace`;
  const pod = `${p}pod`;
  const cadvisorSeries = `'{__name__=~"^container_.*",container!="POD",${ns}!="",${pod}!=""}'`;
  const otherSeries = `'{${ns}!="",__name__!~"^container_.*"}'`;
  const podOverrides = `    overrides:\n      ${ns}: {resource: namespace}\n      ${pod}: {resource: pod}`;
  const templated = p === "" ? `    template: <<.Resource>>` : `    template: ${p}<<.Resource>>`;
  const rule = (
    series: string,
    filter: string | undefined,
    resources: string,
    matches: string,
    query: string,
  ): string =>
    [
      `- seriesQuery: ${series}`,
      `  seriesFilters: ${filter === undefined ? "[]" : `\n  - isNot: '${filter}'`}`,
      `  resources:\n${resources}`,
      `  name:\n    matches: '${matches}'\n    as: ""`,
      `  metricsQuery: '${query}'`,
    ].join("\n");
  const rateQuery = (extra: string): string =>
    `sum(rate(<<.Series>>{<<.LabelMatchers>>${extra}}[${rate}])) by (<<.GroupBy>>)`;
  const gaugeQuery = (extra: string): string =>
    `sum(<<.Series>>{<<.LabelMatchers>>${extra}}) by (<<.GroupBy>>)`;
  const podOnly = ',container!="POD"';
  const resourceOverrides = `      overrides:\n        instance: {resource: node}\n        ${ns}: {resource: namespace}\n        ${pod}: {resource: pod}`;
  return [
    "rules:",
    rule(cadvisorSeries, undefined, podOverrides, "^container_(.*)_seconds_total$", rateQuery(podOnly)),
    rule(
      cadvisorSeries,
      "^container_.*_seconds_total$",
      podOverrides,
      "^container_(.*)_total$",
      rateQuery(podOnly),
    ),
    rule(cadvisorSeries, "^container_.*_total$", podOverrides, "^container_(.*)$", gaugeQuery(podOnly)),
    rule(otherSeries, ".*_total$", templated, "", gaugeQuery("")),
    rule(otherSeries, ".*_seconds_total", templated, "^(.*)_total$", rateQuery("")),
    rule(otherSeries, undefined, templated, "^(.*)_seconds_total$", rateQuery("")),
    "resourceRules:",
    "  cpu:",
    `    containerQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[${rate}])) by (<<.GroupBy>>)'`,
    `    nodeQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id="/"}[${rate}])) by (<<.GroupBy>>)'`,
    "    resources:",
    resourceOverrides,
    "    containerLabel: container",
    "  memory:",
    "    containerQuery: 'sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)'",
    `    nodeQuery: 'sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id="/"}) by (<<.GroupBy>>)'`,
    "    resources:",
    resourceOverrides,
    "    containerLabel: container",
    `  window: ${rate}`,
    "",
  ].join("\n");
}

/** The default config, parsed and validated like any config file. */
export function defaultConfig(options: DefaultConfigOptions = {}): MetricsDiscoveryConfig {
  const loaded = parseConfig(defaultConfigYaml(options));
  if (!loaded.ok) throw new Error(`default adapter config is invalid: ${JSON.stringify(loaded.issues)}`);
  return loaded.config;
}
