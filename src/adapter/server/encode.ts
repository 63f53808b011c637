// Provider values → the wire objects of the three metrics APIs (JSON), field for field as
// k8s.io/metrics defines them. v1beta1 and v1beta2 MetricValues differ: v1beta1 names the
// metric in `metricName` with a top-level `selector` and `window`; v1beta2 has
// `metric: {name, selector}` and `windowSeconds`.
import type {
  CustomMetricValue,
  ExternalMetricValue,
  NodeUsage,
  ObjectReference,
  PodUsage,
} from "../provider.js";
import { CUSTOM_GROUP, EXTERNAL_GROUP, RESOURCE_GROUP, type CustomVersion } from "./routes.js";

/** metav1.LabelSelector as JSON; `null` when the metric was asked for without a selector. */
export interface LabelSelectorJSON {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Turns a validated selector string into metav1.LabelSelector (null for the empty selector). */
export type SelectorConverter = (selector: string) => LabelSelectorJSON | null;

// Items of one answer share a timestamp: remember the last one formatted.
let lastSecond = Number.NaN;
let lastText = "";

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export function kubeTime(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = new Date(second * 1000).toISOString().replace(".000Z", "Z");
    lastSecond = second;
  }
  return lastText;
}

/** metav1.Duration prints Go's time.Duration.String(): "30s", "1m0s", "1h30m0s", "1.5s". */
export function goDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const negative = seconds < 0;
  let rest = Math.abs(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  // Fractional seconds keep up to nanosecond precision without trailing zeros.
  const s = Number.isInteger(rest) ? String(rest) : rest.toFixed(9).replace(/0+$/, "");
  let out = "";
  if (h > 0) out = `${h}h${m}m${s}s`;
  else if (m > 0) out = `${m}m${s}s`;
  else out = `${s}s`;
  return negative ? `-${out}` : out;
}

function describedObject(ref: ObjectReference): Record<string, string> {
  const out: Record<string, string> = { kind: ref.kind };
  if (ref.namespace !== undefined && ref.namespace !== "") out.namespace = ref.namespace;
  out.name = ref.name;
  out.apiVersion = ref.apiVersion;
  return out;
}

function selectorOf(value: CustomMetricValue, convert: SelectorConverter): LabelSelectorJSON | null {
  const s = value.metric.selector;
  return s === undefined || s === "" ? null : convert(s);
}

export function metricValueList(
  version: CustomVersion,
  values: CustomMetricValue[],
  convert: SelectorConverter,
): object {
  const items =
    version === "v1beta1"
      ? values.map((v) => {
          const item: Record<string, unknown> = {
            describedObject: describedObject(v.describedObject),
            metricName: v.metric.name,
            timestamp: kubeTime(v.timestamp),
          };
          if (v.windowSeconds !== undefined) item.window = v.windowSeconds;
          item.value = v.value.toString();
          item.selector = selectorOf(v, convert);
          return item;
        })
      : values.map((v) => {
          const item: Record<string, unknown> = {
            describedObject: describedObject(v.describedObject),
            metric: { name: v.metric.name, selector: selectorOf(v, convert) },
            timestamp: kubeTime(v.timestamp),
          };
          if (v.windowSeconds !== undefined) item.windowSeconds = v.windowSeconds;
          item.value = v.value.toString();
          return item;
        });
  return { kind: "MetricValueList", apiVersion: `${CUSTOM_GROUP}/${version}`, metadata: {}, items };
}

export function externalMetricValueList(values: ExternalMetricValue[]): object {
  const items = values.map((v) => {
    const item: Record<string, unknown> = {
      metricName: v.metricName,
      metricLabels: v.metricLabels,
      timestamp: kubeTime(v.timestamp),
    };
    if (v.windowSeconds !== undefined) item.window = v.windowSeconds;
    item.value = v.value.toString();
    return item;
  });
  return { kind: "ExternalMetricValueList", apiVersion: `${EXTERNAL_GROUP}/v1beta1`, metadata: {}, items };
}

const RESOURCE_API_VERSION = `${RESOURCE_GROUP}/v1beta1`;

// metrics-server stamps metadata.creationTimestamp with the time of the answer; kubectl top
// ignores it, but clients decoding ObjectMeta expect the field.
export function podMetrics(pod: PodUsage, now: Date): object {
  return {
    kind: "PodMetrics",
    apiVersion: RESOURCE_API_VERSION,
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      creationTimestamp: kubeTime(now),
      labels: pod.labels,
    },
    timestamp: kubeTime(pod.timestamp),
    window: goDuration(pod.windowSeconds),
    containers: pod.containers.map((c) => ({
      name: c.name,
      usage: { cpu: c.usage.cpu.toString(), memory: c.usage.memory.toString() },
    })),
  };
}

export function nodeMetrics(node: NodeUsage, now: Date): object {
  return {
    kind: "NodeMetrics",
    apiVersion: RESOURCE_API_VERSION,
    metadata: { name: node.name, creationTimestamp: kubeTime(now), labels: node.labels },
    timestamp: kubeTime(node.timestamp),
    window: goDuration(node.windowSeconds),
    usage: { cpu: node.usage.cpu.toString(), memory: node.usage.memory.toString() },
  };
}

export function podMetricsList(pods: PodUsage[], now: Date): object {
  return {
    kind: "PodMetricsList",
    apiVersion: RESOURCE_API_VERSION,
    metadata: {},
    items: pods.map((p) => podMetrics(p, now)),
  };
}

export function nodeMetricsList(nodes: NodeUsage[], now: Date): object {
  return {
    kind: "NodeMetricsList",
    apiVersion: RESOURCE_API_VERSION,
    metadata: {},
    items: nodes.map((n) => nodeMetrics(n, now)),
  };
}
