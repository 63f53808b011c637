// Reading an HPA's recorded history from Prometheus: every metric the HPA names, through the
// same rules config the adapter serves it with (the adapter's query templates, rendered for the
// workload's pods, namespace and metric selector), as a subquery over the window — the same
// PromQL evaluated at each step — plus the workload's recorded replica count.
import { z } from "zod";
import type { MetricsDiscoveryConfig } from "../adapter/config/index.js";
import type { GroupResource } from "../adapter/provider.js";
import type { PrometheusClient } from "../adapter/prometheus/client.js";
import type { SeriesLabels } from "../adapter/prometheus/schema.js";
import { parseMetricSelector } from "../adapter/providers/custom.js";
import { buildRegistry, type MetricRegistry } from "../adapter/rules/series-discovery.js";
import { quoteString } from "../adapter/rules/promql.js";
import { buildExternalQuery, buildObjectQuery } from "../adapter/rules/query.js";
import { NAMESPACES } from "../adapter/rules/resources.js";
import { CompiledResourceRule, CompiledRule } from "../adapter/rules/rule.js";
import { builtInMapper } from "../rules-check/mapper.js";
import { labelSelectorAsSelector, selectorToString } from "../kube/selector.js";
import type { HorizontalPodAutoscaler, LabelSelector, MetricSpec } from "../kube/objects.js";

const PODS: GroupResource = { group: "", resource: "pods" };

/** One metric's recorded history, one entry per step (null where nothing was recorded). */
export interface RecordedMetric {
  spec: MetricSpec;
  /** the PromQL the adapter would run for it (per step, via a subquery) */
  query: string;
  /** per-pod metrics: the average over the pods recorded at that step; Object/External: the value */
  values: (number | null)[];
  /** per-pod metrics: how many pods had a value at that step */
  podCounts?: (number | null)[];
}

export interface Recording {
  namespace: string;
  startMs: number;
  stepMs: number;
  /** epoch ms of each step */
  times: number[];
  replicas: (number | null)[];
  /** where the replica count came from (the PromQL) */
  replicasSource: string;
  metrics: RecordedMetric[];
}

export interface ReadWindow {
  startMs: number;
  endMs: number;
  stepMs: number;
}

export class ReplayReadError extends Error {
  override readonly name = "ReplayReadError";
}

const matrixSchema = z.array(
  z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) }),
);
type Matrix = z.infer<typeof matrixSchema>;

/** The window as a subquery range: `(<expr>)[<range>s:<step>s]` evaluated at the window's end. */
async function rangeOf(client: PrometheusClient, expr: string, w: ReadWindow): Promise<Matrix> {
  const range = Math.round((w.endMs - w.startMs) / 1000);
  const step = Math.max(1, Math.round(w.stepMs / 1000));
  const r = await client.query(`(${expr})[${range}s:${step}s]`, { time: new Date(w.endMs) });
  if (!r.ok) throw new ReplayReadError(`the query ${expr} failed: ${r.error.message}`);
  if (r.value.resultType !== "matrix")
    throw new ReplayReadError(`the query ${expr} answered a ${r.value.resultType}, not a range of values`);
  return matrixSchema.parse(r.value.result);
}

/** The subquery's steps: multiples of the step inside the window, as Prometheus aligns them. */
export function stepTimes(w: ReadWindow): number[] {
  const step = Math.max(1, Math.round(w.stepMs / 1000)) * 1000;
  const out: number[] = [];
  for (let t = Math.ceil((w.startMs + 1) / step) * step; t <= w.endMs; t += step) out.push(t);
  return out;
}

/** Pod names are those of the workload: `<name>-<replicaset hash>-<suffix>` (Deployment), `<name>-<ordinal>` (StatefulSet). */
export function podNamePattern(target: { kind: string; name: string }): string {
  const name = target.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (target.kind === "Deployment") return `${name}-[a-z0-9]+-[a-z0-9]+`;
  if (target.kind === "StatefulSet") return `${name}-[0-9]+`;
  return `${name}-.+`;
}

function selectorRequirements(sel: LabelSelector | null | undefined) {
  const text = (() => {
    const p = labelSelectorAsSelector(sel);
    return p.ok ? selectorToString(p.selector) : "";
  })();
  const r = parseMetricSelector(text);
  if (!r.ok) throw new ReplayReadError(r.error.message);
  return r.value;
}

interface Compiled {
  rules: CompiledRule[];
  externalRules: CompiledRule[];
  resource?: { cpu: CompiledResourceRule; memory: CompiledResourceRule };
}

function compile(config: MetricsDiscoveryConfig): Compiled {
  const rules = config.rules.map((r, i) => new CompiledRule(`rules[${i}]`, r, builtInMapper));
  const externalRules = config.externalRules.map(
    (r, i) => new CompiledRule(`externalRules[${i}]`, r, builtInMapper),
  );
  const rr = config.resourceRules;
  return {
    rules,
    externalRules,
    ...(rr
      ? {
          resource: {
            cpu: new CompiledResourceRule("resourceRules.cpu", rr.cpu, builtInMapper),
            memory: new CompiledResourceRule("resourceRules.memory", rr.memory, builtInMapper),
          },
        }
      : {}),
  };
}

