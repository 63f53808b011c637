// From the metrics' recommendation to the new size for an HPA without `behavior`
// (upstream horizontal.go: stabilizeRecommendation, normalizeDesiredReplicas,
// convertDesiredReplicasWithRules, calculateScaleUpLimit).
import { ableToScale, scalingLimited, type ConditionUpdate, type LimitReason } from "./conditions.js";
import type { ControllerSettings, TimestampedRecommendation } from "./settings.js";

export interface Stabilized {
  replicas: number;
  /** the history with the new (unstabilized) recommendation recorded */
  recommendations: TimestampedRecommendation[];
}

/**
 * Records `recommended` in the history (reusing the slot of an entry older than the window, as
 * upstream does) and returns the largest recommendation inside the downscale stabilization window.
 * An entry exactly at the window's start still counts (upstream compares with Before).
 */
export function stabilizeRecommendation(
  recommendations: readonly TimestampedRecommendation[],
  now: number,
  windowSeconds: number,
  recommended: number,
): Stabilized {
  const cutoff = now - windowSeconds * 1000;
  let max = recommended;
  let oldIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.timestamp < cutoff) oldIndex = i;
    else if (rec.replicas > max) max = rec.replicas;
  });
  return {
    replicas: max,
    recommendations: recordRecommendation(recommendations, oldIndex, {
      timestamp: now,
      replicas: recommended,
    }),
  };
}

/** Replaces the entry at `reuseIndex` (when >= 0) or appends; never mutates the input. */
export function recordRecommendation(
  recommendations: readonly TimestampedRecommendation[],
  reuseIndex: number,
  entry: TimestampedRecommendation,
): TimestampedRecommendation[] {
  const next = recommendations.map((r) => ({ ...r }));
  if (reuseIndex >= 0) next[reuseIndex] = entry;
  else next.push(entry);
  return next;
}

/** The scale-up ceiling without behavior: max(factor × current, minimum), truncated like upstream's int32 conversion. */
export function calculateScaleUpLimit(
  currentReplicas: number,
  settings: Pick<ControllerSettings, "scaleUpLimitFactor" | "scaleUpLimitMinimum">,
): number {
  return Math.trunc(Math.max(settings.scaleUpLimitFactor * currentReplicas, settings.scaleUpLimitMinimum));
}

export interface Limited {
  replicas: number;
  limit: LimitReason;
}

/** Clamps to [minReplicas, min(maxReplicas, scale-up limit)] and names the bound that applied. */
export function convertDesiredReplicasWithRules(
  currentReplicas: number,
  desiredReplicas: number,
  minReplicas: number,
  maxReplicas: number,
  settings: Pick<ControllerSettings, "scaleUpLimitFactor" | "scaleUpLimitMinimum">,
): Limited {
  const scaleUpLimit = calculateScaleUpLimit(currentReplicas, settings);
  // The scale-up limit guards against a bogus usage spike multiplying the replica count.
  const [maximumAllowed, overLimit] =
    maxReplicas > scaleUpLimit
      ? [scaleUpLimit, scalingLimited.scaleUpLimit]
      : [maxReplicas, scalingLimited.tooManyReplicas];
  if (desiredReplicas < minReplicas) return { replicas: minReplicas, limit: scalingLimited.tooFewReplicas };
  if (desiredReplicas > maximumAllowed) return { replicas: maximumAllowed, limit: overLimit };
  return { replicas: desiredReplicas, limit: scalingLimited.desiredWithinRange };
}

export interface NormalizeInput {
  now: number;
  settings: ControllerSettings;
  currentReplicas: number;
  /** the metrics' proposal before any limit */
  recommendedReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  recommendations: readonly TimestampedRecommendation[];
}

export interface Normalized {
  desiredReplicas: number;
  ableToScale: ConditionUpdate;
  scalingLimited: ConditionUpdate;
  recommendations: TimestampedRecommendation[];
}

/** normalizeDesiredReplicas: downscale stabilization, then the bounds and the scale-up limit. */
export function normalizeDesiredReplicas(input: NormalizeInput): Normalized {
  const stabilized = stabilizeRecommendation(
    input.recommendations,
    input.now,
    input.settings.downscaleStabilizationWindowSeconds,
    input.recommendedReplicas,
  );
  const able =
    stabilized.replicas !== input.recommendedReplicas
      ? ableToScale.scaleDownStabilized
      : ableToScale.readyForNewScale;
  const limited = convertDesiredReplicasWithRules(
    input.currentReplicas,
    stabilized.replicas,
    input.minReplicas,
    input.maxReplicas,
    input.settings,
  );
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
