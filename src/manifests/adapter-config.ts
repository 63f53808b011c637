// The adapter's rules file shipped in the install ConfigMap, in prometheus-adapter's own
// config format (`--config`): the seed's `cpu_system` pods metric, prometheus-adapter's default
// discovery rules, and resource rules for metrics.k8s.io from cAdvisor's series. Both rule sets
// come from the adapter's defaults (src/adapter/config/default.ts); only the seed rule and the
// choices below are the manifests' own.
import { defaultRulesYaml, resourceRulesYaml, type ResourceRulesOptions } from "../adapter/config/default.js";

/** The rate window of the shipped rules; shorter than the adapter's 5m so the demo reacts within a minute. */
export const SHIPPED_RATE_INTERVAL = "1m";

/**
 * How the shipped resource rules read cAdvisor: nodes by the `node` label Prometheus' kubelet
 * scrape sets, and containers only (cAdvisor's pod-level series would count each pod twice).
 * The e2e adapter configs use the same.
 */
export const SHIPPED_RESOURCE_RULES: Readonly<ResourceRulesOptions> = {
  nodeLabel: "node",
  containersOnly: true,
};

/** cAdvisor's own cpu_system series, left out of the default rules so the seed's metric has one source. */
const SEED_SERIES = "process_cpu_system_seconds_total";
const CADVISOR_CPU_SYSTEM = "^container_cpu_system_seconds_total$";

export function adapterRulesConfig(rate: string = SHIPPED_RATE_INTERVAL): string {
  return `# prom-hpa adapter rules (prometheus-adapter config format).
# rules: the seed's cpu_system, then prometheus-adapter's default discovery rules.
rules:
# The seed's pods metric: CPU seconds each pod's process spends in the kernel, per second.
# The sample workload exports ${SEED_SERIES} (prom-client); Prometheus
# labels each target with its namespace and pod.
- seriesQuery: '${SEED_SERIES}{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: '^${SEED_SERIES}$'
    as: cpu_system
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[${rate}])) by (<<.GroupBy>>)'
${defaultRulesYaml({ rateInterval: rate, excludeContainerSeries: [CADVISOR_CPU_SYSTEM] })}# metrics.k8s.io (kubectl top, Resource metrics in HPAs) from cAdvisor's container series.
${resourceRulesYaml({ ...SHIPPED_RESOURCE_RULES, window: rate })}`;
}
