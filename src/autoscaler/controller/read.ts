// The read phase of a sync: everything the algorithm and the writers need about one HPA, gathered
// into one plain value. It only reads (the scale subresource, the informers' caches, the metrics
// API), keeps no state and does not know whether the caller will act: a sync and a read-only
// explanation share it.
import type { HorizontalPodAutoscaler, MetricResponse, Pod } from "../../kube/objects.js";
import type { ControllerSettings, HpaHistory, ReconcileInput } from "../algorithm/index.js";
import { HISTORY_ANNOTATION, readOverrides, type HpaOverrides } from "./annotations.js";
import { errorMessage } from "./error-message.js";
import { parseHistory } from "./history.js";
import type { CurrentScale, EventObjectRef, MetricsClient, PodLister, ScaleClient } from "./ports.js";

/** Other HPAs of a namespace whose scale selector also selects one of the given pods. */
export type OverlappingSelectors = (
  namespace: string,
  name: string,
  pods: Pod[],
) => { name: string; selector: string }[];

export interface SyncReaders {
  scales: ScaleClient;
  pods: PodLister;
  metrics: MetricsClient;
  overlapping: OverlappingSelectors;
}

export interface ReadOptions {
  now: number;
  /** the controller's settings, before the HPA's annotations override some */
  settings: ControllerSettings;
  syncPeriodMs: number;
  /** the selector the last sync read metrics with: they are read alongside the scale with it */
  metricsSelectorHint?: string | undefined;
}

export interface SyncInputs {
  hpa: HorizontalPodAutoscaler;
  namespace: string;
  ref: EventObjectRef;
  now: number;
  /** settings and sync period as the HPA's annotations override them, with the annotations' problems */
  overrides: HpaOverrides;
  settings: ControllerSettings;
  nextSyncMs: number;
  /** the target's scale subresource; undefined when it could not be read (`scale` says why) */
  current: CurrentScale | undefined;
  scale: ReconcileInput["scale"];
  pods: Pod[];
  /** one answer per spec.metrics entry */
  metricResponses: MetricResponse[];
  /** the pod selector the metrics were read with; undefined when the algorithm needs none */
  metricsSelector: string | undefined;
  otherHpaSelectors: { name: string; selector: string }[];
  /** the history annotation as the last leader saved it, and parsed (null if absent or unreadable) */
  savedHistoryText: string | undefined;
  savedHistory: HpaHistory | null;
}

export async function readSyncInputs(
  r: SyncReaders,
  hpa: HorizontalPodAutoscaler,
  o: ReadOptions,
): Promise<SyncInputs> {
  const namespace = hpa.metadata.namespace ?? "default";
  const ref: EventObjectRef = {
    namespace,
    name: hpa.metadata.name,
    uid: hpa.metadata.uid,
    resourceVersion: hpa.metadata.resourceVersion,
  };
  const annotations = hpa.metadata.annotations ?? {};
  const overrides = readOverrides(annotations);
  const settings: ControllerSettings = {
    ...o.settings,
    upscaleDelaySeconds: overrides.upscaleDelaySeconds ?? o.settings.upscaleDelaySeconds,
    downscaleDelaySeconds: overrides.downscaleDelaySeconds ?? o.settings.downscaleDelaySeconds,
  };

  // Metrics are read with the scale's selector. To save a round trip per sync, they are read
  // alongside the scale with the selector the last sync saw, and read again in the (rare) case
  // that the scale now reports another selector or autoscaling no longer needs them.
  const specMetrics = hpa.spec.metrics ?? [];
  const readMetrics = (sel: string) => Promise.all(specMetrics.map((m) => r.metrics.read(namespace, m, sel)));
  const hint = o.metricsSelectorHint;
  const early = hint !== undefined ? { selector: hint, responses: readMetrics(hint) } : undefined;

  let current: CurrentScale | undefined;
  let scale: ReconcileInput["scale"];
  try {
    current = await r.scales.getScale(namespace, hpa.spec.scaleTargetRef);
    scale = { replicas: current.replicas, selector: current.selector };
  } catch (err) {
    scale = { error: errorMessage(err) };
  }

  // pods and metrics, only when the algorithm may look at them: upstream computes metrics for a
  // target inside [minReplicas, maxReplicas], and for one at zero only with scale-to-zero
  let pods: Pod[] = [];
  let metricResponses: MetricResponse[];
  let metricsSelector: string | undefined;
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const n = current?.replicas;
  const computes =
    n !== undefined &&
    (n === 0
      ? settings.scaleToZero === true || minReplicas === 0
      : n <= hpa.spec.maxReplicas && n >= minReplicas);
  if (current !== undefined && computes) {
    const sel = current.selector;
    pods = r.pods.list(namespace, sel);
    metricResponses =
      early !== undefined && early.selector === sel ? await early.responses : await readMetrics(sel);
    metricsSelector = sel;
  } else {
    if (early !== undefined) await early.responses; // never rejects; do not leave it dangling
    metricResponses = specMetrics.map(() => ({
      error: "not read: the algorithm does not need metrics for this target state",
    }));
  }

  const savedHistoryText = annotations[HISTORY_ANNOTATION];
  return {
    hpa,
    namespace,
    ref,
    now: o.now,
    overrides,
    settings,
    nextSyncMs: overrides.syncPeriodMs ?? o.syncPeriodMs,
    current,
    scale,
    pods,
    metricResponses,
    metricsSelector,
    otherHpaSelectors: current !== undefined ? r.overlapping(namespace, hpa.metadata.name, pods) : [],
    savedHistoryText,
    savedHistory: parseHistory(savedHistoryText, o.now),
  };
}
