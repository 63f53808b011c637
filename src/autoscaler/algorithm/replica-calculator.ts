// The replica calculator: one metric of one HPA → a proposed replica count, as
// kube-controller-manager computes it (pkg/controller/podautoscaler: replica_calculator.go, the
// metrics client's conversions and utilization.go, and horizontal.go's computeStatusFor* helpers
// that pick the calculation per metric source and build the status and the metric's name).
//
// Integer arithmetic that upstream does in int64 milli-units is done here in bigint (exact, then
// saturated where upstream saturates); ratios are float64 (JS numbers), as upstream's are.
//
// Where we knowingly differ (none of it reachable through a valid HPA and sane metrics):
// - float → int32/int64 conversions saturate (NaN → 0) where Go's would wrap or be undefined;
//   sums of samples are exact instead of wrapping past int64 (except where upstream itself
//   saturates, which we mirror); a utilization percentage beyond int32 is clamped.
// - a Pods metric without averageValue fails with FailedGetPodsMetric instead of a nil dereference;
//   a metrics answer of the wrong kind is a failed metrics API call.
// - with status.replicas 0, an Object/External AverageValue status reports a per-pod average of 0
//   (upstream PR #140958, after 1.37; 1.37.2 divides by zero there).
import {
  type HorizontalPodAutoscalerBehavior,
  type LabelSelector,
  type MetricResponse,
  type MetricSpec,
  type MetricStatus,
  type MetricTarget,
  type MetricValueStatus,
  type Pod,
  type ResourceList,
  kubeTimeToEpochMs,
} from "../../kube/objects.js";
import { Quantity } from "../../kube/quantity.js";
import {
  goLabelSelectorString,
  labelSelectorAsSelector,
  selectorMatches,
  type ParsedSelector,
} from "../../kube/selector.js";
import {
  externalMetricReadings,
  GO_ZERO_TIME_MS,
  INT64_MAX,
  milliValue,
  objectMetricReading,
  podsMetricReadings,
  resourceMetricReadings,
  type PodMetricsInfo,
} from "./metric-readings.js";
import type { ControllerSettings } from "./settings.js";

export type { MetricResponse } from "../../kube/objects.js";

export interface MetricProposal {
  replicas: number;
  /** epoch ms of the metric sample (upstream's timestampProposal; Go's zero time where upstream leaves it unset) */
  timestamp: number;
  /** upstream's metricNameProposal, e.g. "cpu resource utilization (percentage of request)", "pods metric qps" */
  metricName: string;
  /** the autoscaling/v2 MetricStatus for status.currentMetrics */
  status: MetricStatus;
  /** percent, Utilization targets only */
  utilization?: number;
  /** the per-pod average, or the object/external value */
  rawValue: Quantity;
  /** what the calculation saw on its way, for explanations; no decision reads it */
  detail?: ProposalDetail;
}

/** The intermediate results of one metric's calculation (names as in upstream's replica calculator). */
export interface ProposalDetail {
  /** usage over target on the samples counted first (before missing/unready pods were filled in) */
  usageRatio: number;
  /** the ratio again after missing and unready pods were filled in; only when they were */
  adjustedUsageRatio?: number;
  /** pods with a sample that counted as ready (per-pod metrics) */
  readyPodCount?: number;
  /** pod names, per-pod metrics only: not ready (Pending, or CPU still initializing) */
  unreadyPods?: string[];
  /** pods without a sample */
  missingPods?: string[];
  /** pods being deleted, Failed or Succeeded */
  ignoredPods?: string[];
  /** Object/External Value targets: the Running and Ready pods the ratio multiplies */
  readyPods?: number;
}

export type ProposalResult =
  | { ok: true; proposal: MetricProposal }
  | {
      ok: false;
      /** the ScalingActive=False condition's reason, e.g. "FailedGetResourceMetric" */
      reason: string;
      /**
       * the error upstream hands to getUnableComputeReplicaCountCondition: the Warning Event's
       * message, and the condition's message after "the HPA was unable to compute the replica count: "
       */
      message: string;
      /**
       * the error upstream's computeStatusFor* helper returns, before computeReplicasForMetric wraps
       * it ("failed to get object metric value: ..."). It differs from `message` for Object and
       * External metrics, where upstream adds "failed to get <name> object metric: ..." and the like.
       */
      error: string;
    };

export interface Tolerances {
  scaleUp: number;
  scaleDown: number;
}

