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

export class ApiMetricsClient implements MetricsClient {
  constructor(
    private readonly http: KubeApi,
    private readonly mapper: KindMapper,
  ) {}

  async read(namespace: string, metric: MetricSpec, podSelector: string): Promise<MetricResponse> {
    const ns = seg(namespace);
    switch (metric.type) {
      case "Resource":
      case "ContainerResource":
        return this.get(`${RESOURCE_API}/namespaces/${ns}/pods`, params({ labelSelector: podSelector }), (j) =>
          podMetricsListSchema.parse(j),
        );
      case "Pods": {
        const m = metric.pods;
        if (m == null) return { error: "invalid metric spec: type Pods without pods" };
        const metricSelector = selectorText(m.metric.selector);
        if ("error" in metricSelector) return metricSelector;
        return this.get(
          `${CUSTOM_API}/namespaces/${ns}/pods/*/${seg(m.metric.name)}`,
          params({ labelSelector: podSelector, metricLabelSelector: metricSelector.text }),
          (j) => metricValueListSchema.parse(j),
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

  private async get<T extends MetricResponse>(
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
