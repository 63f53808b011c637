// kube-controller-manager's HPA settings that the algorithm reads, with upstream's defaults.
// Durations are whole seconds; times elsewhere in the algorithm are epoch milliseconds.

export interface ControllerSettings {
  /** --horizontal-pod-autoscaler-tolerance; per-HPA behavior.scaleUp/scaleDown.tolerance override it */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period */
  cpuInitializationPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay */
  delayOfInitialReadinessStatusSeconds: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (used when an HPA has no behavior) */
  downscaleStabilizationWindowSeconds: number;
  /** without behavior, a scale-up goes at most to max(scaleUpLimitFactor × current, scaleUpLimitMinimum) */
  scaleUpLimitFactor: number;
  scaleUpLimitMinimum: number;
  /** the legacy (1.9–1.11) --horizontal-pod-autoscaler-upscale-delay / -downscale-delay; 0 = off */
  upscaleDelaySeconds: number;
  downscaleDelaySeconds: number;
  /**
   * upstream's HPAScaleToZero feature gate (beta, on by default since 1.37): an HPA with
   * minReplicas 0 and an Object or External metric may scale its target to zero, records that in
   * the ScaledToZero condition, and wakes it again from those metrics
   */
  scaleToZero: boolean;
  /** upstream's HPAGeneration feature gate (beta, on by default since 1.37): status.observedGeneration is written */
  hpaGeneration: boolean;
}

export const defaultControllerSettings: Readonly<ControllerSettings> = Object.freeze({
  tolerance: 0.1,
  cpuInitializationPeriodSeconds: 300,
  delayOfInitialReadinessStatusSeconds: 30,
  downscaleStabilizationWindowSeconds: 300,
  scaleUpLimitFactor: 2,
  scaleUpLimitMinimum: 4,
  upscaleDelaySeconds: 0,
  downscaleDelaySeconds: 0,
  scaleToZero: true,
  hpaGeneration: true,
});

export function withDefaults(partial: Partial<ControllerSettings> | undefined): ControllerSettings {
  return { ...defaultControllerSettings, ...partial };
}

/** What the controller remembers per HPA between syncs (upstream keeps these in memory; we persist them). */
export interface TimestampedRecommendation {
  timestamp: number; // epoch ms
  replicas: number;
}
export interface TimestampedScaleEvent {
  timestamp: number; // epoch ms
  replicaChange: number; // absolute number of replicas added or removed
  outdated?: boolean;
}
export interface HpaHistory {
  recommendations: TimestampedRecommendation[];
  scaleUpEvents: TimestampedScaleEvent[];
  scaleDownEvents: TimestampedScaleEvent[];
}
