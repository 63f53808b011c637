// Reads each metric of an HPA spec through the metrics APIs the way kube-controller-manager's
// REST metrics client does: the same paths and query parameters. A failed call becomes
// `{ error }` with the API's own message; the algorithm adds upstream's wording around it
// ("unable to fetch metrics from custom metrics API: ...") and checks list contents (e.g. the
// "exactly one value" rule for Object metrics).
import {
  externalMetricValueListSchema,
  metricValueListSchema,
  podMetricsListSchema,
  type MetricResponse,
  type MetricSpec,
} from "../../kube/objects.js";
import { labelSelectorAsSelector, selectorToString } from "../../kube/selector.js";
import type { LabelSelector } from "../../kube/objects.js";
import type { MetricsClient } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { parseGroupVersion, type KindMapper } from "../../kube/mapper.js";

const RESOURCE_API = "/apis/metrics.k8s.io/v1beta1";
const CUSTOM_API = "/apis/custom.metrics.k8s.io/v1beta2";
const EXTERNAL_API = "/apis/external.metrics.k8s.io/v1beta1";

/** metav1.LabelSelectorAsSelector(...).String(), or the error of a selector that does not convert. */
function selectorText(sel: LabelSelector | null | undefined): { text: string } | { error: string } {
  const parsed = labelSelectorAsSelector(sel);
  return parsed.ok
    ? { text: selectorToString(parsed.selector) }
    : { error: `invalid metric selector: ${parsed.error}` };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** query parameters as client-go sends them: empty selectors are left out */
function params(p: Record<string, string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(p)) if (v !== "") out[k] = v;
  return out;
}

/**
 * Fewer reads for many HPAs: within `windowMs`, HPAs asking the same question share one answer,
 * and once `wideFrom` different pod selectors have asked one namespace for the same Pods or
 * Resource metric within a window, one read of the whole namespace answers each of them, cut
 * down to the pods its selector selects (as the API would have, from the same pod cache the
 * algorithm uses). An answer is at most `windowMs` older than a read of its own would be.
 */
export interface Coalescing {
  windowMs: number;
  now: () => number;
  /** names of the namespace's pods a selector selects; undefined for a selector that does not parse */
  podNames?: (namespace: string, selector: string) => Set<string> | undefined;
  /** distinct pod selectors per namespace and metric within a window before one wide read answers them (default 4) */
  wideFrom?: number;
}

type Answer = MetricResponse | { error: string };

export class ApiMetricsClient implements MetricsClient {
  /** path and query → the answer and when it was asked for */
  private readonly answers = new Map<string, { at: number; answer: Promise<Answer> }>();
  /** path without the pod selector → the window's start and the pod selectors asked in it and the one before */
  private readonly askers = new Map<string, { since: number; now: Set<string>; before: number }>();

  constructor(
    private readonly http: KubeApi,
    private readonly mapper: KindMapper,
    private readonly coalescing?: Coalescing,
  ) {}

  async read(namespace: string, metric: MetricSpec, podSelector: string): Promise<MetricResponse> {
    const ns = seg(namespace);
    switch (metric.type) {
      case "Resource":
      case "ContainerResource":
        return this.podsRead(
          namespace,
          `${RESOURCE_API}/namespaces/${ns}/pods`,
          {},
          podSelector,
          (j) => podMetricsListSchema.parse(j),
          (l, pods) => ({ ...l, items: l.items?.filter((i) => pods.has(i.metadata.name)) ?? l.items }),
        );
      case "Pods": {
        const m = metric.pods;
        if (m == null) return { error: "invalid metric spec: type Pods without pods" };
        const metricSelector = selectorText(m.metric.selector);
        if ("error" in metricSelector) return metricSelector;
        return this.podsRead(
          namespace,
          `${CUSTOM_API}/namespaces/${ns}/pods/*/${seg(m.metric.name)}`,
          { metricLabelSelector: metricSelector.text },
          podSelector,
          (j) => metricValueListSchema.parse(j),
          (l, pods) => ({
            ...l,
            items: l.items?.filter((i) => pods.has(i.describedObject.name ?? "")) ?? l.items,
          }),
        );
      }
      case "Object":
        return this.readObject(namespace, metric);
      case "External": {
        const m = metric.external;
        if (m == null) return { error: "invalid metric spec: type External without external" };
        const metricSelector = selectorText(m.metric.selector);
        if ("error" in metricSelector) return metricSelector;
        return this.get(
          `${EXTERNAL_API}/namespaces/${ns}/${seg(m.metric.name)}`,
          params({ labelSelector: metricSelector.text }),
          (j) => externalMetricValueListSchema.parse(j),
        );
      }
      default:
        return { error: `unknown metric source type '${metric.type}': no metrics API is queried` };
    }
  }

