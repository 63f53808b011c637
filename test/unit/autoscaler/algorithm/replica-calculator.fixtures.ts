// Builders for the replica calculator's tests: real API objects in their JSON form, parsed
// through objects.ts exactly as live responses are.
import {
  externalMetricValueListSchema,
  metricSpecSchema,
  metricValueListSchema,
  podMetricsListSchema,
  podSchema,
  type MetricResponse,
  type MetricSpec,
  type Pod,
} from "../../../../src/kube/objects.js";
import { labelSelectorAsSelector, type ParsedSelector } from "../../../../src/kube/selector.js";
import {
  computeReplicasForMetric,
  type ComputeReplicasInput,
  type ProposalResult,
} from "../../../../src/autoscaler/algorithm/replica-calculator.js";
import { withDefaults } from "../../../../src/autoscaler/algorithm/settings.js";

export const NOW = Date.parse("2026-01-01T00:00:00Z");
export const NAMESPACE = "test-namespace";
export const iso = (ms: number): string => new Date(ms).toISOString();
/** seconds before NOW, as an RFC 3339 time */
export const ago = (seconds: number): string => iso(NOW - seconds * 1000);

export interface PodOptions {
  phase?: string;
  /** the Ready condition's status; null for no Ready condition */
  ready?: "True" | "False" | null;
  startTime?: string | null;
  readySince?: string;
  requests?: Record<string, string>;
  /** container name → requests; overrides `requests` */
  containers?: Record<string, Record<string, string>>;
  deleting?: boolean;
  labels?: Record<string, string>;
}

/** A pod of the test workload: Running, Ready for 10 minutes, started 10 minutes ago, 1 CPU requested. */
export function pod(name: string, o: PodOptions = {}): Pod {
  const containers = o.containers ?? { app: o.requests ?? { cpu: "1" } };
  const ready = o.ready === undefined ? "True" : o.ready;
  return podSchema.parse({
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: o.labels ?? { app: "web" },
      ...(o.deleting ? { deletionTimestamp: ago(1) } : {}),
    },
    spec: {
      containers: Object.entries(containers).map(([cname, requests]) => ({
        name: cname,
        resources: { requests },
      })),
    },
    status: {
      phase: o.phase ?? "Running",
      ...(o.startTime === null ? {} : { startTime: o.startTime ?? ago(600) }),
      conditions:
        ready === null
          ? []
          : [{ type: "Ready", status: ready, lastTransitionTime: o.readySince ?? ago(600) }],
    },
  });
}

/** A PodMetricsList: pod name → container name → usage (or a single cpu usage for container "app"). */
export function podMetrics(
  samples: Record<string, string | Record<string, Record<string, string>>>,
  o: { timestamp?: string; window?: string } = {},
): MetricResponse {
  return podMetricsListSchema.parse({
    apiVersion: "metrics.k8s.io/v1beta1",
    kind: "PodMetricsList",
    items: Object.entries(samples).map(([name, usage]) => ({
      metadata: { name, namespace: NAMESPACE },
      timestamp: o.timestamp ?? ago(30),
      window: o.window ?? "30s",
      containers:
        typeof usage === "string"
          ? [{ name: "app", usage: { cpu: usage } }]
          : Object.entries(usage).map(([cname, u]) => ({ name: cname, usage: u })),
    })),
  });
}

/** A custom.metrics.k8s.io/v1beta2 MetricValueList about pods (name → value). */
export function podValues(metric: string, samples: Record<string, string>): MetricResponse {
  return metricValueListSchema.parse({
    apiVersion: "custom.metrics.k8s.io/v1beta2",
    kind: "MetricValueList",
    items: Object.entries(samples).map(([name, value]) => ({
      describedObject: { kind: "Pod", name, namespace: NAMESPACE, apiVersion: "v1" },
      metric: { name: metric },
      timestamp: ago(30),
      value,
    })),
  });
}

/** A MetricValueList about one object (or several, to test the "exactly one" rule). */
export function objectValues(metric: string, ...values: string[]): MetricResponse {
  return metricValueListSchema.parse({
    apiVersion: "custom.metrics.k8s.io/v1beta2",
    kind: "MetricValueList",
    items: values.map((value) => ({
      describedObject: { kind: "Deployment", name: "web", namespace: NAMESPACE, apiVersion: "apps/v1" },
      metric: { name: metric },
      timestamp: ago(30),
      value,
    })),
  });
}

export function externalValues(metric: string, ...values: string[]): MetricResponse {
  return externalMetricValueListSchema.parse({
    apiVersion: "external.metrics.k8s.io/v1beta1",
    kind: "ExternalMetricValueList",
    items: values.map((value) => ({
      metricName: metric,
      metricLabels: { queue: "jobs" },
      timestamp: ago(30),
      value,
    })),
  });
}

export const spec = (raw: unknown): MetricSpec => metricSpecSchema.parse(raw);
export const cpuUtilization = (percent: number): MetricSpec =>
  spec({
    type: "Resource",
    resource: { name: "cpu", target: { type: "Utilization", averageUtilization: percent } },
  });
export const podsAverage = (name: string, average: string): MetricSpec =>
  spec({ type: "Pods", pods: { metric: { name }, target: { type: "AverageValue", averageValue: average } } });

export function webSelector(): ParsedSelector {
  const parsed = labelSelectorAsSelector({ matchLabels: { app: "web" } });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.selector;
}

/** Runs the calculator with the test defaults (tolerance 0.1, CPU initialization 5m, readiness delay 30s). */
export function calc(
  input: Partial<ComputeReplicasInput> &
    Pick<ComputeReplicasInput, "metric" | "pods" | "response" | "currentReplicas">,
): ProposalResult {
  return computeReplicasForMetric({
    now: NOW,
    settings: withDefaults({}),
    selector: webSelector(),
    tolerances: { scaleUp: 0.1, scaleDown: 0.1 },
    namespace: NAMESPACE,
    ...input,
  });
}

/** The proposal of a result that must have succeeded. */
export function proposal(result: ProposalResult) {
  if (!result.ok) throw new Error(`expected a proposal, got ${result.reason}: ${result.message}`);
  return result.proposal;
}

/** The failure of a result that must have failed. */
export function failure(result: ProposalResult) {
  if (result.ok) throw new Error(`expected a failure, got ${result.proposal.replicas} replicas`);
  return result;
}
