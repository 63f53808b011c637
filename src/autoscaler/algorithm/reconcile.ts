// One sync of one HPA as kube-controller-manager's reconcileAutoscaler does it, as a pure function:
// plain data in (the HPA, its scale, pods, what the metrics APIs answered, the remembered history,
// the clock), plain data out (the size to write, the new status, the Events, the new history).
//
// Writing is the caller's job: `reconcile` answers as if the scale write succeeds; when it fails,
// `applyScaleResult` turns the answer into upstream's failure outcome (FailedRescale, ...).
import {
  epochMsToKubeTime,
  kubeTimeToEpochMs,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerStatus,
  type MetricResponse,
  type MetricSpec,
  type MetricStatus,
  type Pod,
} from "../../kube/objects.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";
import { normalizeDesiredReplicasWithBehaviors, storeScaleEvent } from "./behavior.js";
import { removeCondition, setCondition, type ConditionUpdate, type HpaCondition } from "./conditions.js";
import { legacyDelayGate } from "./legacy-delay.js";
import { normalizeDesiredReplicas } from "./normalize.js";
import { computeReplicasForMetric, tolerancesFor } from "./replica-calculator.js";
import type { ControllerSettings, HpaHistory } from "./settings.js";

export interface ReconcileInput {
  now: number; // epoch ms
  /** kube-controller-manager's settings, including the legacy upscale/downscale delays (0 = off) */
  settings: ControllerSettings;
  hpa: HorizontalPodAutoscaler;
  /**
   * the scale subresource: spec.replicas, status.selector and status.replicas (the base of the
   * per-pod averages of Object/External AverageValue targets; spec.replicas when not given), or
   * the error of reading it
   */
  scale: { replicas: number; selector: string; statusReplicas?: number } | { error: string };
  /** the pods in the HPA's namespace (the calculator selects them with the scale's selector) */
  pods: Pod[];
  /** what the metrics APIs answered, index-aligned with hpa.spec.metrics */
  metricResponses: MetricResponse[];
  /** what the controller remembers for this HPA; null when it has nothing yet */
  history: HpaHistory | null;
  /**
   * the scale selector last seen for each other HPA of the namespace (upstream's hpaSelectors);
   * when pods of this HPA are also selected by another HPA, neither scales (AmbiguousSelector)
   */
  otherHpaSelectors?: { name: string; selector: string }[];
}

export interface ControllerEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface ReconcileResult {
  /** the size chosen; when nothing is written it is the size the status reports as desired */
  desiredReplicas: number;
  /** write the scale subresource to desiredReplicas */
  scaled: boolean;
  /** the reason text of the SuccessfulRescale/FailedRescale message */
  rescaleReason?: string;
  /** the full new status to write (a condition's lastTransitionTime is `now` when its status changes) */
  status: HorizontalPodAutoscalerStatus;
  /** the Events to record, in order */
  events: ControllerEvent[];
  /**
   * to remember for the next sync of this HPA; null only while the controller still has nothing
   * (the scale could not be read on a first sync), so that the next sync records the initial size
   */
  history: HpaHistory | null;
}

/** What writing the scale subresource gave, for `applyScaleResult`. */
export type ScaleWriteOutcome = { ok: true } | { ok: false; error: string };