/** The adapter's discovery over the window: each distinct seriesQuery once, then the rules name the series. */
async function discover(client: PrometheusClient, c: Compiled, w: ReadWindow): Promise<MetricRegistry> {
  const bySelector = new Map<string, SeriesLabels[]>();
  for (const q of new Set([...c.rules, ...c.externalRules].map((r) => r.seriesQuery))) {
    const r = await client.series([q], { start: new Date(w.startMs), end: new Date(w.endMs) });
    if (!r.ok) throw new ReplayReadError(`series discovery for ${q} failed: ${r.error.message}`);
    bySelector.set(q, r.value);
  }
  return buildRegistry(c.rules, c.externalRules, bySelector);
}

/** Per step: the sum over each pod's series (containers), then the average over the pods that have one. */
function perPodAverages(
  m: Matrix,
  podLabel: string,
  times: number[],
  scale: (v: number) => number,
  container?: { label: string; name: string },
) {
  const byTime = new Map<number, Map<string, number>>();
  for (const series of m) {
    const pod = series.metric[podLabel];
    if (pod === undefined) continue;
    if (container && series.metric[container.label] !== container.name) continue;
    for (const [ts, text] of series.values) {
      const v = Number(text);
      if (!Number.isFinite(v)) continue;
      const t = Math.round(ts * 1000);
      let pods = byTime.get(t);
      if (!pods) byTime.set(t, (pods = new Map()));
      pods.set(pod, (pods.get(pod) ?? 0) + scale(v));
    }
  }
  const values = times.map((t) => {
    const pods = byTime.get(t);
    if (!pods || pods.size === 0) return null;
    return [...pods.values()].reduce((a, b) => a + b, 0) / pods.size;
  });
  const podCounts = times.map((t) => byTime.get(t)?.size ?? null);
  return { values, podCounts };
}

function singleValues(m: Matrix, times: number[]): (number | null)[] {
  const byTime = new Map<number, number>();
  for (const series of m)
    for (const [ts, text] of series.values) {
      const v = Number(text);
      if (Number.isFinite(v)) byTime.set(Math.round(ts * 1000), (byTime.get(Math.round(ts * 1000)) ?? 0) + v);
    }
  return times.map((t) => byTime.get(t) ?? null);
}

