// The loop's boundary: everything a sync reads from or writes to the cluster, as small
// interfaces. src/autoscaler/api and src/autoscaler/metrics implement them on the API;
// unit tests implement them with fakes.
import type {
  CrossVersionObjectReference,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerStatus,
  MetricResponse,
  MetricSpec,
  Pod,
} from "../../kube/objects.js";
import type { ControllerEvent } from "../algorithm/index.js";

export interface CurrentScale {
  /** spec.replicas */
  replicas: number;
  /** status.replicas (per-pod averages of Object/External metrics divide by it) */
  statusReplicas?: number | undefined;
  /** status.selector of the scale subresource ("" when the target reports none) */
  selector: string;
  /** what updateScale needs to write it back (the Scale object and its path) */
  handle: unknown;
}

export interface ScaleClient {
  /** throws with a message fit for a FailedGetScale condition */
  getScale(namespace: string, target: CrossVersionObjectReference): Promise<CurrentScale>;
  /** throws with a message fit for a FailedRescale Event */
  updateScale(current: CurrentScale, replicas: number): Promise<void>;
}

export interface MetricsClient {
  /** Never throws: a failed call answers `{ error }`, as the algorithm expects. */
  read(namespace: string, metric: MetricSpec, podSelector: string): Promise<MetricResponse>;
}

/** A parsed HPA from the informer cache, or why it could not be parsed. */
export type CachedHpa =
  | { ok: true; hpa: HorizontalPodAutoscaler }
  | { ok: false; namespace: string; name: string; error: string; raw: unknown };

export interface HpaLister {
  get(namespace: string, name: string): CachedHpa | undefined;
  /** every cached HPA as `namespace/name` */
  keys(): string[];
  /**
   * The resourceVersion the cache of this namespace's HPAs has caught up with (its last list,
   * watch event or bookmark); "" or absent when unknown.
   */
  lastSyncResourceVersion?(namespace: string): string;
}

export interface PodLister {
  /** pods of the namespace matching the selector string ("" = all); all pods if the selector does not parse */
  list(namespace: string, selector: string): Pod[];
}

/** What a write returned about the HPA, when the writer knows it. */
export interface WrittenHpa {
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

export interface HpaWriter {
  /** Write the status subresource: one update, based on the HPA as given (a conflict is an error). */
  updateStatus(
    hpa: HorizontalPodAutoscaler,
    status: HorizontalPodAutoscalerStatus,
  ): Promise<WrittenHpa | void>;
  /** Merge-patch annotations (null deletes one); never conflicts. */
  patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<WrittenHpa | void>;
  /** Merge-patch status conditions of an HPA we could not parse. */
  patchStatusConditions(namespace: string, name: string, conditions: unknown[]): Promise<void>;
}

export interface EventObjectRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

export interface EventRecorder {
  /** Fire and forget: failures are logged by the recorder, never fail a sync. */
  record(hpa: EventObjectRef, event: ControllerEvent): void;
}