/** A mutable view of the status being built, so each step reads like upstream's setCondition calls. */
class StatusDraft {
  conditions: HpaCondition[];
  readonly events: ControllerEvent[] = [];
  constructor(
    readonly now: number,
    readonly original: HorizontalPodAutoscalerStatus,
    /** status.observedGeneration to write (the HPAGeneration gate), or undefined to leave it out */
    readonly observedGeneration?: number,
  ) {
    this.conditions = (original.conditions ?? []).map((c) => ({ ...c }));
  }
  set(update: ConditionUpdate): void {
    this.conditions = setCondition(this.conditions, update, this.now);
  }
  event(type: ControllerEvent["type"], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
  /** upstream's setStatus: a fresh status keeping only lastScaleTime and the conditions */
  status(
    currentReplicas: number,
    desiredReplicas: number,
    metrics: MetricStatus[] | undefined,
    rescaled: boolean,
  ): HorizontalPodAutoscalerStatus {
    const lastScaleTime = rescaled ? epochMsToKubeTime(this.now) : this.original.lastScaleTime;
    return {
      ...(this.observedGeneration !== undefined ? { observedGeneration: this.observedGeneration } : {}),
      ...(lastScaleTime !== undefined && lastScaleTime !== null ? { lastScaleTime } : {}),
      currentReplicas,
      desiredReplicas,
      ...(metrics ? { currentMetrics: metrics } : {}),
      conditions: this.conditions.map((c) => ({ ...c })) as HorizontalPodAutoscalerStatus["conditions"],
    };
  }
}

interface MetricsOutcome {
  /** -1 when the controller cannot act on the metrics */
  replicas: number;
  metric: string;
  statuses: MetricStatus[] | undefined;
  /** the error upstream returns (and records as FailedComputeMetricsReplicas when replicas is -1) */
  error?: string;
}

/** The reason text upstream wraps a metric's failure in (computeReplicasForMetric). */
function wrapMetricError(spec: MetricSpec, message: string): string {
  switch (spec.type) {
    case "Object":
      return `failed to get object metric value: ${message}`;
    case "Pods":
      return `failed to get pods metric value: ${message}`;
    case "Resource":
      return `failed to get ${spec.resource?.name ?? ""} resource metric value: ${message}`;
    case "ContainerResource":
      return `failed to get ${spec.containerResource?.container ?? ""} container metric value: ${message}`;
    case "External":
      return `failed to get ${spec.external?.metric.name ?? ""} external metric value: ${message}`;
    default:
      return message;
  }
}

/**
 * "namespace/name" of the HPAs (this one included) whose selector selects a pod this HPA's selector
 * selects, sorted, at most `limit` of them (upstream's HPAsMatchingPods stops at its limit of 2 and
 * lists them in map order; we keep the first two by name so the message is stable).
 */
function hpasSelectingPodsOf(input: ReconcileInput, selector: ParsedSelector, limit: number): string[] {
  const namespace = input.hpa.metadata.namespace ?? "";
  const own = `${namespace}/${input.hpa.metadata.name}`;
  const others = (input.otherHpaSelectors ?? [])
    .filter((o) => o.name !== input.hpa.metadata.name)
    .flatMap((o) => {
      const parsed = parseSelector(o.selector);
      return parsed.ok ? [{ key: `${namespace}/${o.name}`, selector: parsed.selector }] : [];
    });
  const keys = new Set<string>();
  for (const pod of input.pods) {
    if (!selectorMatches(selector, pod.metadata.labels)) continue;
    keys.add(own);
    for (const o of others) if (selectorMatches(o.selector, pod.metadata.labels)) keys.add(o.key);
  }
  return [...keys].sort().slice(0, limit);
}

/**
 * computeReplicasForMetrics: every metric proposes a size, the largest wins (the first of equals).
 * When every metric failed, or some failed and the valid ones would scale down, the controller does
 * not act (ScalingActive False with the first failure); a scale-up on the valid metrics proceeds.
 */
function computeReplicasForMetrics(
  input: ReconcileInput,
  draft: StatusDraft,
  specReplicas: number,
  statusReplicas: number,
  selectorText: string,
): MetricsOutcome {
  const { hpa } = input;
  if (selectorText === "") {
    draft.event("Warning", "SelectorRequired", "selector is required");
    draft.set({
      type: "ScalingActive",
      status: "False",
      reason: "InvalidSelector",
      message: "the HPA target's scale is missing a selector",
    });
    return { replicas: -1, metric: "", statuses: undefined, error: "selector is required" };
  }
  const parsed = parseSelector(selectorText);
  if (!parsed.ok) {
    const message = `couldn't convert selector into a corresponding internal selector object: ${parsed.error}`;
    draft.event("Warning", "InvalidSelector", message);
    draft.set({ type: "ScalingActive", status: "False", reason: "InvalidSelector", message });
    return { replicas: -1, metric: "", statuses: undefined, error: message };
  }
  const selector: ParsedSelector = parsed.selector;
  const selectingHpas = hpasSelectingPodsOf(input, selector, 2);
  if (selectingHpas.length > 1) {
    const message = `pods by selector ${selectorText} are controlled by more than one HPA (e.g. [${selectingHpas.join(" ")}])`;
    draft.event("Warning", "AmbiguousSelector", message);
    draft.set({ type: "ScalingActive", status: "False", reason: "AmbiguousSelector", message });
    return { replicas: -1, metric: "", statuses: undefined, error: message };
  }
  const specs = hpa.spec.metrics ?? [];
  const tolerances = tolerancesFor(hpa.spec.behavior, input.settings);
  // A failed metric leaves an empty status in its slot, keeping currentMetrics index-aligned with the spec.
  const statuses: MetricStatus[] = specs.map(() => ({ type: "" }));
  let replicas = 0;
  let metric = "";
  let invalidCount = 0;
  let firstInvalid: { condition: ConditionUpdate; error: string } | undefined;

  specs.forEach((spec, i) => {
    const result = computeReplicasForMetric({
      now: input.now,
      settings: input.settings,
      currentReplicas: statusReplicas,
      specReplicas,
      metric: spec,
      selector,
      pods: input.pods,
      response: input.metricResponses[i] ?? { error: "no answer from the metrics API for this metric" },
      tolerances,
      ...(hpa.metadata.namespace !== undefined ? { namespace: hpa.metadata.namespace } : {}),
    });
    if (result.ok) {
      statuses[i] = result.proposal.status;
      if (replicas === 0 || result.proposal.replicas > replicas) {
        replicas = result.proposal.replicas;
        metric = result.proposal.metricName;
      }
      return;
    }
    // getUnableComputeReplicaCountCondition: an Event per failed metric; the first failure's condition is kept
    draft.event("Warning", result.reason, result.message);
    if (invalidCount === 0) {
      firstInvalid = {
        condition: {
          type: "ScalingActive",
          status: "False",
          reason: result.reason,
          message: `the HPA was unable to compute the replica count: ${result.message}`,
        },
        error: wrapMetricError(spec, result.error),
      };
    }
    invalidCount++;
  });

  if (specs.length === 0) {
    // The API server defaults an empty list to CPU at 80%; an HPA without metrics never reaches a controller.
    const message = "the HPA specifies no metrics";
    draft.set({
      type: "ScalingActive",
      status: "False",
      reason: "InvalidMetricSourceType",
      message: `the HPA was unable to compute the replica count: ${message}`,
    });
    return { replicas: -1, metric: "", statuses, error: message };
  }
  const error = firstInvalid
    ? `invalid metrics (${invalidCount} invalid out of ${specs.length}), first error is: ${firstInvalid.error}`
    : undefined;
  if (firstInvalid && (invalidCount >= specs.length || replicas < specReplicas)) {
    draft.set(firstInvalid.condition);
    return { replicas: -1, metric: "", statuses, ...(error ? { error } : {}) };
  }
  draft.set({
    type: "ScalingActive",
    status: "True",
    reason: "ValidMetricFound",
    message: `the HPA was able to successfully calculate a replica count from ${metric}`,
  });
  return { replicas, metric, statuses, ...(error ? { error } : {}) };
}

/**
 * The HPAScaleToZero gate's view of this HPA: only a target the HPA itself scaled to zero (the
 * ScaledToZero condition) and that has an Object or External metric (pod metrics need pods) is
 * woken from zero by its metrics.
 */
function scaleToZeroState(input: ReconcileInput) {
  const enabled = input.settings.scaleToZero === true;
  const hasObjectOrExternalMetrics = (input.hpa.spec.metrics ?? []).some(
    (m) => m.type === "Object" || m.type === "External",
  );
  const scaledToZero =
    enabled &&
    (input.hpa.status?.conditions ?? []).some((c) => c.type === "ScaledToZero" && c.status === "True");
  const canScaleFromZero = scaledToZero && hasObjectOrExternalMetrics;
  return {
    enabled,
    hasObjectOrExternalMetrics,
    scaledToZero,
    /** whether a target at zero still gets its metrics computed */
    computeFromZero: (minReplicas: number) => (minReplicas !== 0 && scaledToZero) || canScaleFromZero,
  };
}

/** reconcileAutoscaler for one HPA. */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { now, settings, hpa } = input;
  const original = hpa.status ?? {};
  // HPAGeneration: every status built by setStatus reports the generation this sync saw
  const draft = new StatusDraft(
    now,
    original,
    settings.hpaGeneration ? (hpa.metadata.generation ?? 0) : undefined,
  );
  const previousDesired = original.desiredReplicas ?? 0;

