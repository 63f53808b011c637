// metrics.k8s.io (PodMetrics, NodeMetrics) from Prometheus with the config's resourceRules:
// containerQuery per namespace for the pods asked about, grouped by pod and container label;
// nodeQuery for nodes. As upstream: a pod or node missing cpu or memory is left out, negative
// values count as zero, and the earliest sample time is the reading's timestamp. Unlike upstream
// (which reads NaN as 0) a NaN or ±Inf sample leaves the pod or node out: it is no measurement.
import { Quantity } from "../../kube/quantity.js";
import type {
  BackendWaitTimer,
  GroupResource,
  NodeMetricsRequest,
  PodMetricsRequest,
  NodeUsage,
  ObjectLister,
  ObjectMeta,
  PodUsage,
  ProviderError,
  ResourceMetricsProvider,
  Result,
  SelectorString,
} from "../provider.js";
import type { PrometheusClient } from "../prometheus/client.js";
import type { VectorSample } from "../prometheus/schema.js";
import { buildObjectQuery } from "../rules/query.js";
import type { CompiledResourceRule } from "../rules/rule.js";
import { queryVector } from "./errors.js";

const PODS: GroupResource = { group: "", resource: "pods" };
const NODES: GroupResource = { group: "", resource: "nodes" };

export interface ResourceRulesCompiled {
  cpu: CompiledResourceRule;
  memory: CompiledResourceRule;
  windowSeconds: number;
}

type Grouped = Map<string, VectorSample[]>;

function usageValue(v: number): number {
  return v < 0 ? 0 : v;
}
const cpuQuantity = (cores: number): Quantity =>
  Quantity.fromMilli(Math.trunc(usageValue(cores) * 1000), "DecimalSI");
const memoryQuantity = (bytes: number): Quantity =>
  Quantity.fromMilli(Math.trunc(usageValue(bytes) * 1000), "BinarySI");

export class PrometheusResourceMetrics implements ResourceMetricsProvider {
  constructor(
    private readonly deps: {
      /** Read per request: a rules reload may replace them. */
      rules: () => ResourceRulesCompiled | undefined;
      client: PrometheusClient;
      lister: ObjectLister;
    },
  ) {}