  private async readObject(namespace: string, metric: MetricSpec): Promise<MetricResponse> {
    const m = metric.object;
    if (m == null) return { error: "invalid metric spec: type Object without object" };
    const metricName = seg(m.metric.name);
    const ref = m.describedObject;
    const metricSelector = selectorText(m.metric.selector);
    if ("error" in metricSelector) return metricSelector;
    const query = params({ metricLabelSelector: metricSelector.text });
    let path: string;
    const gv = parseGroupVersion(ref.apiVersion);
    if (!gv.ok) return { error: gv.error.message };
    const { group } = gv.value;
    if (ref.kind === "Namespace" && group === "") {
      // a Namespace object is the HPA's own namespace (a reference cannot leave it)
      path = `${CUSTOM_API}/namespaces/${seg(namespace)}/metrics/${metricName}`;
    } else {
      const info = await this.mapper.restMapping(ref.apiVersion, ref.kind);
      if (!info.ok) {
        const gk = group === "" ? ref.kind : `${ref.kind}.${group}`;
        return { error: `unable to map kind ${gk} to resource: ${info.error.message}` };
      }
      const { resource: plural, group: g } = info.value;
      const resource = g === "" ? plural : `${plural}.${g}`;
      path = `${CUSTOM_API}/namespaces/${seg(namespace)}/${seg(resource)}/${seg(ref.name)}/${metricName}`;
    }
    return this.get(path, query, (j) => metricValueListSchema.parse(j));
  }

  /** A per-pod metric for the pods a selector selects: its own read, or its share of the namespace's. */
  private async podsRead<T extends MetricResponse>(
    namespace: string,
    path: string,
    query: Record<string, string>,
    podSelector: string,
    parse: (json: unknown) => T,
    keep: (list: T, pods: Set<string>) => T,
  ): Promise<T | { error: string }> {
    const own = () => this.get(path, params({ ...query, labelSelector: podSelector }), parse);
    const c = this.coalescing;
    if (
      c?.podNames === undefined ||
      podSelector === "" ||
      !this.manyAsk(c, `${path}?${stableQuery(query)}`, podSelector)
    )
      return own();
    const names = c.podNames(namespace, podSelector);
    if (names === undefined) return own();
    const all = await this.get(path, params(query), parse);
    if ("error" in all) return own(); // its own read gives its own error
    const mine = keep(all, names);
    // nothing for these pods: their own read says how the API words that
    return "items" in mine && (mine.items?.length ?? 0) > 0 ? mine : own();
  }

  /** Counts the distinct pod selectors asking for `wide`; true once the current or last window had enough. */
  private manyAsk(c: Coalescing, wide: string, podSelector: string): boolean {
    const now = c.now();
    let a = this.askers.get(wide);
    if (a === undefined) this.askers.set(wide, (a = { since: now, now: new Set(), before: 0 }));
    else if (now - a.since >= c.windowMs) {
      a.before = now - a.since < 2 * c.windowMs ? a.now.size : 0;
      a.since = now;
      a.now = new Set();
    }
    if (a.now.size < 1024) a.now.add(podSelector);
    return Math.max(a.now.size, a.before) >= (c.wideFrom ?? 4);
  }

  /** One read per path and query within the window; without coalescing, every call reads. */
  private get<T extends MetricResponse>(
    path: string,
    query: Record<string, string | undefined>,
    parse: (json: unknown) => T,
  ): Promise<T | { error: string }> {
    const c = this.coalescing;
    if (c === undefined || c.windowMs <= 0) return this.fetchAnswer(path, query, parse);
    const now = c.now();
    const k = `${path}?${stableQuery(query)}`;
    const hit = this.answers.get(k);
    if (hit !== undefined && now - hit.at < c.windowMs) return hit.answer as Promise<T | { error: string }>;
    if (this.answers.size > 10_000)
      for (const [key, v] of this.answers) if (now - v.at >= c.windowMs) this.answers.delete(key);
    const answer = this.fetchAnswer(path, query, parse);
    this.answers.set(k, { at: now, answer });
    return answer;
  }

  private async fetchAnswer<T extends MetricResponse>(
    path: string,
    query: Record<string, string | undefined>,
    parse: (json: unknown) => T,
  ): Promise<T | { error: string }> {
    const answer = await this.http.request("GET", path, { query });
    if (!answer.ok) return { error: answer.error.message };
    const json = answer.value;
    try {
      return parse(json);
    } catch (err) {
      return { error: `unexpected answer from ${path}: ${message(err).slice(0, 300)}` };
    }
  }
}

function stableQuery(q: Record<string, string | undefined>): string {
  return Object.keys(q)
    .filter((k) => q[k] !== undefined)
    .sort()
    .map((k) => `${k}=${encodeURIComponent(q[k] ?? "")}`)
    .join("&");
}