  if ("error" in input.scale) {
    draft.event("Warning", "FailedGetScale", input.scale.error);
    draft.set({
      type: "AbleToScale",
      status: "False",
      reason: "FailedGetScale",
      message: `the HPA controller was unable to get the target's current scale: ${input.scale.error}`,
    });
    return {
      desiredReplicas: previousDesired,
      scaled: false,
      status: { ...original, conditions: draft.conditions as HorizontalPodAutoscalerStatus["conditions"] },
      events: draft.events,
      history: input.history,
    };
  }

  draft.set({
    type: "AbleToScale",
    status: "True",
    reason: "SucceededGetScale",
    message: "the HPA controller was able to get the target's current scale",
  });
  const currentReplicas = input.scale.replicas;
  const zero = scaleToZeroState(input);
  // recordInitialRecommendation: a controller that knows nothing of this HPA starts its history with the current size.
  let history: HpaHistory = input.history ?? {
    recommendations: [{ timestamp: now, replicas: currentReplicas }],
    scaleUpEvents: [],
    scaleDownEvents: [],
  };

  const minReplicas = hpa.spec.minReplicas ?? 1;
  const maxReplicas = hpa.spec.maxReplicas;
  let desiredReplicas = 0;
  let rescaleReason = "";
  let rescale = true;
  let metricStatuses: MetricStatus[] | undefined;