  async getPodMetrics(req: PodMetricsRequest): Promise<Result<PodUsage[]>> {
    const rules = this.deps.rules();
    if (!rules) return notServed();
    const pods = await this.objects(PODS, req.namespace, req.selector, req.name);
    if (!pods.ok) return pods;
    const byNamespace = new Map<string, ObjectMeta[]>();
    for (const p of pods.value) {
      const ns = p.namespace ?? req.namespace ?? "";
      const list = byNamespace.get(ns);
      if (list) list.push(p);
      else byNamespace.set(ns, [p]);
    }
    const results = await Promise.all(
      [...byNamespace].map(async ([ns, list]) => {
        const names = list.map((p) => p.name);
        const [cpu, mem] = await Promise.all([
          this.run(rules.cpu, "containerQuery", PODS, ns, names, req.wait),
          this.run(rules.memory, "containerQuery", PODS, ns, names, req.wait),
        ]);
        return { ns, list, cpu, mem };
      }),
    );
    const out: PodUsage[] = [];
    for (const { ns, list, cpu, mem } of results) {
      if (!cpu.ok) return cpu;
      if (!mem.ok) return mem;
      for (const pod of list) {
        const cpuSamples = cpu.value.get(pod.name);
        const memSamples = mem.value.get(pod.name);
        if (!cpuSamples || !memSamples) continue;
        // NaN or ±Inf is no measurement: the pod counts as missing, like one without series.
        if (![...cpuSamples, ...memSamples].every((s) => Number.isFinite(s.value))) continue;
        const containers = new Map<string, { cpu?: Quantity; memory?: Quantity }>();
        let earliest = Infinity;
        for (const s of cpuSamples) {
          const c = s.metric[rules.cpu.containerLabel] ?? "";
          containers.set(c, { ...containers.get(c), cpu: cpuQuantity(s.value) });
          earliest = Math.min(earliest, s.timestampMs);
        }
        for (const s of memSamples) {
          const c = s.metric[rules.memory.containerLabel] ?? "";
          containers.set(c, { ...containers.get(c), memory: memoryQuantity(s.value) });
          earliest = Math.min(earliest, s.timestampMs);
        }
        out.push({
          namespace: ns,
          name: pod.name,
          labels: pod.labels,
          timestamp: new Date(earliest),
          windowSeconds: rules.windowSeconds,
          containers: [...containers]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([name, u]) => ({
              name,
              usage: { cpu: u.cpu ?? cpuQuantity(0), memory: u.memory ?? memoryQuantity(0) },
            })),
        });
      }
    }
    return { ok: true, value: out };
  }

  async getNodeMetrics(req: NodeMetricsRequest): Promise<Result<NodeUsage[]>> {
    const rules = this.deps.rules();
    if (!rules) return notServed();
    const nodes = await this.objects(NODES, undefined, req.selector, req.name);
    if (!nodes.ok) return nodes;
    if (nodes.value.length === 0) return { ok: true, value: [] };
    const names = nodes.value.map((n) => n.name);
    const [cpu, mem] = await Promise.all([
      this.run(rules.cpu, "nodeQuery", NODES, undefined, names, req.wait),
      this.run(rules.memory, "nodeQuery", NODES, undefined, names, req.wait),
    ]);
    if (!cpu.ok) return cpu;
    if (!mem.ok) return mem;
    const out: NodeUsage[] = [];
    for (const node of nodes.value) {
      const c = cpu.value.get(node.name)?.[0];
      const m = mem.value.get(node.name)?.[0];
      if (!c || !m || !Number.isFinite(c.value) || !Number.isFinite(m.value)) continue;
      out.push({
        name: node.name,
        labels: node.labels,
        timestamp: new Date(Math.min(c.timestampMs, m.timestampMs)),
        windowSeconds: rules.windowSeconds,
        usage: { cpu: cpuQuantity(c.value), memory: memoryQuantity(m.value) },
      });
    }
    return { ok: true, value: out };
  }

  private async objects(
    gr: GroupResource,
    namespace: string | undefined,
    selector: SelectorString,
    name: string | undefined,
  ): Promise<Result<ObjectMeta[]>> {
    const lister = this.deps.lister;
    let list: Result<ObjectMeta[]>;
    if (lister.listObjects) list = await lister.listObjects({ groupResource: gr, namespace, selector });
    else if (gr.resource === "pods" && namespace === undefined) {
      // Without listObjects, pods in all namespaces are found namespace by namespace.
      const namespaces = await lister.listNames({
        groupResource: { group: "", resource: "namespaces" },
        selector: "",
      });
      if (!namespaces.ok) return namespaces;
      const perNamespace = await Promise.all(namespaces.value.map((ns) => this.names(gr, ns, selector)));
      const all: ObjectMeta[] = [];
      for (const r of perNamespace) {
        if (!r.ok) return r;
        all.push(...r.value);
      }
      list = { ok: true, value: all };
    } else list = await this.names(gr, namespace, selector);
    if (!list.ok || name === undefined) return list;
    return { ok: true, value: list.value.filter((o) => o.name === name) };
  }

  private async names(
    gr: GroupResource,
    namespace: string | undefined,
    selector: SelectorString,
  ): Promise<Result<ObjectMeta[]>> {
    const names = await this.deps.lister.listNames({ groupResource: gr, namespace, selector });
    return names.ok
      ? { ok: true, value: names.value.map((n) => ({ name: n, namespace, labels: {} })) }
      : names;
  }

  private async run(
    rule: CompiledResourceRule,
    which: "containerQuery" | "nodeQuery",
    gr: GroupResource,
    namespace: string | undefined,
    names: string[],
    wait: BackendWaitTimer | undefined,
  ): Promise<Result<Grouped>> {
    const built = buildObjectQuery(rule[which], rule.resources, {
      series: "",
      groupResource: gr,
      namespace,
      names,
      extraGroupBy: which === "containerQuery" ? [rule.containerLabel] : [],
    });
    if (!built.ok)
      return {
        ok: false,
        error: { ...built.error, message: `${rule.path}.${which}: ${built.error.message}` },
      };
    const answer = await queryVector(
      this.deps.client,
      built.query,
      (resultType) => `${rule.path}.${which} returned a ${resultType}, not a vector`,
      wait,
    );
    if (!answer.ok) return answer;
    const grouped: Grouped = new Map();
    for (const s of answer.value) {
      const key = s.metric[built.resourceLabel];
      if (key === undefined) continue;
      const list = grouped.get(key);
      if (list) list.push(s);
      else grouped.set(key, [s]);
    }
    return { ok: true, value: grouped };
  }
}

function notServed(): { ok: false; error: ProviderError } {
  return {
    ok: false,
    error: {
      kind: "NotFound",
      message: "resource metrics are not served: the adapter config has no resourceRules",
    },
  };
}
