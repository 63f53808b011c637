// custom.metrics.k8s.io from Prometheus: a request names a resource, objects (by name or by
// label selector, resolved from the informer cache) and a metric; the rule that discovered the
// metric renders one PromQL query for all of them, and each answer sample goes back to the
// object named by its resource label.
import { Quantity } from "../../kube/quantity.js";
import { parseSelector, type Requirement } from "../../kube/selector.js";
import type {
  BackendWaitTimer,
  CustomMetricByNameRequest,
  CustomMetricBySelectorRequest,
  CustomMetricInfo,
  CustomMetricValue,
  CustomMetricsProvider,
  GroupResource,
  ObjectLister,
  ResourceMapper,
  ResourceMapping,
  Result,
  SelectorString,
} from "../provider.js";
import type { PrometheusClient } from "../prometheus/client.js";
import type { CustomEntry, MetricRegistry } from "../rules/series-discovery.js";
import { buildObjectQuery } from "../rules/query.js";
import { groupResourceKey, resolveResource } from "../rules/resources.js";
import { measurement, queryVector } from "./errors.js";
import { querySampleTimes, type MetricTimestamps } from "./sample-times.js";

export interface CustomProviderDeps {
  registry: () => MetricRegistry;
  client: PrometheusClient;
  mapper: ResourceMapper;
  lister: ObjectLister;
  /** what each value's timestamp says (sample-times.ts); "query" when absent */
  metricTimestamps?: MetricTimestamps;
}

export function parseMetricSelector(
  selector: SelectorString,
  field = "metricLabelSelector",
): Result<readonly Requirement[]> {
  if (selector === "") return { ok: true, value: [] };
  const parsed = parseSelector(selector);
  if (!parsed.ok) return { ok: false, error: { kind: "BadRequest", message: `${field}: ${parsed.error}` } };
  return { ok: true, value: parsed.selector.requirements };
}

function apiVersion(mapping: ResourceMapping): string {
  // custom-metrics-apiserver writes group/version, which is "/v1" for the core group.
  return `${mapping.groupResource.group}/${mapping.version}`;
}

export class PrometheusCustomMetrics implements CustomMetricsProvider {
  constructor(private readonly deps: CustomProviderDeps) {}

  listCustomMetrics(): CustomMetricInfo[] {
    return this.deps.registry().customList;
  }

  async getMetricByName(req: CustomMetricByNameRequest): Promise<Result<CustomMetricValue>> {
    const r = await this.query(
      req.namespace,
      req.groupResource,
      [req.name],
      req.metric,
      req.metricSelector,
      req.wait,
    );
    if (!r.ok) return r;
    const value = r.value[0];
    if (value === undefined) {
      return {
        ok: false,
        error: {
          kind: "NotFound",
          message: `the server could not find the metric ${req.metric} for ${groupResourceKey(req.groupResource)} ${req.name}`,
        },
      };
    }
    return { ok: true, value };
  }

  async getMetricBySelector(req: CustomMetricBySelectorRequest): Promise<Result<CustomMetricValue[]>> {
    const mapping = this.resolve(req.groupResource, req.metric, req.namespace);
    if (!mapping.ok) return mapping;
    const names = await this.deps.lister.listNames({
      groupResource: mapping.value.mapping.groupResource,
      namespace: req.namespace,
      selector: req.selector,
    });
    if (!names.ok) return names;
    if (names.value.length === 0) return { ok: true, value: [] };
    return this.query(
      req.namespace,
      req.groupResource,
      names.value,
      req.metric,
      req.metricSelector,
      req.wait,
    );
  }

  private resolve(
    gr: GroupResource,
    metric: string,
    namespace: string | undefined,
  ): Result<{ mapping: ResourceMapping; entry: CustomEntry }> {
    const mapping = resolveResource(this.deps.mapper, gr);
    if (!mapping)
      return {
        ok: false,
        error: {
          kind: "NotFound",
          message: `the server could not find the requested resource ${groupResourceKey(gr)}`,
        },
      };
    const entry = this.deps.registry().lookupCustom(mapping.groupResource, metric, namespace !== undefined);
    if (!entry)
      return {
        ok: false,
        error: {
          kind: "NotFound",
          message: `the server could not find the metric ${metric} for ${groupResourceKey(mapping.groupResource)}`,
        },
      };
    return { ok: true, value: { mapping, entry } };
  }

  private async query(
    namespace: string | undefined,
    gr: GroupResource,
    names: readonly string[],
    metric: string,
    metricSelector: SelectorString,
    wait: BackendWaitTimer | undefined,
  ): Promise<Result<CustomMetricValue[]>> {
    const resolved = this.resolve(gr, metric, namespace);
    if (!resolved.ok) return resolved;
    const { mapping, entry } = resolved.value;
    const selector = parseMetricSelector(metricSelector);
    if (!selector.ok) return selector;
    const built = buildObjectQuery(
      entry.rule.metricsQuery,
      entry.rule.resources,
      {
        series: entry.seriesName,
        groupResource: mapping.groupResource,
        namespace,
        names,
        metricSelector: selector.value,
      },
      { sampleTime: this.deps.metricTimestamps === "sample" },
    );
    if (!built.ok) return built;
    const [answer, sampledAt] = await Promise.all([
      queryVector(
        this.deps.client,
        built.query,
        (resultType) =>
          `the metrics query for ${metric} returned a ${resultType}, not a vector keyed by ${built.resourceLabel}`,
        wait,
      ),
      built.sampleTimeQuery !== undefined
        ? querySampleTimes(this.deps.client, built.sampleTimeQuery, built.resourceLabel, wait)
        : undefined,
    ]);
    if (!answer.ok) return answer;
    if (sampledAt !== undefined && !sampledAt.ok) return sampledAt;
    const wanted = new Set(names);
    const byName = new Map<string, CustomMetricValue>();
    const kind = mapping.kind;
    const version = apiVersion(mapping);
    for (const sample of answer.value) {
      const name = sample.metric[built.resourceLabel];
      if (name === undefined || !wanted.has(name) || byName.has(name)) continue;
      const measured = measurement(sample.value, entry.rule.nanAsZero);
      if (measured === undefined) continue;
      const value: CustomMetricValue = {
        describedObject:
          namespace === undefined
            ? { kind, name, apiVersion: version }
            : { kind, namespace, name, apiVersion: version },
        metric: metricSelector === "" ? { name: metric } : { name: metric, selector: metricSelector },
        // an object whose series Prometheus cannot date keeps the query's time (see rules/query.ts)
        timestamp: new Date(sampledAt?.value.get(name) ?? sample.timestampMs),
        value: Quantity.fromNumber(measured),
      };
      byName.set(name, value);
    }
    // In the order the objects were asked for, as the lister gave them.
    return { ok: true, value: names.flatMap((n) => byName.get(n) ?? []) };
  }
}