  if (currentReplicas === 0 && !zero.computeFromZero(minReplicas)) {
    // A target at zero that the HPA did not put there (scaled by hand): autoscaling is off for it.
    rescale = false;
    draft.set({
      type: "ScalingActive",
      status: "False",
      reason: "ScalingDisabled",
      message: "scaling is disabled since the replica count of the target is zero",
    });
    // with the HPAScaleToZero gate off, a left-over condition goes here and on a rescale, nowhere else
    if (!zero.enabled) draft.conditions = removeCondition(draft.conditions, "ScaledToZero");
  } else if (currentReplicas > maxReplicas) {
    rescaleReason = "Current number of replicas above Spec.MaxReplicas";
    desiredReplicas = maxReplicas;
  } else if (currentReplicas < minReplicas && currentReplicas !== 0) {
    // (a target at zero reaching this point is woken from its metrics instead, then raised to minReplicas)
    rescaleReason = "Current number of replicas below Spec.MinReplicas";
    desiredReplicas = minReplicas;
  } else {
    const metrics = computeReplicasForMetrics(
      input,
      draft,
      currentReplicas,
      input.scale.statusReplicas ?? currentReplicas,
      input.scale.selector,
    );
    metricStatuses = metrics.statuses;
    if (metrics.replicas === -1) {
      draft.event("Warning", "FailedComputeMetricsReplicas", metrics.error ?? "");
      return {
        desiredReplicas: previousDesired,
        scaled: false,
        status: draft.status(currentReplicas, previousDesired, metricStatuses, false),
        events: draft.events,
        history,
      };
    }
    let rescaleMetric = "";
    if (metrics.replicas > desiredReplicas) {
      desiredReplicas = metrics.replicas;
      rescaleMetric = metrics.metric;
    }
    if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
    if (desiredReplicas < currentReplicas) rescaleReason = "All metrics below target";

    const normalizeArgs = {
      now,
      settings,
      currentReplicas,
      recommendedReplicas: desiredReplicas,
      minReplicas,
      maxReplicas,
    };
    const normalized = hpa.spec.behavior
      ? normalizeDesiredReplicasWithBehaviors({ ...normalizeArgs, behavior: hpa.spec.behavior, history })
      : normalizeDesiredReplicas({ ...normalizeArgs, recommendations: history.recommendations });
    draft.set(normalized.ableToScale);
    draft.set(normalized.scalingLimited);
    history = { ...history, recommendations: normalized.recommendations };
    desiredReplicas = normalized.desiredReplicas;
    // waking from zero after minReplicas was raised: never below the new minimum
    if (currentReplicas === 0 && minReplicas !== 0 && zero.scaledToZero && desiredReplicas < minReplicas)
      desiredReplicas = minReplicas;
    rescale = desiredReplicas !== currentReplicas;

    // The legacy delays gate the normalized size (see legacy-delay.ts for how they combine with behavior).
    if (settings.upscaleDelaySeconds > 0 || settings.downscaleDelaySeconds > 0) {
      const gate = legacyDelayGate({
        now,
        currentReplicas,
        desiredReplicas,
        lastScaleTime: kubeTimeToEpochMs(original.lastScaleTime) ?? null,
        upscaleDelaySeconds: settings.upscaleDelaySeconds,
        downscaleDelaySeconds: settings.downscaleDelaySeconds,
      });
      if (gate.backoff) draft.set(gate.backoff);
      if (!gate.allowed) rescale = false;
    }
  }

