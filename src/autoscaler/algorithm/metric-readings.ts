// What kube-controller-manager's metrics client (pkg/controller/podautoscaler/metrics/client.go)
// makes of a metrics API answer before the replica calculator sees it: per-pod milli-values with
// their sample time and window, an object's single value, or an external metric's values. The
// error texts are the client's, since the calculator wraps them into the messages users read.
import {
  kubeTimeToEpochMs,
  GO_ZERO_TIME,
  metricValueName,
  type ExternalMetricValueList,
  type MetricResponse,
  type MetricValueList,
  type PodMetricsList,
} from "../../kube/objects.js";
import { parseGoDuration } from "../../kube/duration.js";
import type { Quantity } from "../../kube/quantity.js";

/** Go's zero time.Time as epoch milliseconds: "no timestamp" in upstream's return values. */
export const GO_ZERO_TIME_MS = Date.parse(GO_ZERO_TIME);

export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

/** Quantity.MilliValue() as an int64; beyond the int64 range it saturates. */
export function milliValue(q: Quantity): bigint {
  const v = q.milliValue();
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}

/** One pod's sample: upstream's metricsclient.PodMetric. */
export interface PodMetric {
  /** epoch ms of the sample */
  timestamp: number;
  /** the sample's window in ms */
  windowMs: number;
  /** milli-units */
  value: bigint;
}

/** Samples by pod name (upstream's PodMetricsInfo). A Map keeps Go's "last one wins" on duplicate names. */
export type PodMetricsInfo = Map<string, PodMetric>;

export type Reading<T> = { ok: true; value: T } | { ok: false; error: string };

/** The window custom metrics get when the API omits one (metricServerDefaultMetricWindow). */
const DEFAULT_CUSTOM_METRIC_WINDOW_MS = 60_000;

const timeMs = (t: string | null | undefined): number => kubeTimeToEpochMs(t) ?? GO_ZERO_TIME_MS;

/** A metric's window; 0 when absent or not a Go duration. */
function goDurationMs(window: string | undefined): number {
  const parsed = parseGoDuration(window ?? "");
  return parsed.ok ? parsed.ms : 0;
}

function unexpectedKind(response: MetricResponse, wanted: string): string {
  const kind = "kind" in response ? String(response.kind) : "unknown";
  return `the server answered a ${kind} where a ${wanted} was expected`;
}

/**
 * GetResourceMetric: a PodMetricsList as per-pod usage of `resource` in milli-units, the sum over
 * the pod's containers, or only `container`'s when one is named. A pod lacking the resource in
 * any container (or the named container) is left out, so the calculator counts it as missing.
 */
export function resourceMetricReadings(
  response: MetricResponse,
  resource: string,
  container: string,
): Reading<{ metrics: PodMetricsInfo; timestamp: number }> {
  if ("error" in response)
    return { ok: false, error: `unable to fetch metrics from resource metrics API: ${response.error}` };
  if (response.kind !== "PodMetricsList")
    return {
      ok: false,
      error: `unable to fetch metrics from resource metrics API: ${unexpectedKind(response, "PodMetricsList")}`,
    };
  const items = (response as PodMetricsList).items ?? [];
  const first = items[0];
  if (!first) return { ok: false, error: "no metrics returned from resource metrics API" };
  const metrics: PodMetricsInfo = new Map();
  for (const item of items) {
    const containers = item.containers ?? [];
    const sample = (value: bigint): PodMetric => ({
      timestamp: timeMs(item.timestamp),
      windowMs: goDurationMs(item.window),
      value,
    });
    if (container !== "") {
      const c = containers.find((x) => x.name === container);
      const usage = c?.usage[resource];
      if (usage) metrics.set(item.metadata.name, sample(milliValue(usage)));
      continue;
    }
    if (containers.length === 0) continue;
    let sum = 0n;
    let missing = false;
    for (const c of containers) {
      const usage = c.usage[resource];
      if (!usage) {
        missing = true;
        break;
      }
      sum += milliValue(usage);
    }
    if (!missing) metrics.set(item.metadata.name, sample(sum));
  }
  return { ok: true, value: { metrics, timestamp: timeMs(first.timestamp) } };
}

/** GetRawMetric: a MetricValueList about pods as per-pod milli-values, keyed by the described pod's name. */
export function podsMetricReadings(
  response: MetricResponse,
): Reading<{ metrics: PodMetricsInfo; timestamp: number }> {
  if ("error" in response)
    return { ok: false, error: `unable to fetch metrics from custom metrics API: ${response.error}` };
  if (response.kind !== "MetricValueList")
    return {
      ok: false,
      error: `unable to fetch metrics from custom metrics API: ${unexpectedKind(response, "MetricValueList")}`,
    };
  const items = (response as MetricValueList).items ?? [];
  const first = items[0];
  if (!first) return { ok: false, error: "no metrics returned from custom metrics API" };
  const metrics: PodMetricsInfo = new Map();
  for (const item of items) {
    // v1beta1 calls the window `window`, v1beta2 `windowSeconds`; the client converts both the same way
    const windowSeconds =
      "windowSeconds" in item ? item.windowSeconds : "window" in item ? item.window : undefined;
    metrics.set(item.describedObject.name ?? "", {
      timestamp: timeMs(item.timestamp),
      windowMs: typeof windowSeconds === "number" ? windowSeconds * 1000 : DEFAULT_CUSTOM_METRIC_WINDOW_MS,
      value: milliValue(item.value),
    });
  }
  return { ok: true, value: { metrics, timestamp: timeMs(first.timestamp) } };
}

/** GetObjectMetric: the one value the custom metrics API has for the described object. */
export function objectMetricReading(
  response: MetricResponse,
): Reading<{ value: bigint; timestamp: number; metricName: string }> {
  if ("error" in response)
    return { ok: false, error: `unable to fetch metrics from custom metrics API: ${response.error}` };
  if (response.kind !== "MetricValueList")
    return {
      ok: false,
      error: `unable to fetch metrics from custom metrics API: ${unexpectedKind(response, "MetricValueList")}`,
    };
  const items = (response as MetricValueList).items ?? [];
  const only = items[0];
  if (items.length !== 1 || !only) {
    return {
      ok: false,
      error: `unable to fetch metrics from custom metrics API: the custom metrics API server returned ${items.length} results when we asked for exactly one`,
    };
  }
  return {
    ok: true,
    value: {
      value: milliValue(only.value),
      timestamp: timeMs(only.timestamp),
      metricName: metricValueName(only),
    },
  };
}

/** GetExternalMetric: every value the external metrics API returned, in milli-units. */
export function externalMetricReadings(
  response: MetricResponse,
): Reading<{ values: bigint[]; timestamp: number }> {
  if ("error" in response)
    return { ok: false, error: `unable to fetch metrics from external metrics API: ${response.error}` };
  if (response.kind !== "ExternalMetricValueList")
    return {
      ok: false,
      error: `unable to fetch metrics from external metrics API: ${unexpectedKind(response, "ExternalMetricValueList")}`,
    };
  const items = (response as ExternalMetricValueList).items ?? [];
  const first = items[0];
  if (!first) return { ok: false, error: "no metrics returned from external metrics API" };
  return {
    ok: true,
    value: { values: items.map((m) => milliValue(m.value)), timestamp: timeMs(first.timestamp) },
  };
}
