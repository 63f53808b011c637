// The adapter's rules file shipped in the install ConfigMap, in prometheus-adapter's own
// config format (`--config`): its default discovery rules, resource rules for
// metrics.k8s.io from cAdvisor's series, and the seed's `cpu_system` pods metric.
//
// Kept as text rather than built from objects so it reads exactly like the file an operator
// of prometheus-adapter already has, comments included.

/** The rate window of the default rules; short so the demo reacts within a minute. */
export const DEFAULT_RATE_INTERVAL = "1m";

export function adapterRulesConfig(rate: string = DEFAULT_RATE_INTERVAL): string {
  return `# prom-hpa adapter rules (prometheus-adapter config format).
# rules: prometheus-adapter's default discovery rules, plus the seed's cpu_system.
rules:
# The seed's pods metric: CPU seconds each pod's process spends in the kernel, per second.
# The sample workload exports process_cpu_system_seconds_total (prom-client); Prometheus
# labels each target with its namespace and pod.
- seriesQuery: 'process_cpu_system_seconds_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^process_cpu_system_seconds_total$"
    as: "cpu_system"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[${rate}])) by (<<.GroupBy>>)'
# cAdvisor counters in seconds: container_X_seconds_total -> X (rate). cAdvisor's
# container_cpu_system_seconds_total is left out so that cpu_system has one source, above.
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
  - isNot: "^container_cpu_system_seconds_total$"
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^container_(.*)_seconds_total$"
    as: ""
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[${rate}])) by (<<.GroupBy>>)'
# Other cAdvisor counters: container_X_total -> X (rate).
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
  - isNot: "^container_.*_seconds_total$"
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^container_(.*)_total$"
    as: ""
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[${rate}])) by (<<.GroupBy>>)'
# cAdvisor gauges: container_X -> X.
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
  - isNot: "^container_.*_total$"
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^container_(.*)$"
    as: ""
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)'
# Application gauges on any object named by a label (pod, service, ...).
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
  - isNot: ".*_total$"
  resources:
    template: "<<.Resource>>"
  name:
    matches: ""
    as: ""
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
# Application counters: X_total -> X (rate).
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
  - isNot: ".*_seconds_total"
  resources:
    template: "<<.Resource>>"
  name:
    matches: "^(.*)_total$"
    as: ""
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[${rate}])) by (<<.GroupBy>>)'
# Application counters in seconds: X_seconds_total -> X (rate).
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters: []
  resources:
    template: "<<.Resource>>"
  name:
    matches: "^(.*)_seconds_total$"
    as: ""
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[${rate}])) by (<<.GroupBy>>)'
# metrics.k8s.io (kubectl top, Resource metrics in HPAs) from cAdvisor's container series.
resourceRules:
  cpu:
    containerQuery: 'sum by (<<.GroupBy>>) (rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[${rate}]))'
    nodeQuery: 'sum by (<<.GroupBy>>) (rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id="/"}[${rate}]))'
    resources:
      overrides:
        node: {resource: "node"}
        namespace: {resource: "namespace"}
        pod: {resource: "pod"}
    containerLabel: container
  memory:
    containerQuery: 'sum by (<<.GroupBy>>) (container_memory_working_set_bytes{<<.LabelMatchers>>,container!="",pod!=""})'
    nodeQuery: 'sum by (<<.GroupBy>>) (container_memory_working_set_bytes{<<.LabelMatchers>>,id="/"})'
    resources:
      overrides:
        node: {resource: "node"}
        namespace: {resource: "namespace"}
        pod: {resource: "pod"}
    containerLabel: container
  window: ${rate}
`;
}
