// prom-hpa's alerting rules, rendered both as a plain Prometheus rules file and as a
// prometheus-operator PrometheusRule. Our own metrics wherever we export the fact; the
// apiserver's aggregator gauge for APIService availability, and kube-state-metrics for an HPA's
// maxReplicas and ScalingActive condition, which we do not export.
import { INSTALL } from "../../rbac/permissions.js";
import { objectMeta } from "../../kube/rendered-object.js";
import { JOBS, apiServiceNames } from "./targets.js";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "critical" | "warning" | "info" };
  annotations: { summary: string; description: string };
}

export const RULE_GROUP = "prom-hpa";

const adapter = `job="${JOBS.adapter}"`;
const autoscaler = `job="${JOBS.autoscaler}"`;
/** The reasons the autoscaler records when it cannot read a metric (upstream's event reasons). */
const METRIC_FAILURE_REASONS = "FailedGet.*Metric|FailedComputeMetricsReplicas";

export function alertRules(): AlertRule[] {
  const apiServices = apiServiceNames()
    .map((n) => n.replaceAll(".", "\\\\."))
    .join("|");
  return [
    {
      alert: "PromHpaAdapterDown",
      expr: `absent(up{${adapter}} == 1)`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "No prom-hpa adapter replica is up.",
        description:
          "Prometheus has scraped no live prom-hpa adapter for 5 minutes: HPAs reading custom, external or resource metrics get no values and stop scaling.",
      },
    },
    {
      alert: "PromHpaAdapterNotReady",
      expr: `max by (name) (aggregator_unavailable_apiservice{name=~"${apiServices}"}) == 1`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "APIService {{ $labels.name }} is not Available.",
        description:
          "kube-apiserver has marked {{ $labels.name }} unavailable for 5 minutes: the adapter is not ready or not reachable from the aggregator.",
      },
    },
    {
      alert: "PromHpaAdapterPrometheusErrors",
      expr: `sum by (job, instance) (rate(prom_hpa_adapter_prometheus_errors_total{${adapter}}[5m])) / sum by (job, instance) (rate(prom_hpa_adapter_prometheus_request_duration_seconds_count{${adapter}}[5m])) > 0.05`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The adapter {{ $labels.instance }} sees errors from Prometheus.",
        description:
          "{{ $value | humanizePercentage }} of the adapter's calls to Prometheus failed over 5 minutes (unreachable, timeout, bad response or query error); see prom_hpa_adapter_prometheus_errors_total by outcome.",
      },
    },
    {
      alert: "PromHpaAdapterDiscoveryStale",
      // Up, yet no successful series discovery in 15 minutes: new metrics and series go unseen.
      expr: `(max by (job, instance) (up{${adapter}}) == 1) unless on (job, instance) (sum by (job, instance) (increase(prom_hpa_adapter_series_discovery_duration_seconds_count{${adapter}, result="success"}[15m])) > 0)`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The adapter {{ $labels.instance }} has not discovered series in 15 minutes.",
        description:
          "No series discovery run succeeded for 15 minutes; the adapter serves the metric list of its last good run. See prom_hpa_adapter_series_discovery_duration_seconds_count by result and the adapter's log.",
      },
    },
    {
      alert: "PromHpaAutoscalerNotLeading",
      expr: `absent(prom_hpa_autoscaler_is_leader{${autoscaler}} == 1)`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "No prom-hpa autoscaler replica leads.",
        description:
          "For 5 minutes no autoscaler replica has held the leader Lease (or none is scraped): no HPA owned by prom-hpa is being synced.",
      },
    },
    {
      alert: "PromHpaAutoscalerSyncErrors",
      expr: `sum by (job, instance) (rate(prom_hpa_autoscaler_syncs_total{${autoscaler}, result="error"}[5m])) / sum by (job, instance) (rate(prom_hpa_autoscaler_syncs_total{${autoscaler}}[5m])) > 0.1`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The autoscaler {{ $labels.instance }} fails HPA syncs.",
        description:
          "{{ $value | humanizePercentage }} of HPA syncs ended in an error over 5 minutes; prom_hpa_autoscaler_errors_total gives the reasons.",
      },
    },
    {
      alert: "PromHpaHpaMaxedOut",
      // Our desired count (clamped to maxReplicas) against kube-state-metrics' maxReplicas.
      expr: `max by (namespace, name) (prom_hpa_autoscaler_desired_replicas{${autoscaler}, mode="active"}) >= on (namespace, name) max by (namespace, name) (label_replace(kube_horizontalpodautoscaler_spec_max_replicas, "name", "$1", "horizontalpodautoscaler", "(.+)"))`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "HPA {{ $labels.namespace }}/{{ $labels.name }} has wanted maxReplicas for 15 minutes.",
        description:
          "The autoscaler's desired replica count for {{ $labels.namespace }}/{{ $labels.name }} has been at its maxReplicas ({{ $value }}) for 15 minutes: the workload may need more.",
      },
    },
    {
      alert: "PromHpaHpaMetricFailing",
      // kube-state-metrics gives the HPA whose ScalingActive is False; our error reasons say the
      // cause is a metric that cannot be read (not, say, a target scaled to zero).
      expr: `(max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_condition{condition="ScalingActive", status="false"}) == 1) and on () (sum(rate(prom_hpa_autoscaler_errors_total{${autoscaler}, reason=~"${METRIC_FAILURE_REASONS}"}[10m])) > 0)`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} cannot read its metrics.",
        description:
          "ScalingActive has been False for 10 minutes while the autoscaler reports metric failures; `kubectl describe hpa -n {{ $labels.namespace }} {{ $labels.horizontalpodautoscaler }}` shows which metric.",
      },
    },
  ];
}

export function ruleGroups(): { name: string; rules: AlertRule[] }[] {
  return [{ name: RULE_GROUP, rules: alertRules() }];
}

/** The PrometheusRule object for prometheus-operator. */
export function prometheusRule(): unknown {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: objectMeta("prom-hpa", "monitoring", INSTALL.namespace),
    spec: { groups: ruleGroups() },
  };
}
