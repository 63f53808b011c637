// From the metrics' recommendation to the new size for an HPA with `behavior`
// (upstream horizontal.go: normalizeDesiredReplicasWithBehaviors, stabilizeRecommendationWithBehaviors,
// convertDesiredReplicasWithBehaviorRate, calculateScale{Up,Down}Limit*, storeScaleEvent;
// defaults from pkg/apis/autoscaling/v2/defaults.go).
import { ableToScale, scalingLimited, type ConditionUpdate, type LimitReason } from "./conditions.js";
import { recordRecommendation } from "./normalize.js";
import type {
  ControllerSettings,
  HpaHistory,
  TimestampedRecommendation,
  TimestampedScaleEvent,
} from "./settings.js";

/** The API's HPAScalingRules / HorizontalPodAutoscalerBehavior, as far as the rate rules read them (structural). */
export interface ScalingRulesSpec {
  stabilizationWindowSeconds?: number | null | undefined;
  selectPolicy?: string | null | undefined;
  policies?: readonly ScalingPolicySpec[] | null | undefined;
}
export interface ScalingPolicySpec {
  type: string;
  value: number;
  periodSeconds: number;
}
export interface BehaviorSpec {
  scaleUp?: ScalingRulesSpec | null | undefined;
  scaleDown?: ScalingRulesSpec | null | undefined;
}

/** Rules with every field filled in. */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  /** "Max" (default), "Min" or "Disabled"; anything else acts as Max, as upstream's code does */
  selectPolicy: string;
  policies: ScalingPolicySpec[];
}
export interface ResolvedBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

// Upstream's defaults: they repeat the behaviour-less controller (scale up by 4 pods or 100% per 15s,
// no scale-up stabilization; scale down by 100% per 15s after the controller's downscale window).
const defaultScaleUpPolicies: readonly ScalingPolicySpec[] = [
  { type: "Pods", value: 4, periodSeconds: 15 },
  { type: "Percent", value: 100, periodSeconds: 15 },
];
const defaultScaleDownPolicies: readonly ScalingPolicySpec[] = [
  { type: "Percent", value: 100, periodSeconds: 15 },
];

/**
 * Fills unset fields the way the API server's defaulting and the controller's
 * maybeInitScaleDownStabilizationWindow do: each field set by the user is kept as is.
 */
export function resolveBehavior(
  behavior: BehaviorSpec,
  settings: Pick<ControllerSettings, "downscaleStabilizationWindowSeconds">,
): ResolvedBehavior {
  const up = behavior.scaleUp ?? {};
  const down = behavior.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds: up.stabilizationWindowSeconds ?? 0,
      selectPolicy: up.selectPolicy ?? "Max",
      policies: (up.policies ?? defaultScaleUpPolicies).map((p) => ({ ...p })),
    },
    scaleDown: {
      stabilizationWindowSeconds:
        down.stabilizationWindowSeconds ?? settings.downscaleStabilizationWindowSeconds,
      selectPolicy: down.selectPolicy ?? "Max",
      policies: (down.policies ?? defaultScaleDownPolicies).map((p) => ({ ...p })),
    },
  };
}

export interface StabilizedWithBehavior {
  replicas: number;
  /** reason/message to report when stabilization changed the recommendation */
  stabilizedBy: { reason: string; message: string };
  recommendations: TimestampedRecommendation[];
}

/**
 * Keeps the recommendation between the lowest recommendation of the scale-up window and the
 * highest of the scale-down window (starting from the current size), and records the new
 * recommendation, reusing the slot of an entry older than both windows.
 */
export function stabilizeRecommendationWithBehaviors(args: {
  now: number;
  currentReplicas: number;
  recommendedReplicas: number;
  behavior: ResolvedBehavior;
  recommendations: readonly TimestampedRecommendation[];
}): StabilizedWithBehavior {
  const { now, currentReplicas, recommendedReplicas } = args;
  const upCutoff = now - args.behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - args.behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let upRecommendation = recommendedReplicas;
  let downRecommendation = recommendedReplicas;
  let oldIndex = -1;
  args.recommendations.forEach((rec, i) => {
    if (rec.timestamp > upCutoff) upRecommendation = Math.min(rec.replicas, upRecommendation);
    if (rec.timestamp > downCutoff) downRecommendation = Math.max(rec.replicas, downRecommendation);
    if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) oldIndex = i;
  });
  let replicas = currentReplicas;
  if (replicas < upRecommendation) replicas = upRecommendation;
  if (replicas > downRecommendation) replicas = downRecommendation;
  return {
    replicas,
    stabilizedBy:
      recommendedReplicas >= currentReplicas
        ? ableToScale.scaleUpStabilized
        : ableToScale.scaleDownStabilized,
    recommendations: recordRecommendation(args.recommendations, oldIndex, {
      timestamp: now,
      replicas: recommendedReplicas,
    }),
  };
}

