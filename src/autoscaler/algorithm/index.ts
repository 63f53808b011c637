// The HPA algorithm's public API: one pure reconcile of one HPA, plus the parts it is made of.
export {
  reconcile,
  applyScaleResult,
  needsMetricComputation,
  type ReconcileInput,
  type ReconcileResult,
  type ControllerEvent,
  type ScaleWriteOutcome,
} from "./reconcile.js";
export {
  normalizeDesiredReplicas,
  convertDesiredReplicasWithRules,
  calculateScaleUpLimit,
  stabilizeRecommendation,
} from "./normalize.js";
export {
  normalizeDesiredReplicasWithBehaviors,
  resolveBehavior,
  storeScaleEvent,
  type BehaviorSpec,
  type ResolvedBehavior,
  type ScalingRules,
} from "./behavior.js";
export { shouldScale, legacyDelayGate, type LegacyDelayInput } from "./legacy-delay.js";
export { setCondition, type ConditionUpdate, type HpaCondition } from "./conditions.js";
export {
  defaultControllerSettings,
  withDefaults,
  type ControllerSettings,
  type HpaHistory,
  type TimestampedRecommendation,
  type TimestampedScaleEvent,
} from "./settings.js";
