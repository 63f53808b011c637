// The rules prometheus-adapter runs with out of the box: what its config generator produces for
// the same --rate-interval and --label-prefix. cAdvisor container series attach to pods and
// namespaces, every other namespaced series to the resources its labels name, counters become
// rates over the rate interval. The install manifests, the demo and the e2e configs build
// their rules files from the pieces here rather than writing their own.
//
// One deliberate difference: the generator's node queries read node-exporter series (and its
// memory one is not valid PromQL), so node usage here comes from cAdvisor's root cgroup
// (id="/"), which every kubelet exports.
import { parseConfig } from "./load.js";
import type { MetricsDiscoveryConfig } from "./types.js";

/** The generator's --rate-interval default. */
export const DEFAULT_RATE_INTERVAL = "5m";

export interface DefaultConfigOptions {
  /** Range of the rate() windows and the resource metrics window. Default DEFAULT_RATE_INTERVAL. */
  rateInterval?: string;
  /**
   * Prefix of the labels naming resources on non-cAdvisor series, and of the resource rules'
   * container label (e.g. "kubernetes_"). Default "".
   */
  labelPrefix?: string;
}

export interface DefaultRulesOptions extends DefaultConfigOptions {
  /** cAdvisor series (regexps) the container rules leave alone (an extra `isNot` filter each), for a rule of one's own. */
  excludeContainerSeries?: readonly string[];
}

/** The default discovery rules as the items of a YAML `rules:` list. */
export function defaultRulesYaml(options: DefaultRulesOptions = {}): string {
  const rate = options.rateInterval ?? DEFAULT_RATE_INTERVAL;
  const p = options.labelPrefix ?? "";
  const exclude = options.excludeContainerSeries ?? [];
  const ns = `${p}namespace`;
  // As in the generator, the cAdvisor rules keep the unprefixed labels: cAdvisor names them.
  const cadvisorSeries = `'{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'`;
  const otherSeries = `'{${ns}!="",__name__!~"^container_.*"}'`;
  const podOverrides = `    overrides:\n      namespace: {resource: namespace}\n      pod: {resource: pod}`;
  const templated = `    template: ${p}<<.Resource>>`;
  const rule = (
    series: string,
    filter: string | undefined,
    resources: string,
    matches: string,
    query: string,
  ): string => {
    const filters = [
      ...(filter === undefined ? [] : [filter]),
      ...(series === cadvisorSeries ? exclude : []),
    ];
    return [
      `- seriesQuery: ${series}`,
      `  seriesFilters:${filters.length === 0 ? " []" : filters.map((f) => `\n  - isNot: '${f}'`).join("")}`,
      `  resources:\n${resources}`,
      `  name:\n    matches: '${matches}'\n    as: ""`,
      `  metricsQuery: '${query}'`,
    ].join("\n");
  };
  const rateQuery = (extra: string): string =>
    `sum(rate(<<.Series>>{<<.LabelMatchers>>${extra}}[${rate}])) by (<<.GroupBy>>)`;
  const gaugeQuery = (extra: string): string =>
    `sum(<<.Series>>{<<.LabelMatchers>>${extra}}) by (<<.GroupBy>>)`;
  const podOnly = ',container!="POD"';
  return [
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
    "",
  ].join("\n");
}

export interface ResourceRulesOptions {
  /** The cpu rate window and the reported window. Default DEFAULT_RATE_INTERVAL. */
  window?: string;
  labelPrefix?: string;
  /** "irate" for tests that need a cpu reading from the last two samples. Default "rate". */
  rateFunction?: "rate" | "irate";
  /** The label naming a series' node. Default "instance", as the generator has it. */
  nodeLabel?: string;
  /** Leave out cAdvisor's pod-level (container="") series, as kube-prometheus' setup does. Default false. */
  containersOnly?: boolean;
}

/** The `resourceRules:` section (metrics.k8s.io: cpu and memory from cAdvisor), as YAML. */
export function resourceRulesYaml(options: ResourceRulesOptions = {}): string {
  const window = options.window ?? DEFAULT_RATE_INTERVAL;
  const p = options.labelPrefix ?? "";
  const fn = options.rateFunction ?? "rate";
  // cAdvisor's labels are never prefixed; the generator prefixes only containerLabel.
  const only = options.containersOnly === true ? ',container!="",pod!=""' : "";
  const overrides = [
    "    resources:",
    "      overrides:",
    `        ${options.nodeLabel ?? "instance"}: {resource: node}`,
    "        namespace: {resource: namespace}",
    "        pod: {resource: pod}",
    `    containerLabel: ${p}container`,
  ];
  return [
    "resourceRules:",
    "  cpu:",
    `    containerQuery: 'sum(${fn}(container_cpu_usage_seconds_total{<<.LabelMatchers>>${only}}[${window}])) by (<<.GroupBy>>)'`,
    `    nodeQuery: 'sum(${fn}(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id="/"}[${window}])) by (<<.GroupBy>>)'`,
    ...overrides,
    "  memory:",
    `    containerQuery: 'sum(container_memory_working_set_bytes{<<.LabelMatchers>>${only}}) by (<<.GroupBy>>)'`,
    `    nodeQuery: 'sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id="/"}) by (<<.GroupBy>>)'`,
    ...overrides,
    `  window: ${window}`,
    "",
  ].join("\n");
}

/** The default config as a YAML document in prometheus-adapter's format (for --config). */
export function defaultConfigYaml(options: DefaultConfigOptions = {}): string {
  const window = options.rateInterval ?? DEFAULT_RATE_INTERVAL;
  return `rules:\n${defaultRulesYaml(options)}${resourceRulesYaml({ window, labelPrefix: options.labelPrefix })}`;
}

/** The default config, parsed and validated like any config file. */
export function defaultConfig(options: DefaultConfigOptions = {}): MetricsDiscoveryConfig {
  const loaded = parseConfig(defaultConfigYaml(options));
  if (!loaded.ok) throw new Error(`default adapter config is invalid: ${JSON.stringify(loaded.issues)}`);
  return loaded.config;
}
