// One sync of one HPA as kube-controller-manager's reconcileAutoscaler does it, as a pure function:
// plain data in (the HPA, its scale, pods, what the metrics APIs answered, the remembered history,
// the clock), plain data out (the size to write, the new status, the Events, the new history).
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, MetricResponse, Pod } from "../../kube/objects.js";
import type { ControllerSettings, HpaHistory } from "./settings.js";

export interface ReconcileInput {
  now: number; // epoch ms
  /** kube-controller-manager's settings, including the legacy upscale/downscale delays (0 = off) */
  settings: ControllerSettings;
  hpa: HorizontalPodAutoscaler;
  /** the scale subresource: spec.replicas and status.selector, or the error of reading it */
  scale: { replicas: number; selector: string } | { error: string };
  /** the pods in the HPA's namespace (the calculator selects them with the scale's selector) */
  pods: Pod[];
  /** what the metrics APIs answered, index-aligned with hpa.spec.metrics */
  metricResponses: MetricResponse[];
  /** what the controller remembers for this HPA; null when it has nothing yet */
  history: HpaHistory | null;
}

export interface ControllerEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface ReconcileResult {
  /** the size chosen (equals the current size when nothing is written) */
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

export function reconcile(_input: ReconcileInput): ReconcileResult {
  throw new Error("reconcile: not implemented yet");
}

export function applyScaleResult(_input: ReconcileInput, result: ReconcileResult, _outcome: ScaleWriteOutcome): ReconcileResult {
  return result;
}
