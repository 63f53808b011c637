// external.metrics.k8s.io from Prometheus: the metric selector becomes PromQL label matchers,
// the namespace one more (unless the rule says namespaced: false), and every answer sample
// one ExternalMetricValue with its labels.
import { Quantity } from "../../kube/quantity.js";
import type {
  ExternalMetricInfo,
  ExternalMetricRequest,
  ExternalMetricValue,
  ExternalMetricsProvider,
  Result,
} from "../provider.js";
import type { PrometheusClient } from "../prometheus/client.js";
import type { MetricRegistry } from "../rules/series-discovery.js";
import { buildExternalQuery } from "../rules/query.js";
import { parseMetricSelector } from "./custom.js";
import { fromPrometheusError, measurement } from "./errors.js";
import { querySampleTimes, type MetricTimestamps } from "./sample-times.js";

export class PrometheusExternalMetrics implements ExternalMetricsProvider {
  constructor(
    private readonly deps: {
      registry: () => MetricRegistry;
      client: PrometheusClient;
      /** what each value's timestamp says (sample-times.ts); "query" when absent */
      metricTimestamps?: MetricTimestamps;
    },
  ) {}

  listExternalMetrics(): ExternalMetricInfo[] {
    return this.deps.registry().externalList;
  }

  async getExternalMetric(req: ExternalMetricRequest): Promise<Result<ExternalMetricValue[]>> {
    const entry = this.deps.registry().lookupExternal(req.metric);
    if (!entry)
      return {
        ok: false,
        error: { kind: "NotFound", message: `the server could not find the external metric ${req.metric}` },
      };
    const selector = parseMetricSelector(req.metricSelector, "labelSelector");
    if (!selector.ok) return selector;
    const built = buildExternalQuery(
      entry.rule.metricsQuery,
      entry.rule.resources,
      {
        series: entry.seriesName,
        namespace: entry.rule.namespaced ? req.namespace : undefined,
        metricSelector: selector.value,
        labelValueReplacements: entry.rule.labelValueReplacements,
      },
      { sampleTime: this.deps.metricTimestamps === "sample" },
    );
    if (!built.ok) return built;
    const [answer, sampledAt] = await Promise.all([
      this.deps.client.query(built.query, { wait: req.wait }),
      built.sampleTimeQuery !== undefined
        ? querySampleTimes(this.deps.client, built.sampleTimeQuery, undefined, req.wait)
        : undefined,
    ]);
    if (!answer.ok) return { ok: false, error: fromPrometheusError(answer.error) };
    if (sampledAt !== undefined && !sampledAt.ok) return sampledAt;
    // one time for the whole answer: the newest sample of every series the selector matches
    const newest = sampledAt?.value.get("");
    const data = answer.value;
    if (data.resultType === "scalar") {
      const measured = measurement(data.result.value, entry.rule.nanAsZero);
      if (measured === undefined) return { ok: true, value: [] };
      return {
        ok: true,
        value: [
          {
            metricName: req.metric,
            metricLabels: {},
            timestamp: new Date(newest ?? data.result.timestampMs),
            value: Quantity.fromNumber(measured),
          },
        ],
      };
    }
    if (data.resultType !== "vector") {
      return {
        ok: false,
        error: {
          kind: "Internal",
          message: `the query for external metric ${req.metric} returned a ${data.resultType}; expected a vector or scalar`,
        },
      };
    }
    return {
      ok: true,
      value: data.result.flatMap((s) => {
        const measured = measurement(s.value, entry.rule.nanAsZero);
        if (measured === undefined) return [];
        return [
          {
            metricName: req.metric,
            metricLabels: s.metric,
            timestamp: new Date(newest ?? s.timestampMs),
            value: Quantity.fromNumber(measured),
          },
        ];
      }),
    };
  }
}