export interface ComputeReplicasInput {
  /** the controller's clock, epoch ms */
  now: number;
  settings: ControllerSettings;
  /** the scale subresource's status.replicas: the base of per-pod averages (Object/External AverageValue) */
  currentReplicas: number;
  /** the scale subresource's spec.replicas, which upstream uses for every other calculation; defaults to currentReplicas */
  specReplicas?: number;
  metric: MetricSpec;
  /** the scale subresource's pod selector */
  selector: ParsedSelector;
  /** the pods of the HPA's namespace; the calculator applies `selector` itself */
  pods: Pod[];
  /** what the metrics API answered for this metric */
  response: MetricResponse;
  tolerances: Tolerances;
  /** the HPA's namespace, for upstream's error texts; defaults to the first pod's namespace */
  namespace?: string;
}

/** The per-direction tolerances: behavior.scaleUp/scaleDown.tolerance, else the controller's. */
export function tolerancesFor(
  behavior: HorizontalPodAutoscalerBehavior | null | undefined,
  settings: ControllerSettings,
): Tolerances {
  return {
    scaleUp: behavior?.scaleUp?.tolerance?.toNumber() ?? settings.tolerance,
    scaleDown: behavior?.scaleDown?.tolerance?.toNumber() ?? settings.tolerance,
  };
}

/** Tolerances.isWithin: no change while 1 - scaleDown ≤ ratio ≤ 1 + scaleUp. */
export function isWithinTolerance(tolerances: Tolerances, usageRatio: number): boolean {
  return 1.0 - tolerances.scaleDown <= usageRatio && usageRatio <= 1.0 + tolerances.scaleUp;
}

const INT32_MAX = 2147483647;
/** float64(math.MaxInt64): int64's maximum rounds up to 2^63 as a float */
const INT64_MAX_AS_FLOAT = 2 ** 63;
const INT32_MIN = -2147483648;

/** int32(math.Ceil(x)), saturating where Go's conversion would be undefined (and NaN → 0). */
function ceilInt32(x: number): number {
  if (Number.isNaN(x)) return 0;
  const c = Math.ceil(x);
  return c > INT32_MAX ? INT32_MAX : c < INT32_MIN ? INT32_MIN : c === 0 ? 0 : c;
}

/** int64(math.Ceil(x)), saturating at the int64 limits. */
function ceilInt64(x: number): bigint {
  if (Number.isNaN(x)) return 0n;
  if (x >= INT64_MAX_AS_FLOAT) return INT64_MAX;
  if (x <= -INT64_MAX_AS_FLOAT) return -INT64_MAX - 1n;
  return BigInt(Math.ceil(x));
}

const clampInt64 = (v: bigint): bigint =>
  v > INT64_MAX ? INT64_MAX : v < -INT64_MAX - 1n ? -INT64_MAX - 1n : v;
const clampInt32 = (v: bigint): number =>
  Number(v > BigInt(INT32_MAX) ? BigInt(INT32_MAX) : v < BigInt(INT32_MIN) ? BigInt(INT32_MIN) : v);

type Calc<T> = ({ ok: true } & T) | { ok: false; error: string };

interface CalcContext {
  now: number;
  settings: ControllerSettings;
  /** the pods the selector picks, in the order given */
  pods: Pod[];
  tolerances: Tolerances;
  namespace: string;
}

// ---------------------------------------------------------------------------------------------
// Pods: readiness, grouping, requests

const podName = (pod: Pod): string => pod.metadata.name;
const phaseOf = (pod: Pod): string => pod.status?.phase ?? "";
const readyCondition = (pod: Pod) => (pod.status?.conditions ?? []).find((c) => c.type === "Ready");

/** podutil.IsPodReady */
function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === "True";
}