/** Reads what `replay` needs for one HPA; throws ReplayReadError with a message for the user. */
export async function readRecording(
  client: PrometheusClient,
  config: MetricsDiscoveryConfig,
  hpa: HorizontalPodAutoscaler,
  w: ReadWindow,
): Promise<Recording> {
  const namespace = hpa.metadata.namespace ?? "default";
  const target = hpa.spec.scaleTargetRef;
  const compiled = compile(config);
  const times = stepTimes(w);
  const pattern = podNamePattern(target);
  const needsRegistry = (hpa.spec.metrics ?? []).some(
    (m) => m.type === "Pods" || m.type === "Object" || m.type === "External",
  );
  const registry = needsRegistry ? await discover(client, compiled, w) : undefined;

  // the workload's pods over the window, from any series naming them
  const podNames = async (podLabel: string, nsLabel: string): Promise<string[]> => {
    const r = await client.series(
      [`{${nsLabel}=${quoteString(namespace)},${podLabel}=~${quoteString(pattern)}}`],
      { start: new Date(w.startMs), end: new Date(w.endMs) },
    );
    if (!r.ok)
      throw new ReplayReadError(
        `listing the pods of ${target.kind} ${namespace}/${target.name} failed: ${r.error.message}`,
      );
    return [...new Set(r.value.map((s) => s[podLabel]).filter((x): x is string => x !== undefined))].sort();
  };

  const metrics: RecordedMetric[] = [];
  for (const spec of hpa.spec.metrics ?? []) {
    if (spec.type === "Pods" && spec.pods) {
      const entry = registry?.lookupCustom(PODS, spec.pods.metric.name, true);
      if (!entry)
        throw new ReplayReadError(
          `no rule of the config serves the pods metric ${spec.pods.metric.name} (in the window's series)`,
        );
      const podLabel = entry.rule.resources.labelForResource(PODS) ?? "pod";
      const names = await podNames(
        podLabel,
        entry.rule.resources.labelForResource(NAMESPACES) ?? "namespace",
      );
      if (names.length === 0)
        throw new ReplayReadError(
          `no series name a pod of ${target.kind} ${namespace}/${target.name} in the window`,
        );
      const built = buildObjectQuery(entry.rule.metricsQuery, entry.rule.resources, {
        series: entry.seriesName,
        groupResource: PODS,
        namespace,
        names,
        metricSelector: selectorRequirements(spec.pods.metric.selector),
      });
      if (!built.ok) throw new ReplayReadError(built.error.message);
      metrics.push({
        spec,
        query: built.query,
        ...perPodAverages(await rangeOf(client, built.query, w), built.resourceLabel, times, (v) => v),
      });
    } else if (
      (spec.type === "Resource" && spec.resource) ||
      (spec.type === "ContainerResource" && spec.containerResource)
    ) {
      const name = spec.resource?.name ?? spec.containerResource?.name ?? "";
      const rule =
        name === "cpu" ? compiled.resource?.cpu : name === "memory" ? compiled.resource?.memory : undefined;
      if (!rule) throw new ReplayReadError(`the config has no resourceRules for ${name}`);
      const podLabel = rule.resources.labelForResource(PODS) ?? "pod";
      const names = await podNames(podLabel, rule.resources.labelForResource(NAMESPACES) ?? "namespace");
      if (names.length === 0)
        throw new ReplayReadError(
          `no series name a pod of ${target.kind} ${namespace}/${target.name} in the window`,
        );
      const built = buildObjectQuery(rule.containerQuery, rule.resources, {
        series: "",
        groupResource: PODS,
        namespace,
        names,
        extraGroupBy: [rule.containerLabel],
      });
      if (!built.ok) throw new ReplayReadError(built.error.message);
      const container = spec.containerResource
        ? { label: rule.containerLabel, name: spec.containerResource.container }
        : undefined;
      // the adapter's units: cores and bytes, negative as zero
      metrics.push({
        spec,
        query: built.query,
        ...perPodAverages(
          await rangeOf(client, built.query, w),
          built.resourceLabel,
          times,
          (v) => Math.max(0, v),
          container,
        ),
      });
    } else if (spec.type === "Object" && spec.object) {
      const d = spec.object.describedObject;
      const mapping = builtInMapper.resolve(d.kind);
      const entry = mapping
        ? registry?.lookupCustom(mapping.groupResource, spec.object.metric.name, true)
        : undefined;
      if (!mapping || !entry)
        throw new ReplayReadError(
          `no rule of the config serves the ${d.kind} metric ${spec.object.metric.name}`,
        );
      const built = buildObjectQuery(entry.rule.metricsQuery, entry.rule.resources, {
        series: entry.seriesName,
        groupResource: mapping.groupResource,
        namespace,
        names: [d.name],
        metricSelector: selectorRequirements(spec.object.metric.selector),
      });
      if (!built.ok) throw new ReplayReadError(built.error.message);
      metrics.push({
        spec,
        query: built.query,
        values: singleValues(await rangeOf(client, built.query, w), times),
      });
    } else if (spec.type === "External" && spec.external) {
      const entry = registry?.lookupExternal(spec.external.metric.name);
      if (!entry)
        throw new ReplayReadError(`no external rule of the config serves ${spec.external.metric.name}`);
      const built = buildExternalQuery(entry.rule.metricsQuery, entry.rule.resources, {
        series: entry.seriesName,
        ...(entry.rule.namespaced ? { namespace } : {}),
        metricSelector: selectorRequirements(spec.external.metric.selector),
        labelValueReplacements: entry.rule.labelValueReplacements,
      });
      if (!built.ok) throw new ReplayReadError(built.error.message);
      metrics.push({
        spec,
        query: built.query,
        values: singleValues(await rangeOf(client, built.query, w), times),
      });
    } else {
      throw new ReplayReadError(`replay cannot read a ${spec.type} metric`);
    }
  }

  // replicas: kube-state-metrics' count if Prometheus has it, else how many pods a per-pod metric saw
  const ksm: Record<string, [string, string]> = {
    Deployment: ["kube_deployment_status_replicas", "deployment"],
    StatefulSet: ["kube_statefulset_status_replicas", "statefulset"],
    ReplicaSet: ["kube_replicaset_status_replicas", "replicaset"],
  };
  const pair = ksm[target.kind];
  let replicas: (number | null)[] = times.map(() => null);
  let replicasSource = "";
  if (pair) {
    const expr = `max(${pair[0]}{namespace=${quoteString(namespace)},${pair[1]}=${quoteString(target.name)}})`;
    const recorded = singleValues(await rangeOf(client, expr, w), times);
    if (recorded.some((v) => v !== null)) {
      replicas = recorded;
      replicasSource = expr;
    }
  }
  if (replicasSource === "") {
    const perPod = metrics.find((m) => m.podCounts !== undefined);
    if (perPod?.podCounts) {
      replicas = perPod.podCounts;
      replicasSource = `the pods with a value of ${perPod.query}`;
    } else {
      const expr = `count(count by (pod) ({namespace=${quoteString(namespace)},pod=~${quoteString(pattern)}}))`;
      replicas = singleValues(await rangeOf(client, expr, w), times);
      replicasSource = expr;
    }
  }
  return {
    namespace,
    startMs: times[0] ?? w.startMs,
    stepMs: w.stepMs,
    times,
    replicas,
    replicasSource,
    metrics,
  };
}
