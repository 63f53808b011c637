// The narrow seam between the API plumbing (HTTP, authn/authz, routing, discovery, encoding)
// and the metrics backend (Prometheus rules, series discovery, PromQL). The server knows
// nothing of PromQL; the providers know nothing of HTTP. Modelled on
// kubernetes-sigs/custom-metrics-apiserver's provider interfaces.
import type { Quantity } from "../kube/quantity.js";

/** A failure the API turns into a Kubernetes Status with the matching code. */
export type ProviderError =
  | { kind: "NotFound"; message: string } // 404: unknown metric, or no series for the object
  | { kind: "BadRequest"; message: string } // 400: malformed selector, unsupported request
  | { kind: "Forbidden"; message: string } // 403: a delegate's own authorization refused the caller
  // 503: Prometheus unreachable, timed out, or erroring. `message` goes to the client; `cause`
  // (with Prometheus' address) only to our logs, so no reader learns where Prometheus lives.
  | { kind: "Unavailable"; message: string; cause?: string }
  | { kind: "Internal"; message: string }; // 500: a bug; the message says what

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProviderError };

export interface GroupResource {
  group: string; // "" for the core group
  resource: string; // plural, lower case: "pods", "deployments", "namespaces"
}

/**
 * Told when a request starts and stops waiting on the metrics backend (Prometheus), so the API
 * side can report that time per request (the `Server-Timing` header). Optional on every
 * request; calls may overlap (CPU and memory queries of one PodMetrics request run together).
 */
export interface BackendWaitTimer {
  start(): void;
  stop(): void;
}

/** One entry of the custom metrics discovery list: `pods/http_requests`. */
export interface CustomMetricInfo {
  groupResource: GroupResource;
  metric: string;
  namespaced: boolean;
}

export interface ExternalMetricInfo {
  metric: string;
}

/** A label selector in its string form ("app=web,tier!=db", "env in (a,b)"), already validated. */
export type SelectorString = string;

export interface ObjectReference {
  kind: string; // "Pod"
  namespace?: string;
  name: string;
  apiVersion: string; // "/v1", "apps/v1"
}

export interface CustomMetricValue {
  describedObject: ObjectReference;
  metric: { name: string; selector?: SelectorString };
  timestamp: Date;
  windowSeconds?: number;
  value: Quantity;
}

export interface ExternalMetricValue {
  metricName: string;
  metricLabels: Record<string, string>;
  timestamp: Date;
  windowSeconds?: number;
  value: Quantity;
}

export interface ContainerUsage {
  name: string;
  usage: { cpu: Quantity; memory: Quantity };
}
export interface PodUsage {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  timestamp: Date;
  windowSeconds: number;
  containers: ContainerUsage[];
}
export interface NodeUsage {
  name: string;
  labels: Record<string, string>;
  timestamp: Date;
  windowSeconds: number;
  usage: { cpu: Quantity; memory: Quantity };
}

/** Who asked, as authentication found them (UserInfo's fields). */
export interface Caller {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/**
 * Every metric request may carry a timer for its waits on Prometheus, and the caller, which a
 * provider that passes requests on to another server (a delegate) forwards so its own
 * authorization applies.
 */
interface Timed {
  wait?: BackendWaitTimer;
  caller?: Caller;
}

/** One named object (namespace undefined for cluster-scoped resources and namespace metrics). */
export interface CustomMetricByNameRequest extends Timed {
  namespace?: string;
  groupResource: GroupResource;
  name: string;
  metric: string;
  metricSelector: SelectorString;
}

/** Every object matching `selector` (name `*`). */
export interface CustomMetricBySelectorRequest extends Timed {
  namespace?: string;
  groupResource: GroupResource;
  selector: SelectorString;
  metric: string;
  metricSelector: SelectorString;
}

export interface ExternalMetricRequest extends Timed {
  namespace: string;
  metric: string;
  metricSelector: SelectorString;
}

/** Pods in `namespace` (all namespaces when undefined) matching `selector`, or exactly `name`. */
export interface PodMetricsRequest extends Timed {
  namespace?: string;
  name?: string;
  selector: SelectorString;
}

export interface NodeMetricsRequest extends Timed {
  name?: string;
  selector: SelectorString;
}

export interface CustomMetricsProvider {
  listCustomMetrics(): CustomMetricInfo[];
  getMetricByName(req: CustomMetricByNameRequest): Promise<Result<CustomMetricValue>>;
  getMetricBySelector(req: CustomMetricBySelectorRequest): Promise<Result<CustomMetricValue[]>>;
}

export interface ExternalMetricsProvider {
  listExternalMetrics(): ExternalMetricInfo[];
  getExternalMetric(req: ExternalMetricRequest): Promise<Result<ExternalMetricValue[]>>;
}

export interface ResourceMetricsProvider {
  getPodMetrics(req: PodMetricsRequest): Promise<Result<PodUsage[]>>;
  getNodeMetrics(req: NodeMetricsRequest): Promise<Result<NodeUsage[]>>;
}

// ---- What the providers need from Kubernetes (implemented over informers and API discovery,
// so a request never makes a list call of its own). ----

export interface ResourceMapping {
  groupResource: GroupResource;
  kind: string; // "Pod"
  version: string; // preferred version: "v1"
  namespaced: boolean;
}

/** Resolves resource names as they appear in Prometheus labels and URLs ("pod", "pods", "deployment.apps"). */
export interface ResourceMapper {
  /** Plural, singular or kind, lower case, optionally `.group`: "pods", "pod", "deployments.apps". */
  resolve(resource: string): ResourceMapping | undefined;
}

/** Names of existing objects matching a selector, from an informer cache. */
export interface ObjectLister {
  listNames(req: {
    groupResource: GroupResource;
    namespace?: string;
    selector: SelectorString;
  }): Promise<Result<string[]>>;
  /**
   * The same objects with namespace and labels, which PodMetrics/NodeMetrics carry and which a
   * list across all namespaces needs. Optional: without it the resource metrics provider uses
   * listNames (namespace by namespace for all-namespace lists) and answers with empty labels.
   */
  listObjects?(req: {
    groupResource: GroupResource;
    namespace?: string;
    selector: SelectorString;
  }): Promise<Result<ObjectMeta[]>>;
}

/** What the resource metrics provider needs to know of a pod or node. */
export interface ObjectMeta {
  namespace?: string;
  name: string;
  labels: Record<string, string>;
}
