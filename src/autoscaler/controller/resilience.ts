// Keeping an HPA useful while its metrics fail or go stale; none of this is upstream's, and all of
// it is off unless a flag or an annotation turns it on. Pure: the controller passes the clock, the
// remembered readings and the count of failed syncs in, and keeps what comes back.
//
//   before compute  applyMaxMetricAge: samples older than max-metric-age are dropped (a list left
//                   empty is a failed read); substituteLastKnownGood: a failed read is replaced by
//                   the last good answer for the same metric spec, if it is young enough.
//   after compute   holdIfLastKnownGoodScalesDown: a remembered value may scale up, never down;
//                   applyFallback: after N syncs whose metrics failed, at least fallback-replicas.
import {
  epochMsToKubeTime,
  kubeTimeToEpochMs,
  type HorizontalPodAutoscalerStatus,
  type MetricResponse,
  type MetricSpec,
} from "../../kube/objects.js";
import { formatDuration } from "../../kube/duration.js";
import {
  setCondition,
  storeScaleEvent,
  type ConditionUpdate,
  type ControllerEvent,
  type ControllerSettings,
  type HpaHistory,
  type ReconcileInput,
  type ReconcileResult,
} from "../algorithm/index.js";
import { stableJson } from "./stable-json.js";

/** Reason of the ScalingActive condition and the Event while a remembered value stands in for a failed read. */
export const USING_LAST_KNOWN_GOOD = "UsingLastKnownGoodMetric";
/** Reason of the ScalingActive condition and the Event while fallback-replicas is in force. */
export const FALLBACK_REPLICAS = "FallbackReplicas";

export interface ResiliencePolicy {
  /** a sample older than this counts as failed; undefined = off (upstream) */
  maxMetricAgeMs?: number | undefined;
  /** how old a remembered good answer may be to stand in for a failed read; undefined = off */
  lastKnownGoodMs?: number | undefined;
  /** undefined = off */
  fallback?: { replicas: number; after: number; allowScaleDown: boolean } | undefined;
}

/** The autoscaler's flags: defaults for every HPA. fallback-replicas has none: a size fits one workload. */
export interface ResilienceDefaults {
  maxMetricAgeMs?: number | undefined;
  lastKnownGoodMs?: number | undefined;
  fallbackAfter?: number | undefined;
}

/** The flag-level defaults with one HPA's annotations over them; a duration of 0 turns a default off. */
export function resolvePolicy(
  defaults: ResilienceDefaults,
  o: {
    maxMetricAgeMs?: number;
    lastKnownGoodMs?: number;
    fallbackReplicas?: number;
    fallbackAfter?: number;
    fallbackAllowScaleDown?: boolean;
  },
): ResiliencePolicy {
  const on = (ms: number | undefined) => (ms !== undefined && ms > 0 ? ms : undefined);
  const replicas = o.fallbackReplicas;
  return {
    maxMetricAgeMs: on(o.maxMetricAgeMs ?? defaults.maxMetricAgeMs),
    lastKnownGoodMs: on(o.lastKnownGoodMs ?? defaults.lastKnownGoodMs),
    fallback:
      replicas === undefined
        ? undefined
        : {
            replicas,
            after: o.fallbackAfter ?? defaults.fallbackAfter ?? DEFAULT_FALLBACK_AFTER,
            allowScaleDown: o.fallbackAllowScaleDown ?? false,
          },
  };
}

export const DEFAULT_FALLBACK_AFTER = 3;

/** A metric's answer that the algorithm could use, and when it was read. */
export interface GoodReading {
  response: MetricResponse;
  readAt: number;
}
/** Good readings of one HPA by metric spec (stable JSON), so a reordered or edited spec never gets another's value. */
export type RememberedReadings = ReadonlyMap<string, GoodReading>;

/** How users read a metric's name in conditions and Events. */
export function describeMetric(spec: MetricSpec): string {
  switch (spec.type) {
    case "Resource":
      return `resource ${spec.resource?.name ?? ""}`;
    case "ContainerResource":
      return `resource ${spec.containerResource?.name ?? ""} of container ${spec.containerResource?.container ?? ""}`;
    case "Pods":
      return `pods metric ${spec.pods?.metric.name ?? ""}`;
    case "Object":
      return `object metric ${spec.object?.metric.name ?? ""} of ${spec.object?.describedObject.kind ?? ""}/${spec.object?.describedObject.name ?? ""}`;
    case "External":
      return `external metric ${spec.external?.metric.name ?? ""}`;
    default:
      return spec.type;
  }
}

type Item = { timestamp?: string | null | undefined };
function itemsOf(r: MetricResponse): Item[] | undefined {
  if ("error" in r) return undefined;
  return (r.items ?? []) as Item[];
}
function withItems(r: MetricResponse, items: Item[]): MetricResponse {
  return { ...r, items } as MetricResponse;
}

