// Why an HPA sync chose its size: a pure walk over the algorithm's own intermediate results.
// `reconcile` decides; this module re-runs the same exported steps (the replica calculator per
// metric, stabilization, the behavior policies or the scale-up limit, the bounds, the legacy
// delays) on the same input to say what each one did, in upstream's words, and searches the
// metric levels at which a metric's proposal would cross the chosen size.
import {
  legacyDelayGate,
  reconcile,
  resolveBehavior,
  stabilizeRecommendation,
  calculateScaleUpLimit,
  convertDesiredReplicasWithRules,
  type HpaHistory,
  type ReconcileInput,
  type ReconcileResult,
  type ScalingRules,
  type TimestampedRecommendation,
  type TimestampedScaleEvent,
} from "../autoscaler/algorithm/index.js";
import {
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimitWithScalingRules,
  convertDesiredReplicasWithBehaviorRate,
  stabilizeRecommendationWithBehaviors,
} from "../autoscaler/algorithm/behavior.js";
import {
  podsMetricReadings,
  resourceMetricReadings,
  type PodMetricsInfo,
} from "../autoscaler/algorithm/metric-readings.js";
import {
  computeReplicasForMetric,
  tolerancesFor,
  type ProposalResult,
} from "../autoscaler/algorithm/replica-calculator.js";
import {
  kubeTimeToEpochMs,
  type MetricResponse,
  type MetricSpec,
  type MetricStatus,
  type MetricTarget,
} from "../kube/objects.js";
import { Quantity } from "../kube/quantity.js";
import { parseSelector } from "../kube/selector.js";

/** How many of the highest and of the lowest per-pod values an explanation lists. */
export const PODS_LISTED = 3;

export interface PodValue {
  pod: string;
  value: string;
}

export interface MetricExplanation {
  index: number;
  type: string;
  /** upstream's name for the metric ("cpu resource utilization (percentage of request)", "pods metric qps") */
  name: string;
  /** the spec's target, e.g. "60% of request", "100m per pod", "30 (value)" */
  target: string;
  ok: boolean;
  /** the failure's condition reason and message */
  error?: { reason: string; message: string };
  /** what status.currentMetrics reports, in the target's form */
  current?: string;
  /** per-pod samples as read (per-pod metrics) */
  values?: { count: number; highest: PodValue[]; lowest: PodValue[] };
  pods?: { ready: number; unready: string[]; missing: string[]; ignored: string[]; treatment: string[] };
  usageRatio?: number;
  adjustedUsageRatio?: number;
  /** the ratios inside [low, high] change nothing */
  tolerance: { low: number; high: number };
  band?: "below" | "within" | "above";
  /** Object/External Value targets: the ready pods the ratio multiplies */
  readyPods?: number;
  proposedReplicas?: number;
  winner: boolean;
  /** the metric level from which this metric alone proposes more than the final size, or fewer */
  thresholds?: { above?: string; below?: string };
}

export type StepName =
  | "target state"
  | "metrics"
  | "stabilization"
  | "policies"
  | "scale-up limit"
  | "min/max"
  | "legacy delay"
  | "final";

export interface PolicyExplanation {
  direction: "up" | "down";
  type: string;
  value: number;
  periodSeconds: number;
  /** the size this policy alone allows now */
  allows: number;
  /** it set the limit that applied */
  limiting: boolean;
}

export interface StepExplanation {
  step: StepName;
  from: number;
  to: number;
  text: string;
  /** the condition reason upstream reports for this step, when it held or limited the size */
  reason?: string;
  windows?: {
    direction: "up" | "down";
    seconds: number;
    recommendations: { ageSeconds: number; replicas: number }[];
  }[];
  policies?: PolicyExplanation[];
  selectPolicy?: string;
  limit?: number;
}