interface PodGroups {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

/**
 * groupPods: pods being deleted, Failed or Succeeded are ignored; Pending pods are unready;
 * pods without a sample are missing. For CPU, a pod is also unready while its samples may still
 * reflect start-up: inside the CPU initialization period, when it is not Ready or its sample
 * does not yet cover a full window since it became Ready; after it, when it is not Ready and
 * never was (its last transition came within the initial readiness delay of its start).
 */
function groupPods(ctx: CalcContext, metrics: PodMetricsInfo, resource: string): PodGroups {
  const groups: PodGroups = {
    readyPodCount: 0,
    unreadyPods: new Set(),
    missingPods: new Set(),
    ignoredPods: new Set(),
  };
  const cpuInitializationMs = ctx.settings.cpuInitializationPeriodSeconds * 1000;
  const readinessDelayMs = ctx.settings.delayOfInitialReadinessStatusSeconds * 1000;
  for (const pod of ctx.pods) {
    const name = podName(pod);
    const phase = phaseOf(pod);
    if (pod.metadata.deletionTimestamp != null || phase === "Failed" || phase === "Succeeded") {
      groups.ignoredPods.add(name);
      continue;
    }
    if (phase === "Pending") {
      groups.unreadyPods.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      groups.missingPods.add(name);
      continue;
    }
    if (resource === "cpu") {
      const condition = readyCondition(pod);
      const startTime = kubeTimeToEpochMs(pod.status?.startTime);
      let unready: boolean;
      if (!condition || startTime === undefined) {
        unready = true;
      } else {
        const lastTransition = kubeTimeToEpochMs(condition.lastTransitionTime) ?? GO_ZERO_TIME_MS;
        if (startTime + cpuInitializationMs > ctx.now) {
          unready = condition.status === "False" || metric.timestamp < lastTransition + metric.windowMs;
        } else {
          unready = condition.status === "False" && startTime + readinessDelayMs > lastTransition;
        }
      }
      if (unready) {
        groups.unreadyPods.add(name);
        continue;
      }
    }
    groups.readyPodCount++;
  }
  return groups;
}

function removeMetricsForPods(metrics: PodMetricsInfo, pods: Set<string>): void {
  for (const name of pods) metrics.delete(name);
}

const requestOf = (requests: ResourceList | null | undefined, resource: string): Quantity | undefined =>
  requests && Object.hasOwn(requests, resource) ? requests[resource] : undefined;

/** Pod-level requests (KEP-2837) count when the pod sets any of the resources they support. */
const POD_LEVEL_RESOURCES = new Set(["cpu", "memory"]);

function podLevelRequests(pod: Pod): ResourceList | undefined {
  const requests = pod.spec.resources?.requests;
  if (!requests || !Object.keys(requests).some((r) => POD_LEVEL_RESOURCES.has(r))) return undefined;
  return requests;
}

/** Regular containers plus restartable (sidecar) init containers, whose requests count towards the pod's. */
function requestingContainers(pod: Pod) {
  const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
  return [...pod.spec.containers, ...sidecars];
}

/**
 * resourcehelpers.PodRequests for a resource the pod does not set at pod level: the regular and
 * sidecar containers' sum, at least what any init container needs while it runs (with the
 * sidecars started before it), plus the pod's overhead. undefined when nothing requests it.
 */
function aggregateContainerRequest(pod: Pod, resource: string): Quantity | undefined {
  const add = (a: Quantity | undefined, b: Quantity | undefined) =>
    a === undefined ? b : b === undefined ? a : a.add(b);
  const max = (a: Quantity | undefined, b: Quantity | undefined) =>
    a === undefined ? b : b === undefined ? a : a.cmp(b) >= 0 ? a : b;
  let total: Quantity | undefined;
  for (const c of pod.spec.containers) total = add(total, requestOf(c.resources?.requests, resource));
  let sidecars: Quantity | undefined;
  let initPeak: Quantity | undefined;
  for (const c of pod.spec.initContainers ?? []) {
    const own = requestOf(c.resources?.requests, resource);
    let whileRunning: Quantity | undefined;
    if (c.restartPolicy === "Always") {
      total = add(total, own);
      sidecars = add(sidecars, own);
      whileRunning = sidecars;
    } else {
      whileRunning = add(own, sidecars);
    }
    initPeak = max(initPeak, whileRunning);
  }
  total = max(total, initPeak);
  return add(total, requestOf(pod.spec.overhead, resource));
}

/** calculateRequests: each pod's request for `resource` in milli-units (one container's, the pod-level one, or the containers' sum). */
function calculateRequests(
  pods: Pod[],
  container: string,
  resource: string,
): Calc<{ requests: Map<string, bigint> }> {
  const requests = new Map<string, bigint>();
  for (const pod of pods) {
    const name = podName(pod);
    const podLevel = container === "" ? podLevelRequests(pod) : undefined;
    if (podLevel) {
      const own = POD_LEVEL_RESOURCES.has(resource) ? requestOf(podLevel, resource) : undefined;
      if (own) {
        requests.set(name, milliValue(own));
        continue;
      }
      // a resource the pod does not set at pod level is what its containers request together
      const aggregate = aggregateContainerRequest(pod, resource);
      if (aggregate === undefined)
        return { ok: false, error: `missing pod-level request for ${resource} in Pod ${name}` };
      requests.set(name, milliValue(aggregate));
      continue;
    }
    let request = 0n;
    let found = false;
    for (const c of requestingContainers(pod)) {
      if (container === "" || container === c.name) {
        const q = requestOf(c.resources?.requests, resource);
        if (!q)
          return {
            ok: false,
            error: `missing request for ${resource} in container ${c.name} of Pod ${name}`,
          };
        request += milliValue(q);
      }
      if (container === c.name) {
        found = true;
        break;
      }
    }
    if (container !== "" && !found)
      return { ok: false, error: `container ${container} not found in Pod ${name}` };
    requests.set(name, request);
  }
  return { ok: true, requests };
}

// ---------------------------------------------------------------------------------------------
// utilization.go

/** GetResourceUtilizationRatio: total usage over total requests of the pods that have both. */
function resourceUtilizationRatio(
  metrics: PodMetricsInfo,
  requests: Map<string, bigint>,
  targetUtilization: number,
): Calc<{ ratio: number; utilization: number; rawAverage: bigint }> {
  let metricsTotal = 0n;
  let requestsTotal = 0n;
  let entries = 0n;
  for (const [name, metric] of metrics) {
    const request = requests.get(name);
    // a sample without a request belongs to a pod we do not know: it is extraneous
    if (request === undefined) continue;
    metricsTotal += metric.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0n) return { ok: false, error: "no metrics returned matched known pods" };
  const utilization = clampInt32((metricsTotal * 100n) / requestsTotal);
  return {
    ok: true,
    ratio: utilization / targetUtilization,
    utilization,
    rawAverage: clampInt64(metricsTotal / entries),
  };
}

/** GetMetricUsageRatio: the average per sample against the target average. */
function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: bigint): { ratio: number; usage: bigint } {
  let total = 0n;
  for (const metric of metrics.values()) total += metric.value;
  const usage = total / BigInt(metrics.size);
  return { ratio: Number(usage) / Number(targetUsage), usage };
}