/**
 * max-metric-age: drop every sample whose timestamp is older than maxAgeMs (the pod counts as
 * missing, as upstream treats a pod without a sample); a list with nothing fresh left is a failed
 * read. Samples without a timestamp are kept: their age is unknown.
 */
export function applyMaxMetricAge(
  r: MetricResponse,
  maxAgeMs: number | undefined,
  now: number,
  what: string,
): MetricResponse {
  const items = itemsOf(r);
  if (maxAgeMs === undefined || items === undefined || items.length === 0) return r;
  let newest = -Infinity;
  const fresh = items.filter((item) => {
    const t = kubeTimeToEpochMs(item.timestamp);
    if (t === undefined) return true;
    newest = Math.max(newest, t);
    return now - t <= maxAgeMs;
  });
  if (fresh.length === items.length) return r;
  if (fresh.length > 0) return withItems(r, fresh);
  return {
    error: `the newest sample of ${what} is ${formatDuration(Math.max(0, now - newest))} old, older than max-metric-age ${formatDuration(maxAgeMs)}`,
  };
}

function usable(r: MetricResponse): boolean {
  const items = itemsOf(r);
  return items !== undefined && items.length > 0;
}

export interface Substitution {
  index: number;
  metric: string;
  ageMs: number;
  /** why the read failed */
  error: string;
}

export interface PreparedReadings {
  /** what the algorithm sees, index-aligned with spec.metrics */
  responses: MetricResponse[];
  /** the readings to remember for the next sync */
  remembered: Map<string, GoodReading>;
  substitutions: Substitution[];
  /** reads that failed and had no remembered value to stand in */
  failed: number;
}

/**
 * Between read and compute. `read` is false when the algorithm needs no metrics this sync (they
 * were not read): nothing changes and the remembered readings are kept as they are.
 */
export function prepareReadings(a: {
  specs: readonly MetricSpec[];
  responses: readonly MetricResponse[];
  read: boolean;
  remembered: RememberedReadings | undefined;
  policy: ResiliencePolicy;
  now: number;
}): PreparedReadings {
  const previous = a.remembered ?? new Map<string, GoodReading>();
  if (!a.read)
    return { responses: [...a.responses], remembered: new Map(previous), substitutions: [], failed: 0 };
  const { maxMetricAgeMs, lastKnownGoodMs } = a.policy;
  const remembered = new Map<string, GoodReading>();
  const substitutions: Substitution[] = [];
  let failed = 0;
  const responses = a.specs.map((spec, index) => {
    const what = describeMetric(spec);
    const key = stableJson(spec);
    const raw = a.responses[index] ?? { error: "no answer from the metrics API for this metric" };
    const r = applyMaxMetricAge(raw, maxMetricAgeMs, a.now, what);
    if (usable(r)) {
      if (lastKnownGoodMs !== undefined) remembered.set(key, { response: r, readAt: a.now });
      return r;
    }
    const good = previous.get(key);
    if (lastKnownGoodMs !== undefined && good !== undefined && a.now - good.readAt <= lastKnownGoodMs) {
      remembered.set(key, good);
      const error = "error" in r && typeof r.error === "string" ? r.error : "no metrics returned";
      substitutions.push({ index, metric: what, ageMs: a.now - good.readAt, error });
      return good.response;
    }
    failed++;
    return r;
  });
  return { responses, remembered, substitutions, failed };
}

function conditionOf(status: HorizontalPodAutoscalerStatus, type: string) {
  return (status.conditions ?? []).find((c) => c.type === type);
}
function withCondition(
  status: HorizontalPodAutoscalerStatus,
  update: ConditionUpdate,
  now: number,
): HorizontalPodAutoscalerStatus {
  return {
    ...status,
    conditions: setCondition(
      status.conditions ?? [],
      update,
      now,
    ) as HorizontalPodAutoscalerStatus["conditions"],
  };
}

function substitutionText(s: Substitution): string {
  return `${s.metric} from its last known good value, read ${formatDuration(s.ageMs)} ago (the read failed: ${s.error})`;
}

/**
 * After compute, when remembered values stood in: say so, and never let them scale down. A
 * computed size below the current one is held at the current one, and the sync's recommendation
 * is raised to it, so the remembered value cannot pull a later scale-down forward either.
 */
