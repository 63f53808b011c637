// HPA status conditions, set the way kube-controller-manager's setConditionInList does:
// one entry per type, updated in place; lastTransitionTime moves only when the status flips.
import { epochMsToKubeTime } from "../../kube/objects.js";

export type ConditionType = "AbleToScale" | "ScalingActive" | "ScalingLimited" | "ScaledToZero";
export type ConditionStatus = "True" | "False" | "Unknown";

/** An autoscaling/v2 HorizontalPodAutoscalerCondition (structural: the API type fits it). */
export interface HpaCondition {
  type: string;
  status: string;
  lastTransitionTime?: string | null | undefined;
  reason?: string | null | undefined;
  message?: string | null | undefined;
}

/** A condition the algorithm wants set; the time is filled in by setCondition. */
export interface ConditionUpdate {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export const formatTime = epochMsToKubeTime;

/** Returns a new list with `update` applied; the input list is not modified. */
export function setCondition(
  list: readonly HpaCondition[],
  update: ConditionUpdate,
  now: number,
): HpaCondition[] {
  const result = list.map((c) => ({ ...c }));
  let existing = result.find((c) => c.type === update.type);
  if (!existing) {
    existing = { type: update.type, status: "" };
    result.push(existing);
  }
  if (existing.status !== update.status) existing.lastTransitionTime = formatTime(now);
  existing.status = update.status;
  existing.reason = update.reason;
  existing.message = update.message;
  return result;
}

export function removeCondition(list: readonly HpaCondition[], type: ConditionType): HpaCondition[] {
  return list.filter((c) => c.type !== type).map((c) => ({ ...c }));
}

export function findCondition(list: readonly HpaCondition[], type: ConditionType): HpaCondition | undefined {
  return list.find((c) => c.type === type);
}

// Upstream's reasons and messages, gathered so every caller words them identically.
export const scalingLimited = {
  desiredWithinRange: {
    reason: "DesiredWithinRange",
    message: "the desired count is within the acceptable range",
  },
  tooFewReplicas: {
    reason: "TooFewReplicas",
    message: "the desired replica count is less than the minimum replica count",
  },
  tooManyReplicas: {
    reason: "TooManyReplicas",
    message: "the desired replica count is more than the maximum replica count",
  },
  scaleUpLimit: {
    reason: "ScaleUpLimit",
    message: "the desired replica count is increasing faster than the maximum scale rate",
  },
  scaleDownLimit: {
    reason: "ScaleDownLimit",
    message: "the desired replica count is decreasing faster than the maximum scale rate",
  },
} as const;

export const ableToScale = {
  readyForNewScale: { reason: "ReadyForNewScale", message: "recommended size matches current size" },
  scaleDownStabilized: {
    reason: "ScaleDownStabilized",
    message:
      "recent recommendations were higher than current one, applying the highest recent recommendation",
  },
  scaleUpStabilized: {
    reason: "ScaleUpStabilized",
    message: "recent recommendations were lower than current one, applying the lowest recent recommendation",
  },
} as const;

export type LimitReason = (typeof scalingLimited)[keyof typeof scalingLimited];