// ---------------------------------------------------------------------------------------------
// replica_calculator.go

const NO_PODS = "no pods returned by selector while calculating replica count";
const NO_TARGETED_METRICS = "did not receive metrics for targeted pods (pods might be unready)";

/** GetResourceReplicas: a Utilization target (percent of the pods' requests). */
function resourceReplicas(
  ctx: CalcContext,
  response: MetricResponse,
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  container: string,
): Calc<{
  replicas: number;
  utilization: number;
  rawUtilization: bigint;
  timestamp: number;
  detail: ProposalDetail;
}> {
  const readings = resourceMetricReadings(response, resource, container);
  if (!readings.ok)
    return { ok: false, error: `unable to get metrics for resource ${resource}: ${readings.error}` };
  const { metrics, timestamp } = readings.value;
  if (ctx.pods.length === 0) return { ok: false, error: NO_PODS };

  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(ctx, metrics, resource);
  removeMetricsForPods(metrics, ignoredPods);
  removeMetricsForPods(metrics, unreadyPods);
  if (metrics.size === 0) return { ok: false, error: NO_TARGETED_METRICS };

  const requested = calculateRequests(ctx.pods, container, resource);
  if (!requested.ok) return requested;
  const { requests } = requested;

  const first = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if (!first.ok) return first;
  const { ratio: usageRatio, utilization, rawAverage: rawUtilization } = first;
  const detail = podDetail(usageRatio, readyPodCount, unreadyPods, missingPods, ignoredPods);
  const result = (replicas: number) => ({
    ok: true as const,
    replicas,
    utilization,
    rawUtilization,
    timestamp,
    detail,
  });

  const scaleUpWithUnready = unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (isWithinTolerance(ctx.tolerances, usageRatio)) return result(currentReplicas);
    return result(ceilInt32(usageRatio * readyPodCount));
  }

  if (missingPods.size > 0) {
    if (usageRatio < 1.0) {
      // scaling down: a pod without a sample counts as using its whole request, or the target when that is above 100%
      const fallbackUtilization = BigInt(Math.max(100, targetUtilization));
      for (const name of missingPods)
        metrics.set(name, {
          timestamp: 0,
          windowMs: 0,
          value: ((requests.get(name) ?? 0n) * fallbackUtilization) / 100n,
        });
    } else if (usageRatio > 1.0) {
      // scaling up: it counts as using nothing
      for (const name of missingPods) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0n });
    }
  }
  if (scaleUpWithUnready) {
    for (const name of unreadyPods) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0n });
  }

  const second = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if (!second.ok) return second;
  const newUsageRatio = second.ratio;
  detail.adjustedUsageRatio = newUsageRatio;
  // no change when the adjusted ratio is within tolerance or would reverse the direction
  if (
    isWithinTolerance(ctx.tolerances, newUsageRatio) ||
    (usageRatio < 1.0 && newUsageRatio > 1.0) ||
    (usageRatio > 1.0 && newUsageRatio < 1.0)
  ) {
    return result(currentReplicas);
  }
  const newReplicas = ceilInt32(newUsageRatio * metrics.size);
  if (
    (newUsageRatio < 1.0 && newReplicas > currentReplicas) ||
    (newUsageRatio > 1.0 && newReplicas < currentReplicas)
  ) {
    return result(currentReplicas);
  }
  return result(newReplicas);
}