export function holdIfLastKnownGoodScalesDown(
  input: ReconcileInput,
  computed: ReconcileResult,
  substitutions: readonly Substitution[],
): ReconcileResult {
  if (substitutions.length === 0 || "error" in input.scale) return computed;
  const { now } = input;
  const current = input.scale.replicas;
  const used = substitutions.map(substitutionText).join("; ");
  const active = conditionOf(computed.status, "ScalingActive");
  if (active?.status !== "True") return computed;
  const events: ControllerEvent[] = [
    { type: "Normal", reason: USING_LAST_KNOWN_GOOD, message: `computing ${used}` },
  ];
  if (!(computed.scaled && computed.desiredReplicas < current)) {
    return {
      ...computed,
      status: withCondition(
        computed.status,
        {
          type: "ScalingActive",
          status: "True",
          reason: USING_LAST_KNOWN_GOOD,
          message: `the HPA was able to compute a replica count using ${used}`,
        },
        now,
      ),
      events: [...computed.events, ...events],
    };
  }
  const original = input.hpa.status ?? {};
  const { lastScaleTime: _thisSync, ...kept } = computed.status;
  let status: HorizontalPodAutoscalerStatus = {
    ...kept,
    desiredReplicas: current,
    ...(original.lastScaleTime !== undefined && original.lastScaleTime !== null
      ? { lastScaleTime: original.lastScaleTime }
      : {}),
  };
  status = withCondition(
    status,
    {
      type: "ScalingActive",
      status: "True",
      reason: USING_LAST_KNOWN_GOOD,
      message: `the HPA held ${current} replicas: using ${used}, it would scale down to ${computed.desiredReplicas}, and a remembered value only scales up`,
    },
    now,
  );
  status = withCondition(
    status,
    {
      type: "AbleToScale",
      status: "True",
      reason: "SucceededGetScale",
      message: "the HPA controller was able to get the target's current scale",
    },
    now,
  );
  const history: HpaHistory | null = computed.history && {
    recommendations: computed.history.recommendations.map((r) =>
      r.timestamp === now ? { ...r, replicas: Math.max(r.replicas, current) } : r,
    ),
    scaleUpEvents: input.history?.scaleUpEvents ?? computed.history.scaleUpEvents,
    scaleDownEvents: input.history?.scaleDownEvents ?? [],
  };
  events.push({
    type: "Normal",
    reason: USING_LAST_KNOWN_GOOD,
    message: `held ${current} replicas instead of scaling down to ${computed.desiredReplicas}: a remembered value only scales up`,
  });
  const { rescaleReason: _dropped, ...rest } = computed;
  return {
    ...rest,
    desiredReplicas: current,
    scaled: false,
    status,
    events: [...computed.events.filter((e) => e.reason !== "SuccessfulRescale"), ...events],
    history,
  };
}

/** Whether this sync counts as one whose metrics failed: they were read, some failed, and the HPA could not act. */
export function metricsFailed(computed: ReconcileResult, prepared: PreparedReadings): boolean {
  return prepared.failed > 0 && conditionOf(computed.status, "ScalingActive")?.status === "False";
}

/**
 * fallback-replicas, after `after` syncs in a row whose metrics failed: at least that size (within
 * [minReplicas, maxReplicas]), and never below the current size unless allowScaleDown.
 */
export function applyFallback(
  input: ReconcileInput,
  computed: ReconcileResult,
  failedSyncs: number,
  fallback: ResiliencePolicy["fallback"],
  settings: Pick<ControllerSettings, "downscaleStabilizationWindowSeconds">,
): ReconcileResult {
  if (fallback === undefined || failedSyncs < fallback.after || "error" in input.scale) return computed;
  const { now, hpa } = input;
  const current = input.scale.replicas;
  const bounded = Math.min(Math.max(fallback.replicas, hpa.spec.minReplicas ?? 1), hpa.spec.maxReplicas);
  const target = fallback.allowScaleDown ? bounded : Math.max(current, bounded);
  const failure = conditionOf(computed.status, "ScalingActive")?.message ?? "";
  let status = withCondition(
    computed.status,
    {
      type: "ScalingActive",
      status: "False",
      reason: FALLBACK_REPLICAS,
      message: `the metrics failed in ${failedSyncs} syncs in a row, so fallback-replicas ${fallback.replicas} applies (${target} replicas): ${failure}`,
    },
    now,
  );
  const events = [...computed.events];
  if (target === current) {
    if (failedSyncs === fallback.after)
      events.push({
        type: "Warning",
        reason: FALLBACK_REPLICAS,
        message: `the metrics failed in ${failedSyncs} syncs in a row; keeping ${current} replicas (fallback-replicas ${fallback.replicas})`,
      });
    return { ...computed, status, events };
  }
  const rescaleReason = `fallback-replicas after ${failedSyncs} syncs with failed metrics`;
  status = withCondition(
    status,
    {
      type: "AbleToScale",
      status: "True",
      reason: "SucceededRescale",
      message: `the HPA controller was able to update the target scale to ${target}`,
    },
    now,
  );
  status = { ...status, desiredReplicas: target, lastScaleTime: epochMsToKubeTime(now) };
  events.push(
    {
      type: "Warning",
      reason: FALLBACK_REPLICAS,
      message: `the metrics failed in ${failedSyncs} syncs in a row; scaling from ${current} to ${target} replicas (fallback-replicas ${fallback.replicas})`,
    },
    { type: "Normal", reason: "SuccessfulRescale", message: `New size: ${target}; reason: ${rescaleReason}` },
  );
  const history =
    computed.history && storeScaleEvent(hpa.spec.behavior, computed.history, now, current, target, settings);
  return { ...computed, desiredReplicas: target, scaled: true, rescaleReason, status, events, history };
}