/** Replicas added (or removed) by events strictly newer than `now - periodSeconds`. */
export function getReplicasChangePerPeriod(
  now: number,
  periodSeconds: number,
  events: readonly TimestampedScaleEvent[],
): number {
  const cutoff = now - periodSeconds * 1000;
  let replicas = 0;
  for (const e of events) if (e.timestamp > cutoff) replicas += e.replicaChange;
  return replicas;
}

const maxInt32 = 2147483647;
const minInt32 = -2147483648;

/** The size each policy allows counting from the size at the start of its period; combined per selectPolicy. */
export function calculateScaleUpLimitWithScalingRules(
  now: number,
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  rules: ScalingRules,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  const useMin = rules.selectPolicy === "Min";
  let result = useMin ? maxInt32 : minInt32;
  // Like upstream, a policy of an unknown type repeats the previous proposal.
  let proposed = 0;
  for (const policy of rules.policies) {
    const periodStart =
      currentReplicas -
      getReplicasChangePerPeriod(now, policy.periodSeconds, scaleUpEvents) +
      getReplicasChangePerPeriod(now, policy.periodSeconds, scaleDownEvents);
    if (policy.type === "Pods") proposed = periodStart + policy.value;
    // rounded up so that a small percentage of a small size still adds a pod
    else if (policy.type === "Percent") proposed = Math.ceil(periodStart * (1 + policy.value / 100));
    result = useMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

export function calculateScaleDownLimitWithBehaviors(
  now: number,
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  rules: ScalingRules,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  // For a scale-down the smallest change ("Min") is the largest remaining size.
  const useMin = rules.selectPolicy === "Min";
  let result = useMin ? minInt32 : maxInt32;
  let proposed = 0;
  for (const policy of rules.policies) {
    const periodStart =
      currentReplicas -
      getReplicasChangePerPeriod(now, policy.periodSeconds, scaleUpEvents) +
      getReplicasChangePerPeriod(now, policy.periodSeconds, scaleDownEvents);
    if (policy.type === "Pods") proposed = periodStart - policy.value;
    // truncated toward zero, as upstream's int32 conversion does
    else if (policy.type === "Percent") proposed = Math.trunc(periodStart * (1 - policy.value / 100));
    result = useMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** Applies the rate policies and the min/max bounds to an already stabilized recommendation. */
export function convertDesiredReplicasWithBehaviorRate(args: {
  now: number;
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: ResolvedBehavior;
  scaleUpEvents: readonly TimestampedScaleEvent[];
  scaleDownEvents: readonly TimestampedScaleEvent[];
}): { replicas: number; limit: LimitReason } {
  const { now, currentReplicas, desiredReplicas } = args;
  if (desiredReplicas > currentReplicas) {
    let scaleUpLimit = calculateScaleUpLimitWithScalingRules(
      now,
      currentReplicas,
      args.scaleUpEvents,
      args.scaleDownEvents,
      args.behavior.scaleUp,
    );
    // Recent scale-ups can push the limit below the current size: hold until they age out.
    if (scaleUpLimit < currentReplicas) scaleUpLimit = currentReplicas;
    const [maximumAllowed, limit] =
      args.maxReplicas > scaleUpLimit
        ? [scaleUpLimit, scalingLimited.scaleUpLimit]
        : [args.maxReplicas, scalingLimited.tooManyReplicas];
    if (desiredReplicas > maximumAllowed) return { replicas: maximumAllowed, limit };
  } else if (desiredReplicas < currentReplicas) {
    let scaleDownLimit = calculateScaleDownLimitWithBehaviors(
      now,
      currentReplicas,
      args.scaleUpEvents,
      args.scaleDownEvents,
      args.behavior.scaleDown,
    );
    if (scaleDownLimit > currentReplicas) scaleDownLimit = currentReplicas;
    const [minimumAllowed, limit] =
      args.minReplicas < scaleDownLimit
        ? [scaleDownLimit, scalingLimited.scaleDownLimit]
        : [args.minReplicas, scalingLimited.tooFewReplicas];
    if (desiredReplicas < minimumAllowed) return { replicas: minimumAllowed, limit };
  }
  return { replicas: desiredReplicas, limit: scalingLimited.desiredWithinRange };
}

export interface NormalizeWithBehaviorsInput {
  now: number;
  settings: ControllerSettings;
  currentReplicas: number;
  recommendedReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: BehaviorSpec;
  history: HpaHistory;
}

export interface NormalizedWithBehaviors {
  desiredReplicas: number;
  ableToScale: ConditionUpdate;
  scalingLimited: ConditionUpdate;
  recommendations: TimestampedRecommendation[];
}

/** normalizeDesiredReplicasWithBehaviors: stabilization per direction, then the rate policies and the bounds. */
export function normalizeDesiredReplicasWithBehaviors(
  input: NormalizeWithBehaviorsInput,
): NormalizedWithBehaviors {
  const behavior = resolveBehavior(input.behavior, input.settings);
  const stabilized = stabilizeRecommendationWithBehaviors({
    now: input.now,
    currentReplicas: input.currentReplicas,
    recommendedReplicas: input.recommendedReplicas,
    behavior,
    recommendations: input.history.recommendations,
  });
  const able =
    stabilized.replicas !== input.recommendedReplicas
      ? stabilized.stabilizedBy
      : ableToScale.readyForNewScale;
  const limited = convertDesiredReplicasWithBehaviorRate({
    now: input.now,
    currentReplicas: input.currentReplicas,
    desiredReplicas: stabilized.replicas,
    minReplicas: input.minReplicas,
    maxReplicas: input.maxReplicas,
    behavior,
    scaleUpEvents: input.history.scaleUpEvents,
    scaleDownEvents: input.history.scaleDownEvents,
  });
  return {
    desiredReplicas: limited.replicas,
    ableToScale: { type: "AbleToScale", status: "True", ...able },
    scalingLimited: {
      type: "ScalingLimited",
      status: limited.replicas === stabilized.replicas ? "False" : "True",
      ...limited.limit,
    },
    recommendations: stabilized.recommendations,
  };
}

/** The longest periodSeconds among the rules' policies (0 without policies). */
export function getLongestPolicyPeriod(rules: ScalingRules): number {
  return rules.policies.reduce((longest, p) => Math.max(longest, p.periodSeconds), 0);
}

/** Flags events older than the longest policy period: no policy reads them, so their slot can be reused. */
export function markScaleEventsOutdated(
  events: readonly TimestampedScaleEvent[],
  now: number,
  longestPolicyPeriodSeconds: number,
): TimestampedScaleEvent[] {
  const cutoff = now - longestPolicyPeriodSeconds * 1000;
  return events.map((e) => (e.timestamp < cutoff ? { ...e, outdated: true } : { ...e }));
}

/**
 * Remembers a scale from `prevReplicas` to `newReplicas` for the rate policies (only HPAs with
 * behavior keep events), reusing the slot of the last outdated event of that direction.
 */
export function storeScaleEvent(
  behavior: BehaviorSpec | null | undefined,
  history: HpaHistory,
  now: number,
  prevReplicas: number,
  newReplicas: number,
  settings: Pick<ControllerSettings, "downscaleStabilizationWindowSeconds">,
): HpaHistory {
  if (!behavior) return history;
  const rules = resolveBehavior(behavior, settings);
  const up = newReplicas > prevReplicas;
  const events = markScaleEventsOutdated(
    up ? history.scaleUpEvents : history.scaleDownEvents,
    now,
    getLongestPolicyPeriod(up ? rules.scaleUp : rules.scaleDown),
  );
  const fresh: TimestampedScaleEvent = {
    timestamp: now,
    replicaChange: Math.abs(newReplicas - prevReplicas),
    outdated: false,
  };
  let reuse = -1;
  events.forEach((e, i) => {
    if (e.outdated) reuse = i;
  });
  if (reuse >= 0) events[reuse] = fresh;
  else events.push(fresh);
  return up ? { ...history, scaleUpEvents: events } : { ...history, scaleDownEvents: events };
}