/** calcPlainMetricReplicas: an average-value target over the pods' samples (Pods metrics, resource AverageValue). */
function plainMetricReplicas(
  ctx: CalcContext,
  metrics: PodMetricsInfo,
  currentReplicas: number,
  targetUsage: bigint,
  resource: string,
): Calc<{ replicas: number; usage: bigint; detail: ProposalDetail }> {
  if (ctx.pods.length === 0) return { ok: false, error: NO_PODS };
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(ctx, metrics, resource);
  removeMetricsForPods(metrics, ignoredPods);
  removeMetricsForPods(metrics, unreadyPods);
  if (metrics.size === 0) return { ok: false, error: NO_TARGETED_METRICS };

  const { ratio: usageRatio, usage } = metricUsageRatio(metrics, targetUsage);
  const detail = podDetail(usageRatio, readyPodCount, unreadyPods, missingPods, ignoredPods);
  const result = (replicas: number) => ({ ok: true as const, replicas, usage, detail });

  const scaleUpWithUnready = unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (isWithinTolerance(ctx.tolerances, usageRatio)) return result(currentReplicas);
    return result(ceilInt32(usageRatio * readyPodCount));
  }

  if (missingPods.size > 0) {
    if (usageRatio < 1.0) {
      // scaling down: a pod without a sample counts as exactly on target
      for (const name of missingPods) metrics.set(name, { timestamp: 0, windowMs: 0, value: targetUsage });
    } else if (usageRatio > 1.0) {
      for (const name of missingPods) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0n });
    }
  }
  if (scaleUpWithUnready) {
    for (const name of unreadyPods) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0n });
  }

  const newUsageRatio = metricUsageRatio(metrics, targetUsage).ratio;
  detail.adjustedUsageRatio = newUsageRatio;
  if (
    isWithinTolerance(ctx.tolerances, newUsageRatio) ||
    (usageRatio < 1.0 && newUsageRatio > 1.0) ||
    (usageRatio > 1.0 && newUsageRatio < 1.0)
  ) {
    return result(currentReplicas);
  }
  const newReplicas = ceilInt32(newUsageRatio * metrics.size);
  if (
    (newUsageRatio < 1.0 && newReplicas > currentReplicas) ||
    (newUsageRatio > 1.0 && newReplicas < currentReplicas)
  ) {
    return result(currentReplicas);
  }
  return result(newReplicas);
}

function podDetail(
  usageRatio: number,
  readyPodCount: number,
  unready: Set<string>,
  missing: Set<string>,
  ignored: Set<string>,
): ProposalDetail {
  return {
    usageRatio,
    readyPodCount,
    unreadyPods: [...unready],
    missingPods: [...missing],
    ignoredPods: [...ignored],
  };
}

/** getReadyPodsCount: Running pods whose Ready condition is True. */
function readyPodsCount(ctx: CalcContext): Calc<{ count: number }> {
  if (ctx.pods.length === 0) return { ok: false, error: NO_PODS };
  return { ok: true, count: ctx.pods.filter((p) => phaseOf(p) === "Running" && isPodReady(p)).length };
}

/**
 * getUsageRatioReplicaCount: a whole-workload ratio (Object and External Value targets) times
 * the ready pods; from zero replicas, the ratio alone decides (so a workload can leave zero).
 */
function usageRatioReplicaCount(
  ctx: CalcContext,
  currentReplicas: number,
  usageRatio: number,
): Calc<{ replicas: number; detail: ProposalDetail }> {
  if (currentReplicas === 0) return { ok: true, replicas: ceilInt32(usageRatio), detail: { usageRatio } };
  if (isWithinTolerance(ctx.tolerances, usageRatio))
    return { ok: true, replicas: currentReplicas, detail: { usageRatio } };
  const ready = readyPodsCount(ctx);
  if (!ready.ok) return { ok: false, error: `unable to calculate ready pods: ${ready.error}` };
  const replicaCountFloat = usageRatio * ready.count;
  return {
    ok: true,
    replicas: replicaCountFloat > INT32_MAX ? INT32_MAX : ceilInt32(replicaCountFloat),
    detail: { usageRatio, readyPods: ready.count },
  };
}