export interface Explanation {
  namespace: string;
  name: string;
  /** epoch ms of the sync explained */
  time: number;
  currentReplicas: number | null;
  desiredReplicas: number;
  scaled: boolean;
  /** the reason text of the SuccessfulRescale Event, when it scaled */
  rescaleReason?: string;
  minReplicas: number;
  maxReplicas: number;
  metrics: MetricExplanation[];
  steps: StepExplanation[];
  whatWouldChange: string[];
  /** the Events the sync records */
  events: { type: string; reason: string; message: string }[];
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function targetOf(spec: MetricSpec): MetricTarget | undefined {
  return (
    spec.resource?.target ??
    spec.containerResource?.target ??
    spec.pods?.target ??
    spec.object?.target ??
    spec.external?.target
  );
}

function targetText(spec: MetricSpec): string {
  const t = targetOf(spec);
  if (!t) return "?";
  if (t.averageUtilization !== undefined && t.averageValue === undefined)
    return `${t.averageUtilization}% of request`;
  if (t.averageValue !== undefined) return `${t.averageValue.toString()} per pod`;
  return `${t.value?.toString() ?? "?"} (value)`;
}

/** The status's current value in the target's form. */
function currentText(spec: MetricSpec, status: MetricStatus | undefined): string | undefined {
  const c =
    status?.resource?.current ??
    status?.containerResource?.current ??
    status?.pods?.current ??
    status?.object?.current ??
    status?.external?.current;
  if (!c) return undefined;
  const t = targetOf(spec);
  if (
    t?.averageUtilization !== undefined &&
    t.averageValue === undefined &&
    c.averageUtilization !== undefined
  )
    return `${c.averageUtilization}%`;
  if (t?.averageValue !== undefined) return `${(c.averageValue ?? c.value)?.toString() ?? "?"} per pod`;
  return (c.value ?? c.averageValue)?.toString();
}

/** A name for a metric that failed before upstream named it. */
function specName(spec: MetricSpec): string {
  switch (spec.type) {
    case "Resource":
      return `${spec.resource?.name ?? "?"} resource`;
    case "ContainerResource":
      return `${spec.containerResource?.container ?? "?"}/${spec.containerResource?.name ?? "?"} container resource`;
    case "Pods":
      return `pods metric ${spec.pods?.metric.name ?? "?"}`;
    case "Object":
      return `${spec.object?.describedObject.kind ?? "?"} metric ${spec.object?.metric.name ?? "?"}`;
    case "External":
      return `external metric ${spec.external?.metric.name ?? "?"}`;
    default:
      return String(spec.type);
  }
}

function perPodReadings(spec: MetricSpec, response: MetricResponse): PodMetricsInfo | undefined {
  if (spec.type === "Resource" && spec.resource) {
    const r = resourceMetricReadings(response, spec.resource.name, "");
    return r.ok ? r.value.metrics : undefined;
  }
  if (spec.type === "ContainerResource" && spec.containerResource) {
    const r = resourceMetricReadings(response, spec.containerResource.name, spec.containerResource.container);
    return r.ok ? r.value.metrics : undefined;
  }
  if (spec.type === "Pods") {
    const r = podsMetricReadings(response);
    return r.ok ? r.value.metrics : undefined;
  }
  return undefined;
}

function valueSummary(readings: PodMetricsInfo): MetricExplanation["values"] {
  const sorted = [...readings]
    .map(([pod, m]) => ({ pod, milli: m.value }))
    .sort((a, b) => (a.milli < b.milli ? 1 : a.milli > b.milli ? -1 : a.pod.localeCompare(b.pod)));
  const show = (xs: typeof sorted) =>
    xs.map((x) => ({ pod: x.pod, value: Quantity.fromMilli(x.milli).toString() }));
  return {
    count: sorted.length,
    highest: show(sorted.slice(0, PODS_LISTED)),
    lowest: show(sorted.slice(-PODS_LISTED).reverse()),
  };
}

/** The same answer with every value multiplied by `f` (what a level `f` times as high would read). */
export function scaleResponse(response: MetricResponse, f: number): MetricResponse {
  if ("error" in response) return response;
  const q = (x: Quantity) => Quantity.fromMilli(BigInt(Math.round(Number(x.milliValue()) * f)));
  switch (response.kind) {
    case "PodMetricsList":
      return {
        ...response,
        items: (response.items ?? []).map((item) => ({
          ...item,
          containers: (item.containers ?? []).map((c) => ({
            ...c,
            usage: Object.fromEntries(Object.entries(c.usage).map(([k, v]) => [k, q(v)])),
          })),
        })),
      };
    case "MetricValueList":
      return {
        ...response,
        items: (response.items ?? []).map((item) => ({ ...item, value: q(item.value) })),
      } as MetricResponse;
    case "ExternalMetricValueList":
      return {
        ...response,
        items: (response.items ?? []).map((item) => ({ ...item, value: q(item.value) })),
      };
    default:
      return response;
  }
}

interface MetricContext {
  input: ReconcileInput;
  currentReplicas: number;
  selector: NonNullable<ReturnType<typeof parseSelector> & { ok: true }>["selector"];
}

function proposalFor(ctx: MetricContext, spec: MetricSpec, response: MetricResponse): ProposalResult {
  const { input } = ctx;
  return computeReplicasForMetric({
    now: input.now,
    settings: input.settings,
    currentReplicas: ctx.currentReplicas,
    specReplicas: ctx.currentReplicas,
    metric: spec,
    selector: ctx.selector,
    pods: input.pods,
    response,
    tolerances: tolerancesFor(input.hpa.spec.behavior, input.settings),
    ...(input.hpa.metadata.namespace !== undefined ? { namespace: input.hpa.metadata.namespace } : {}),
  });
}

/**
 * The level (in the status's form) at which this metric's proposal first goes above `reference`
 * (direction "above") or below it ("below"), found by scaling every value of the answer and
 * asking the calculator; undefined when no level within a factor of 10^6 does it.
 */
function crossingLevel(
  ctx: MetricContext,
  spec: MetricSpec,
  response: MetricResponse,
  reference: number,
  direction: "above" | "below",
): string | undefined {
  const replicasAt = (f: number): { replicas: number; level: string | undefined } | undefined => {
    const r = proposalFor(ctx, spec, scaleResponse(response, f));
    return r.ok ? { replicas: r.proposal.replicas, level: currentText(spec, r.proposal.status) } : undefined;
  };
  const crosses = (f: number) => {
    const r = replicasAt(f);
    return r !== undefined && (direction === "above" ? r.replicas > reference : r.replicas < reference);
  };
  if (crosses(1)) return undefined;
  // an outer bound that crosses, then bisect between it and 1 (in log scale)
  let far = direction === "above" ? 2 : 0.5;
  while (!crosses(far)) {
    far = direction === "above" ? far * 2 : far / 2;
    if (far > 1e6 || far < 1e-6) return undefined;
  }
  let near = 1;
  for (let i = 0; i < 24; i++) {
    const mid = Math.sqrt(near * far);
    if (crosses(mid)) far = mid;
    else near = mid;
  }
  return replicasAt(far)?.level;
}

function treatment(
  detail: { usageRatio: number; unreadyPods?: string[]; missingPods?: string[]; ignoredPods?: string[] },
  utilization: boolean,
): string[] {
  const out: string[] = [];
  const unready = detail.unreadyPods?.length ?? 0;
  const missing = detail.missingPods?.length ?? 0;
  const ignored = detail.ignoredPods?.length ?? 0;
  if (ignored > 0) out.push(`${ignored} ignored (being deleted, Failed or Succeeded): left out`);
  if (unready > 0)
    out.push(
      detail.usageRatio > 1
        ? `${unready} unready: counted as using 0 (scaling up with pods not yet ready)`
        : `${unready} unready: left out (not scaling up)`,
    );
  if (missing > 0) {
    if (detail.usageRatio < 1)
      out.push(
        utilization
          ? `${missing} missing: counted as using 100% of their request (or the target, if higher), since scaling down`
          : `${missing} missing: counted as exactly on target, since scaling down`,
      );
    else if (detail.usageRatio > 1) out.push(`${missing} missing: counted as using 0, since scaling up`);
    else out.push(`${missing} missing: left out (the ratio is exactly 1)`);
  }
  return out;
}

function bandOf(ratio: number, low: number, high: number): MetricExplanation["band"] {
  return ratio < low ? "below" : ratio > high ? "above" : "within";
}

function explainMetrics(
  input: ReconcileInput,
  currentReplicas: number,
): { metrics: MetricExplanation[]; ctx: MetricContext | undefined } {
  const specs = input.hpa.spec.metrics ?? [];
  const tol = tolerancesFor(input.hpa.spec.behavior, input.settings);
  const tolerance = { low: round(1 - tol.scaleDown, 6), high: round(1 + tol.scaleUp, 6) };
  const parsed = parseSelector("error" in input.scale ? "" : input.scale.selector);
  if (!parsed.ok || ("error" in input.scale ? "" : input.scale.selector) === "")
    return { metrics: [], ctx: undefined };
  const ctx: MetricContext = { input, currentReplicas, selector: parsed.selector };
  let winner = -1;
  let best = 0;
  const metrics = specs.map((spec, index): MetricExplanation => {
    const response = input.metricResponses[index] ?? {
      error: "no answer from the metrics API for this metric",
    };
    const r = proposalFor(ctx, spec, response);
    const readings = perPodReadings(spec, response);
    const base = {
      index,
      type: spec.type,
      target: targetText(spec),
      tolerance,
      winner: false,
      ...(readings ? { values: valueSummary(readings) } : {}),
    };
    if (!r.ok)
      return { ...base, name: specName(spec), ok: false, error: { reason: r.reason, message: r.message } };
    const p = r.proposal;
    if (best === 0 || p.replicas > best) {
      best = p.replicas;
      winner = index;
    }
    const d = p.detail;
    const decidingRatio = d?.adjustedUsageRatio ?? d?.usageRatio;
    const current = currentText(spec, p.status);
    const groups =
      d?.readyPodCount !== undefined
        ? {
            pods: {
              ready: d.readyPodCount,
              unready: d.unreadyPods ?? [],
              missing: d.missingPods ?? [],
              ignored: d.ignoredPods ?? [],
              treatment: treatment(d, p.utilization !== undefined),
            },
          }
        : {};
    return {
      ...base,
      name: p.metricName,
      ok: true,
      ...(current !== undefined ? { current } : {}),
      ...groups,
      ...(d ? { usageRatio: round(d.usageRatio) } : {}),
      ...(d?.adjustedUsageRatio !== undefined ? { adjustedUsageRatio: round(d.adjustedUsageRatio) } : {}),
      ...(decidingRatio !== undefined ? { band: bandOf(decidingRatio, tolerance.low, tolerance.high) } : {}),
      ...(d?.readyPods !== undefined ? { readyPods: d.readyPods } : {}),
      proposedReplicas: p.replicas,
    };
  });
  const w = metrics[winner];
  if (w) w.winner = true;
  return { metrics, ctx };
}

const ageSeconds = (now: number, t: number) => Math.round((now - t) / 1000);

function windowList(
  recs: readonly TimestampedRecommendation[],
  now: number,
  seconds: number,
  inWindow: (t: number) => boolean,
) {
  return recs
    .filter((r) => inWindow(r.timestamp))
    .map((r) => ({ ageSeconds: ageSeconds(now, r.timestamp), replicas: r.replicas }));
}

function policyList(
  direction: "up" | "down",
  rules: ScalingRules,
  now: number,
  current: number,
  ups: readonly TimestampedScaleEvent[],
  downs: readonly TimestampedScaleEvent[],
  limit: number,
): PolicyExplanation[] {
  return rules.policies.map((p) => {
    const one: ScalingRules = { ...rules, selectPolicy: "Max", policies: [p] };
    const allows =
      direction === "up"
        ? calculateScaleUpLimitWithScalingRules(now, current, ups, downs, one)
        : calculateScaleDownLimitWithBehaviors(now, current, ups, downs, one);
    return {
      direction,
      type: p.type,
      value: p.value,
      periodSeconds: p.periodSeconds,
      allows,
      limiting: allows === limit,
    };
  });
}

const policyName = (p: PolicyExplanation) =>
  `${p.type} ${p.value}${p.type === "Percent" ? "%" : ""} per ${p.periodSeconds}s`;

/** Seconds until the scale events inside a policy's period have aged out (the policy then allows a full step again). */
function secondsUntilOutOfPeriod(
  events: readonly TimestampedScaleEvent[],
  now: number,
  periodSeconds: number,
): number | undefined {
  const inside = events.filter((e) => e.timestamp > now - periodSeconds * 1000);
  if (inside.length === 0) return undefined;
  return Math.max(
    0,
    Math.ceil((Math.min(...inside.map((e) => e.timestamp)) + periodSeconds * 1000 - now) / 1000),
  );
}

/** Explains one sync: `result` is what `reconcile(input)` answered (computed when not given). */
export function explain(input: ReconcileInput, given?: ReconcileResult): Explanation {
  const result = given ?? reconcile(input);
  const { hpa, now, settings } = input;
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const maxReplicas = hpa.spec.maxReplicas;
  const steps: StepExplanation[] = [];
  const whatWouldChange: string[] = [];
  const base = {
    namespace: hpa.metadata.namespace ?? "default",
    name: hpa.metadata.name,
    time: now,
    desiredReplicas: result.desiredReplicas,
    scaled: result.scaled,
    ...(result.rescaleReason !== undefined ? { rescaleReason: result.rescaleReason } : {}),
    minReplicas,
    maxReplicas,
    events: result.events.map((e) => ({ ...e })),
  };
  if ("error" in input.scale) {
    steps.push({
      step: "target state",
      from: 0,
      to: result.desiredReplicas,
      text: `the target's scale could not be read (FailedGetScale): ${input.scale.error}`,
      reason: "FailedGetScale",
    });
    return {
      ...base,
      currentReplicas: null,
      metrics: [],
      steps,
      whatWouldChange: ["a readable scale subresource of the target"],
    };
  }
  const current = input.scale.replicas;
  const finish = (metrics: MetricExplanation[]): Explanation => {
    steps.push({
      step: "final",
      from: current,
      to: result.desiredReplicas,
      text: result.scaled
        ? `New size: ${result.desiredReplicas}; reason: ${result.rescaleReason ?? ""}`
        : `no change: stays at ${current}`,
    });
    return { ...base, currentReplicas: current, metrics, steps, whatWouldChange };
  };
  const active = result.status.conditions?.find((c) => c.type === "ScalingActive");

  if (current === 0 && active?.reason === "ScalingDisabled") {
    steps.push({
      step: "target state",
      from: 0,
      to: 0,
      text: "scaling is disabled since the replica count of the target is zero",
      reason: "ScalingDisabled",
    });
    whatWouldChange.push("scaling the target above 0 by hand turns autoscaling back on");
    return finish([]);
  }
  if (current > maxReplicas || (current < minReplicas && current !== 0)) {
    const above = current > maxReplicas;
    steps.push({
      step: "target state",
      from: current,
      to: above ? maxReplicas : minReplicas,
      text: above
        ? `Current number of replicas above Spec.MaxReplicas (${maxReplicas}); metrics are not read`
        : `Current number of replicas below Spec.MinReplicas (${minReplicas}); metrics are not read`,
    });
    return finish([]);
  }

  const { metrics, ctx } = explainMetrics(input, current);
  const failedCompute = result.events.find(
    (e) =>
      e.reason === "FailedComputeMetricsReplicas" ||
      e.reason === "SelectorRequired" ||
      e.reason === "InvalidSelector" ||
      e.reason === "AmbiguousSelector",
  );
  if (failedCompute || ctx === undefined) {
    const why =
      result.events.find((e) => e.reason === "FailedComputeMetricsReplicas")?.message ??
      failedCompute?.message ??
      active?.message ??
      "";
    steps.push({
      step: "metrics",
      from: current,
      to: current,
      text: `no size computed, nothing changes: ${why}`,
      reason: active?.reason ?? "",
    });
    whatWouldChange.push(
      metrics.some((m) => m.ok)
        ? "the failed metrics answering again (with a metric failing, the valid ones may only scale up)"
        : "the metrics answering again",
    );
    return finish(metrics);
  }
  const winner = metrics.find((m) => m.winner);
  const recommended = winner?.proposedReplicas ?? current;
  steps.push({
    step: "metrics",
    from: current,
    to: recommended,
    text: winner
      ? `${winner.name} proposes ${recommended}, the largest proposal`
      : `no metric proposes a size`,
  });

  const history: HpaHistory = input.history ?? {
    recommendations: [{ timestamp: now, replicas: current }],
    scaleUpEvents: [],
    scaleDownEvents: [],
  };
  let size: number;
  if (hpa.spec.behavior) {
    const behavior = resolveBehavior(hpa.spec.behavior, settings);
    const stabilized = stabilizeRecommendationWithBehaviors({
      now,
      currentReplicas: current,
      recommendedReplicas: recommended,
      behavior,
      recommendations: history.recommendations,
    });
    const upSeconds = behavior.scaleUp.stabilizationWindowSeconds;
    const downSeconds = behavior.scaleDown.stabilizationWindowSeconds;
    const upWindow = windowList(history.recommendations, now, upSeconds, (t) => t > now - upSeconds * 1000);
    const downWindow = windowList(
      history.recommendations,
      now,
      downSeconds,
      (t) => t > now - downSeconds * 1000,
    );
    const held = stabilized.replicas !== recommended;
    steps.push({
      step: "stabilization",
      from: recommended,
      to: stabilized.replicas,
      text: held
        ? `${stabilized.stabilizedBy.message} (${stabilized.replicas})`
        : `the recommendation stands (scale-up window ${upSeconds}s, scale-down window ${downSeconds}s)`,
      ...(held ? { reason: stabilized.stabilizedBy.reason } : {}),
      windows: [
        {
          direction: "up",
          seconds: upSeconds,
          recommendations: [...upWindow, { ageSeconds: 0, replicas: recommended }],
        },
        {
          direction: "down",
          seconds: downSeconds,
          recommendations: [...downWindow, { ageSeconds: 0, replicas: recommended }],
        },
      ],
    });
    if (held) {
      const blocking = history.recommendations.filter((r) =>
        stabilized.replicas > recommended
          ? r.replicas > recommended && r.timestamp > now - downSeconds * 1000
          : r.replicas < recommended && r.timestamp > now - upSeconds * 1000,
      );
      const windowSeconds = stabilized.replicas > recommended ? downSeconds : upSeconds;
      const wait = Math.max(
        0,
        ...blocking.map((r) => Math.ceil((r.timestamp + windowSeconds * 1000 - now) / 1000)),
      );
      whatWouldChange.push(
        `the recommendation ${recommended} goes through in ${wait}s, when the recommendations of the last ${windowSeconds}s that differ have left the stabilization window (if it still stands then)`,
      );
    }
    const limited = convertDesiredReplicasWithBehaviorRate({
      now,
      currentReplicas: current,
      desiredReplicas: stabilized.replicas,
      minReplicas,
      maxReplicas,
      behavior,
      scaleUpEvents: history.scaleUpEvents,
      scaleDownEvents: history.scaleDownEvents,
    });
    const up = stabilized.replicas > current;
    const down = stabilized.replicas < current;
    if (up || down) {
      const rules = up ? behavior.scaleUp : behavior.scaleDown;
      const raw = up
        ? calculateScaleUpLimitWithScalingRules(
            now,
            current,
            history.scaleUpEvents,
            history.scaleDownEvents,
            rules,
          )
        : calculateScaleDownLimitWithBehaviors(
            now,
            current,
            history.scaleUpEvents,
            history.scaleDownEvents,
            rules,
          );
      const limit = up ? Math.max(raw, current) : Math.min(raw, current);
      const policies =
        rules.selectPolicy === "Disabled"
          ? []
          : policyList(
              up ? "up" : "down",
              rules,
              now,
              current,
              history.scaleUpEvents,
              history.scaleDownEvents,
              raw,
            );
      const byPolicy = limited.limit.reason === (up ? "ScaleUpLimit" : "ScaleDownLimit");
      const limiting = policies.filter((p) => p.limiting);
      const text =
        rules.selectPolicy === "Disabled"
          ? `scale-${up ? "up" : "down"} is disabled (selectPolicy: Disabled)`
          : byPolicy
            ? `limited to ${limited.replicas} by the ${limiting.map(policyName).join(" and ")} polic${limiting.length > 1 ? "ies" : "y"} (selectPolicy ${rules.selectPolicy}): ${limited.limit.message}`
            : `the policies allow ${limit} (selectPolicy ${rules.selectPolicy}); no limit applied`;
      steps.push({
        step: "policies",
        from: stabilized.replicas,
        to: byPolicy ? limited.replicas : stabilized.replicas,
        text,
        ...(byPolicy ? { reason: limited.limit.reason } : {}),
        policies,
        selectPolicy: rules.selectPolicy,
        limit,
      });
      if (byPolicy) {
        // counting the event this sync records, if it scales
        const after = result.history ?? history;
        const events = up ? after.scaleUpEvents : after.scaleDownEvents;
        const waits = limiting
          .map((p) => secondsUntilOutOfPeriod(events, now, p.periodSeconds))
          .filter((x): x is number => x !== undefined);
        whatWouldChange.push(
          `the ${limiting.map(policyName).join(" / ")} policy allows a further step ${waits.length > 0 ? `in ${Math.min(...waits)}s, when recent scale events leave its period` : "at the next sync"}`,
        );
      }
    }
    const bounded = limited.limit.reason === "TooManyReplicas" || limited.limit.reason === "TooFewReplicas";
    steps.push(
      boundsStep(
        bounded ? limited.limit.reason : undefined,
        bounded ? stabilized.replicas : limited.replicas,
        limited.replicas,
        minReplicas,
        maxReplicas,
      ),
    );
    size = limited.replicas;
  } else {
    const windowSeconds = settings.downscaleStabilizationWindowSeconds;
    const stabilized = stabilizeRecommendation(history.recommendations, now, windowSeconds, recommended);
    const held = stabilized.replicas !== recommended;
    steps.push({
      step: "stabilization",
      from: recommended,
      to: stabilized.replicas,
      text: held
        ? `recent recommendations were higher than current one, applying the highest recent recommendation (${stabilized.replicas}, window ${windowSeconds}s)`
        : `the recommendation is the highest of the last ${windowSeconds}s`,
      ...(held ? { reason: "ScaleDownStabilized" } : {}),
      windows: [
        {
          direction: "down",
          seconds: windowSeconds,
          recommendations: [
            ...windowList(
              history.recommendations,
              now,
              windowSeconds,
              (t) => t >= now - windowSeconds * 1000,
            ),
            { ageSeconds: 0, replicas: recommended },
          ],
        },
      ],
    });
    if (held) {
      const blocking = history.recommendations.filter(
        (r) => r.replicas > recommended && r.timestamp >= now - windowSeconds * 1000,
      );
      const wait = Math.max(
        0,
        ...blocking.map((r) => Math.ceil((r.timestamp + windowSeconds * 1000 - now) / 1000)),
      );
      whatWouldChange.push(
        `the recommendation ${recommended} goes through in ${wait}s, when the higher recommendations have left the ${windowSeconds}s downscale stabilization window (if it still stands then)`,
      );
    }
    const limited = convertDesiredReplicasWithRules(
      current,
      stabilized.replicas,
      minReplicas,
      maxReplicas,
      settings,
    );
    const scaleUpLimit = calculateScaleUpLimit(current, settings);
    if (stabilized.replicas > current) {
      const byLimit = limited.limit.reason === "ScaleUpLimit";
      steps.push({
        step: "scale-up limit",
        from: stabilized.replicas,
        to: byLimit ? limited.replicas : stabilized.replicas,
        text: byLimit
          ? `limited to max(${settings.scaleUpLimitFactor}×${current}, ${settings.scaleUpLimitMinimum}) = ${scaleUpLimit}: ${limited.limit.message}`
          : `within the scale-up limit max(${settings.scaleUpLimitFactor}×${current}, ${settings.scaleUpLimitMinimum}) = ${scaleUpLimit}`,
        ...(byLimit ? { reason: limited.limit.reason } : {}),
        limit: scaleUpLimit,
      });
      if (byLimit)
        whatWouldChange.push(
          `the scale-up limit allows up to ${calculateScaleUpLimit(limited.replicas, settings)} at the next sync`,
        );
    }
    const bounded = limited.limit.reason === "TooManyReplicas" || limited.limit.reason === "TooFewReplicas";
    steps.push(
      boundsStep(
        bounded ? limited.limit.reason : undefined,
        bounded ? stabilized.replicas : limited.replicas,
        limited.replicas,
        minReplicas,
        maxReplicas,
      ),
    );
    size = limited.replicas;
  }

  if (settings.upscaleDelaySeconds > 0 || settings.downscaleDelaySeconds > 0) {
    const lastScaleTime = kubeTimeToEpochMs(hpa.status?.lastScaleTime) ?? null;
    const gate = legacyDelayGate({
      now,
      currentReplicas: current,
      desiredReplicas: size,
      lastScaleTime,
      upscaleDelaySeconds: settings.upscaleDelaySeconds,
      downscaleDelaySeconds: settings.downscaleDelaySeconds,
    });
    const moving = size !== current;
    const blocked = moving && !gate.allowed;
    const delay = size > current ? settings.upscaleDelaySeconds : settings.downscaleDelaySeconds;
    steps.push({
      step: "legacy delay",
      from: size,
      to: blocked ? current : size,
      text: blocked
        ? `held: the last scale was ${lastScaleTime === null ? "?" : ageSeconds(now, lastScaleTime)}s ago, within the ${size > current ? "upscale" : "downscale"} delay of ${delay}s (${gate.backoff?.reason ?? ""})`
        : `the delays (upscale ${settings.upscaleDelaySeconds}s, downscale ${settings.downscaleDelaySeconds}s) do not hold it`,
      ...(gate.backoff ? { reason: gate.backoff.reason } : {}),
    });
    if (blocked && lastScaleTime !== null)
      whatWouldChange.push(
        `the ${size > current ? "upscale" : "downscale"} delay ends in ${Math.max(0, Math.ceil((lastScaleTime + delay * 1000 - now) / 1000))}s`,
      );
  }

  // what metric levels would move the final size
  const final = result.desiredReplicas;
  for (const m of metrics) {
    if (!m.ok) continue;
    const spec = (hpa.spec.metrics ?? [])[m.index];
    const response = input.metricResponses[m.index];
    if (!spec || !response) continue;
    const above = final < maxReplicas ? crossingLevel(ctx, spec, response, final, "above") : undefined;
    const below = final > minReplicas ? crossingLevel(ctx, spec, response, final, "below") : undefined;
    m.thresholds = { ...(above !== undefined ? { above } : {}), ...(below !== undefined ? { below } : {}) };
    if (above !== undefined)
      whatWouldChange.push(`above ${final} when ${m.name} reaches ${above} (now ${m.current ?? "?"})`);
    else if ((m.proposedReplicas ?? 0) > final && final < maxReplicas)
      whatWouldChange.push(
        `${m.name} already proposes ${m.proposedReplicas ?? "?"}: the steps above hold it at ${final} for now`,
      );
  }
  const belows = metrics.filter((m) => m.thresholds?.below !== undefined);
  if (belows.length > 0 && belows.length === metrics.filter((m) => m.ok).length)
    whatWouldChange.push(
      `below ${final} only when ${belows.map((m) => `${m.name} is at most ${m.thresholds?.below ?? "?"}`).join(" and ")}`,
    );
  if (final >= maxReplicas)
    whatWouldChange.push(`maxReplicas (${maxReplicas}) caps it: no metric level takes it higher`);
  if (final <= minReplicas)
    whatWouldChange.push(`minReplicas (${minReplicas}) holds it: no metric level takes it lower`);
  return finish(metrics);
}

function boundsStep(
  reason: string | undefined,
  from: number,
  to: number,
  minReplicas: number,
  maxReplicas: number,
): StepExplanation {
  if (reason === "TooManyReplicas")
    return { step: "min/max", from, to, text: `capped at maxReplicas ${maxReplicas}`, reason };
  if (reason === "TooFewReplicas")
    return { step: "min/max", from, to, text: `raised to minReplicas ${minReplicas}`, reason };
  return { step: "min/max", from, to: from, text: `within [${minReplicas}, ${maxReplicas}]` };
}