  if (rescale) {
    draft.set({
      type: "AbleToScale",
      status: "True",
      reason: "SucceededRescale",
      message: `the HPA controller was able to update the target scale to ${desiredReplicas}`,
    });
    draft.event("Normal", "SuccessfulRescale", `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
    history = storeScaleEvent(hpa.spec.behavior, history, now, currentReplicas, desiredReplicas, settings);
    if (zero.enabled) {
      draft.set(
        currentReplicas > 0 && desiredReplicas === 0 && minReplicas === 0 && zero.hasObjectOrExternalMetrics
          ? {
              type: "ScaledToZero",
              status: "True",
              reason: "ScaledToZero",
              message: "the HPA controller scaled the workload to zero",
            }
          : {
              type: "ScaledToZero",
              status: "False",
              reason: "NotScaledToZero",
              message: "the HPA controller did not scale the workload to zero",
            },
      );
    } else {
      draft.conditions = removeCondition(draft.conditions, "ScaledToZero");
    }
  } else {
    desiredReplicas = currentReplicas;
  }
  return {
    desiredReplicas,
    scaled: rescale,
    ...(rescale ? { rescaleReason } : {}),
    status: draft.status(currentReplicas, desiredReplicas, metricStatuses, rescale),
    events: draft.events,
    history,
  };
}

/**
 * The result after the caller tried to write the scale: unchanged on success; on failure,
 * upstream's outcome: a FailedRescale Event instead of SuccessfulRescale, AbleToScale False
 * (FailedUpdateScale), the status keeping its previous desiredReplicas and lastScaleTime, and no
 * scale event remembered.
 */
export function applyScaleResult(
  input: ReconcileInput,
  result: ReconcileResult,
  outcome: ScaleWriteOutcome,
): ReconcileResult {
  if (outcome.ok || !result.scaled || "error" in input.scale) return result;
  const original = input.hpa.status ?? {};
  const draft = new StatusDraft(input.now, original, result.status.observedGeneration ?? undefined);
  // The ScaledToZero condition only moves (is set or removed) after a successful write: put back what this sync started from.
  const originalConditions = original.conditions ?? [];
  const startedAt = originalConditions.findIndex((c) => c.type === "ScaledToZero");
  const conditions = (result.status.conditions ?? [])
    .filter((c) => c.type !== "ScaledToZero")
    .map((c) => ({ ...c }));
  const startedWith = originalConditions[startedAt];
  if (startedWith) conditions.splice(Math.min(startedAt, conditions.length), 0, { ...startedWith });
  draft.conditions = conditions;
  draft.set({
    type: "AbleToScale",
    status: "False",
    reason: "FailedUpdateScale",
    message: `the HPA controller was unable to update the target scale: ${outcome.error}`,
  });
  const events = result.events.filter((e) => e.reason !== "SuccessfulRescale");
  events.push({
    type: "Warning",
    reason: "FailedRescale",
    message: `New size: ${result.desiredReplicas}; reason: ${result.rescaleReason ?? ""}; error: ${outcome.error}`,
  });
  const previousDesired = original.desiredReplicas ?? 0;
  const history = result.history && {
    ...result.history,
    scaleUpEvents: input.history?.scaleUpEvents ?? [],
    scaleDownEvents: input.history?.scaleDownEvents ?? [],
  };
  return {
    ...result,
    scaled: false,
    status: draft.status(
      input.scale.replicas,
      previousDesired,
      result.status.currentMetrics ?? undefined,
      false,
    ),
    events: draft.events.concat(events),
    history,
  };
}