/**
 * The per-pod average reported for Object/External AverageValue targets: the total over the
 * current replicas, saturating at int64's limit; with no replicas it is 0 (upstream PR #140958).
 */
function perPodAverage(usage: bigint, statusReplicas: number): bigint {
  if (statusReplicas === 0) return 0n;
  if (Number(usage) >= INT64_MAX_AS_FLOAT) return INT64_MAX;
  return ceilInt64(Number(usage) / statusReplicas);
}

/** GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas: total ÷ per-pod target. */
function perPodReplicas(
  ctx: CalcContext,
  usage: bigint,
  statusReplicas: number,
  targetAverage: bigint,
): { replicas: number; average: bigint; detail: ProposalDetail } {
  let replicas = statusReplicas;
  const usageRatio = Number(usage) / (Number(targetAverage) * statusReplicas);
  if (!isWithinTolerance(ctx.tolerances, usageRatio)) {
    const count = Math.ceil(Number(usage) / Number(targetAverage));
    replicas = count > INT32_MAX ? INT32_MAX : ceilInt32(count);
  }
  return { replicas, average: perPodAverage(usage, statusReplicas), detail: { usageRatio } };
}

/** The external metric's total: the sum of its series, capped at int64's maximum. */
function externalTotal(values: bigint[]): bigint {
  let usage = 0n;
  for (const v of values) {
    if (v > 0n && usage > INT64_MAX - v) return INT64_MAX;
    usage += v;
  }
  return usage;
}

// ---------------------------------------------------------------------------------------------
// horizontal.go: per metric source

type Failure = Extract<ProposalResult, { ok: false }>;
const fail = (reason: string, message: string, error: string = message): Failure => ({
  ok: false,
  reason,
  message,
  error,
});
const milliQuantity = (milli: bigint): Quantity => Quantity.fromMilli(milli);
/** buildQuantity: a resource metric's status value, memory in binary suffixes as metrics-server reports it (Ki, Mi, Gi). */
const resourceQuantity = (resource: string, milli: bigint): Quantity =>
  Quantity.fromMilli(milli, resource === "memory" ? "BinarySI" : "DecimalSI");

function targetMilli(q: Quantity | undefined): bigint | undefined {
  return q === undefined ? undefined : milliValue(q);
}

function resourceProposal(
  ctx: CalcContext,
  input: ComputeReplicasInput,
  specReplicas: number,
  name: string,
  target: MetricTarget,
  container: string,
): Calc<{
  replicas: number;
  current: MetricValueStatus;
  timestamp: number;
  metricName: string;
  utilization?: number;
  raw: bigint;
  detail: ProposalDetail;
}> {
  const averageValue = targetMilli(target.averageValue);
  if (averageValue !== undefined) {
    const readings = resourceMetricReadings(input.response, name, container);
    if (!readings.ok)
      return {
        ok: false,
        error: `failed to get ${name} usage: unable to get metrics for resource ${name}: ${readings.error}`,
      };
    const calc = plainMetricReplicas(ctx, readings.value.metrics, specReplicas, averageValue, name);
    if (!calc.ok) return { ok: false, error: `failed to get ${name} usage: ${calc.error}` };
    return {
      ok: true,
      replicas: calc.replicas,
      current: { averageValue: resourceQuantity(name, calc.usage) },
      timestamp: readings.value.timestamp,
      metricName: `${name} resource`,
      raw: calc.usage,
      detail: calc.detail,
    };
  }
  if (target.averageUtilization === undefined) {
    return {
      ok: false,
      error:
        "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set",
    };
  }
  const calc = resourceReplicas(
    ctx,
    input.response,
    specReplicas,
    target.averageUtilization,
    name,
    container,
  );
  if (!calc.ok) return { ok: false, error: `failed to get ${name} utilization: ${calc.error}` };
  const metricName =
    container === ""
      ? `${name} resource utilization (percentage of request)`
      : `${name} container resource utilization (percentage of request)`;
  return {
    ok: true,
    replicas: calc.replicas,
    current: {
      averageUtilization: calc.utilization,
      averageValue: resourceQuantity(name, calc.rawUtilization),
    },
    timestamp: calc.timestamp,
    metricName,
    utilization: calc.utilization,
    raw: calc.rawUtilization,
    detail: calc.detail,
  };
}

