// The upscale/downscale delays of kube-controller-manager 1.9–1.11
// (--horizontal-pod-autoscaler-upscale-delay / -downscale-delay, "forbidden windows"): after a
// scale, no scale-up for upscaleDelay and no scale-down for downscaleDelay.
//
// How they combine with the current algorithm (see reconcile.ts): they are an extra gate AFTER
// normalization. The new size is computed exactly as today (stabilization, behavior policies or
// the scale-up limit, min/max); then, if that size differs from the current one, the gate may
// still refuse the change because the last scale (status.lastScaleTime) is too recent for that
// direction. A refused change writes nothing, records no scale event and reports AbleToScale
// False with 1.9's Backoff* reason; the recommendation history is still updated, as upstream
// updates it on every sync. So delays and stabilization windows both hold a change back and
// the longer of the two wins; behavior rate policies then bound the size once the gate opens.
// A delay of 0 turns that direction's gate off (the default: current upstream has no delays).
// 1.9 measured the delay up to the metrics' timestamp; we measure it up to the sync's clock,
// because metric timestamps can be unset (Go's zero time) and the delay is about our own scaling.
import type { ConditionUpdate } from "./conditions.js";

export interface LegacyDelayInput {
  now: number; // epoch ms
  currentReplicas: number;
  desiredReplicas: number;
  lastScaleTime: number | null; // epoch ms; null when the target was never scaled
  upscaleDelaySeconds: number;
  downscaleDelaySeconds: number;
}

/**
 * 1.9's shouldScale: no change when the sizes are equal; any change without a previous scale;
 * otherwise only once lastScaleTime + that direction's delay is strictly before now.
 */
export function shouldScale(input: LegacyDelayInput): boolean {
  const { now, currentReplicas, desiredReplicas, lastScaleTime } = input;
  if (desiredReplicas === currentReplicas) return false;
  if (lastScaleTime === null) return true;
  if (desiredReplicas < currentReplicas) return lastScaleTime + input.downscaleDelaySeconds * 1000 < now;
  return lastScaleTime + input.upscaleDelaySeconds * 1000 < now;
}

export interface LegacyDelayGate {
  /** whether the delays let the normalized size be written */
  allowed: boolean;
  /** 1.9's AbleToScale condition while a delay window is open (reported whatever the direction); undefined otherwise */
  backoff?: ConditionUpdate;
}

/**
 * The gate as the controller applies it: a delay of 0 turns that direction's gate off entirely
 * (our settings' meaning of 0), otherwise 1.9's shouldScale decides, and 1.9's Backoff* condition
 * reports which windows are still open.
 */
export function legacyDelayGate(input: LegacyDelayInput): LegacyDelayGate {
  const { now, lastScaleTime } = input;
  const open = (delaySeconds: number) =>
    delaySeconds > 0 && lastScaleTime !== null && !(lastScaleTime + delaySeconds * 1000 < now);
  const backoffUp = open(input.upscaleDelaySeconds);
  const backoffDown = open(input.downscaleDelaySeconds);
  const up = input.desiredReplicas > input.currentReplicas;
  const down = input.desiredReplicas < input.currentReplicas;
  const allowed = (up && !backoffUp) || (down && !backoffDown);
  if (backoffUp && backoffDown)
    return {
      allowed,
      backoff: {
        type: "AbleToScale",
        status: "False",
        reason: "BackoffBoth",
        message:
          "the time since the previous scale is still within both the downscale and upscale forbidden windows",
      },
    };
  if (backoffUp)
    return {
      allowed,
      backoff: {
        type: "AbleToScale",
        status: "False",
        reason: "BackoffUpscale",
        message: "the time since the previous scale is still within the upscale forbidden window",
      },
    };
  if (backoffDown)
    return {
      allowed,
      backoff: {
        type: "AbleToScale",
        status: "False",
        reason: "BackoffDownscale",
        message: "the time since the previous scale is still within the downscale forbidden window",
      },
    };
  return { allowed };
}