function metricSelectorError(selector: LabelSelector | null | undefined): string | undefined {
  const parsed = labelSelectorAsSelector(selector);
  return parsed.ok ? undefined : parsed.error;
}

/**
 * computeReplicasForMetric: the proposal of one metric of an HPA, or why there is none.
 * The pods are selected here with `selector`; the response is parsed already (objects.ts).
 */
export function computeReplicasForMetric(input: ComputeReplicasInput): ProposalResult {
  const { metric } = input;
  const specReplicas = input.specReplicas ?? input.currentReplicas;
  const statusReplicas = input.currentReplicas;
  const ctx: CalcContext = {
    now: input.now,
    settings: input.settings,
    pods: input.pods.filter((p) => selectorMatches(input.selector, p.metadata.labels)),
    tolerances: input.tolerances,
    namespace: input.namespace ?? input.pods[0]?.metadata.namespace ?? "",
  };
  const ok = (proposal: MetricProposal): ProposalResult => ({ ok: true, proposal });

  switch (metric.type) {
    case "Resource":
    case "ContainerResource": {
      const isContainer = metric.type === "ContainerResource";
      const reason = isContainer ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
      const source = isContainer ? metric.containerResource : metric.resource;
      if (!source)
        return fail(
          reason,
          `invalid ${isContainer ? "container resource" : "resource"} metric source: the ${isContainer ? "containerResource" : "resource"} field is not set`,
        );
      const container = isContainer ? (metric.containerResource?.container ?? "") : "";
      const r = resourceProposal(ctx, input, specReplicas, source.name, source.target, container);
      if (!r.ok) return fail(reason, r.error);
      const status: MetricStatus = isContainer
        ? {
            type: "ContainerResource",
            containerResource: { name: source.name, container, current: r.current },
          }
        : { type: "Resource", resource: { name: source.name, current: r.current } };
      return ok({
        replicas: r.replicas,
        timestamp: r.timestamp,
        metricName: r.metricName,
        status,
        ...(r.utilization !== undefined ? { utilization: r.utilization } : {}),
        rawValue: milliQuantity(r.raw),
        detail: r.detail,
      });
    }

    case "Pods": {
      const source = metric.pods;
      if (!source)
        return fail("FailedGetPodsMetric", "invalid pods metric source: the pods field is not set");
      const selectorError = metricSelectorError(source.metric.selector);
      if (selectorError) return fail("FailedGetPodsMetric", selectorError);
      const target = targetMilli(source.target.averageValue);
      // the API server requires averageValue for Pods metrics; upstream would dereference nil here
      if (target === undefined)
        return fail("FailedGetPodsMetric", "invalid pods metric source: no average value target was set");
      const readings = podsMetricReadings(input.response);
      if (!readings.ok)
        return fail("FailedGetPodsMetric", `unable to get metric ${source.metric.name}: ${readings.error}`);
      const calc = plainMetricReplicas(ctx, readings.value.metrics, specReplicas, target, "");
      if (!calc.ok) return fail("FailedGetPodsMetric", calc.error);
      return ok({
        replicas: calc.replicas,
        timestamp: readings.value.timestamp,
        metricName: `pods metric ${source.metric.name}`,
        status: {
          type: "Pods",
          pods: {
            metric: identifier(source.metric.name, source.metric.selector),
            current: { averageValue: milliQuantity(calc.usage) },
          },
        },
        rawValue: milliQuantity(calc.usage),
        detail: calc.detail,
      });
    }

    case "Object": {
      const source = metric.object;
      if (!source)
        return fail("FailedGetObjectMetric", "invalid object metric source: the object field is not set");
      const selectorError = metricSelectorError(source.metric.selector);
      if (selectorError) return fail("FailedGetObjectMetric", selectorError);
      const { describedObject, target } = source;
      const unableToGet = (err: string) =>
        `unable to get metric ${source.metric.name} on ${describedObject.kind} ${ctx.namespace}/${describedObject.name}: ${err}`;
      const value = targetMilli(target.value);
      const averageValue = targetMilli(target.averageValue);
      if (target.type === "Value" && value !== undefined) {
        const reading = objectMetricReading(input.response);
        if (!reading.ok) return fail("FailedGetObjectMetric", unableToGet(reading.error));
        const usage = reading.value.value;
        const calc = usageRatioReplicaCount(ctx, specReplicas, Number(usage) / Number(value));
        if (!calc.ok) return fail("FailedGetObjectMetric", calc.error);
        return ok({
          replicas: calc.replicas,
          // upstream drops the sample's time on this path
          timestamp: GO_ZERO_TIME_MS,
          metricName: `${describedObject.kind} metric ${source.metric.name}`,
          status: {
            type: "Object",
            object: {
              describedObject,
              metric: identifier(source.metric.name, source.metric.selector),
              current: { value: milliQuantity(usage) },
            },
          },
          rawValue: milliQuantity(usage),
          detail: calc.detail,
        });
      }
      if (target.type === "AverageValue" && averageValue !== undefined) {
        const reading = objectMetricReading(input.response);
        if (!reading.ok) {
          const message = unableToGet(reading.error);
          return fail(
            "FailedGetObjectMetric",
            message,
            `failed to get ${source.metric.name} object metric: ${message}`,
          );
        }
        const { replicas, average, detail } = perPodReplicas(
          ctx,
          reading.value.value,
          statusReplicas,
          averageValue,
        );
        return ok({
          replicas,
          timestamp: reading.value.timestamp,
          // upstream's wording for this case, "external" included
          metricName: `external metric ${source.metric.name}(${goLabelSelectorString(source.metric.selector)})`,
          status: {
            type: "Object",
            object: {
              describedObject,
              metric: identifier(source.metric.name, source.metric.selector),
              current: { averageValue: milliQuantity(average) },
            },
          },
          rawValue: milliQuantity(average),
          detail,
        });
      }
      return fail(
        "FailedGetObjectMetric",
        "invalid object metric source: neither a value target nor an average value target was set",
      );
    }

    case "External": {
      const source = metric.external;
      if (!source)
        return fail(
          "FailedGetExternalMetric",
          "invalid external metric source: the external field is not set",
        );
      const name = source.metric.name;
      const metricSelector = source.metric.selector;
      const metricName = `external metric ${name}(${goLabelSelectorString(metricSelector)})`;
      const averageValue = targetMilli(source.target.averageValue);
      const value = targetMilli(source.target.value);
      if (averageValue === undefined && value === undefined) {
        return fail(
          "FailedGetExternalMetric",
          "invalid external metric source: neither a value target nor an average value target was set",
        );
      }
      const wrap = (message: string) =>
        averageValue !== undefined
          ? `failed to get ${name} external metric: ${message}`
          : `failed to get external metric ${name}: ${message}`;
      const selectorError = metricSelectorError(metricSelector);
      if (selectorError) return fail("FailedGetExternalMetric", selectorError, wrap(selectorError));
      const readings = externalMetricReadings(input.response);
      if (!readings.ok) {
        const message = `unable to get external metric ${ctx.namespace}/${name}/${goLabelSelectorString(metricSelector)}: ${readings.error}`;
        return fail("FailedGetExternalMetric", message, wrap(message));
      }
      if (averageValue !== undefined) {
        // the sum, where a wrap-around past int64's maximum saturates
        let usage = 0n;
        for (const v of readings.value.values) {
          usage = BigInt.asIntN(64, usage + v);
          if (usage < 0n) {
            usage = INT64_MAX;
            break;
          }
        }
        const { replicas, average, detail } = perPodReplicas(ctx, usage, statusReplicas, averageValue);
        return ok({
          replicas,
          timestamp: readings.value.timestamp,
          metricName,
          status: {
            type: "External",
            external: {
              metric: identifier(name, metricSelector),
              current: { averageValue: milliQuantity(average) },
            },
          },
          rawValue: milliQuantity(average),
          detail,
        });
      }
      const usage = externalTotal(readings.value.values);
      const calc = usageRatioReplicaCount(ctx, specReplicas, Number(usage) / Number(value));
      if (!calc.ok) return fail("FailedGetExternalMetric", calc.error, wrap(calc.error));
      return ok({
        replicas: calc.replicas,
        // upstream drops the sample's time on this path
        timestamp: GO_ZERO_TIME_MS,
        metricName,
        status: {
          type: "External",
          external: { metric: identifier(name, metricSelector), current: { value: milliQuantity(usage) } },
        },
        rawValue: milliQuantity(usage),
        detail: calc.detail,
      });
    }

    default:
      return fail("InvalidMetricSourceType", `unknown metric source type ${JSON.stringify(metric.type)}`);
  }
}

function identifier(name: string, selector: LabelSelector | null | undefined) {
  return selector === undefined ? { name } : { name, selector };
}
