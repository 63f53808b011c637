import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/adapter/config/load.js";
import type { MetricsDiscoveryConfig } from "../../../../src/adapter/config/types.js";
import { createPrometheusBackend, type PrometheusBackend } from "../../../../src/adapter/providers/index.js";
import type { ObjectMeta } from "../../../../src/adapter/provider.js";
import {
  startFakePrometheus,
  vector,
  type FakePrometheus,
  type RecordedRequest,
} from "../prometheus/fake-prometheus.js";
import { fakeLister, fakeMapper } from "../rules/fake-kube.js";

const CONFIG = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "\${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: '{__name__="queue_depth",queue!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
- seriesQuery: '{__name__="global_backlog"}'
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
  nanAsZero: true
resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!=""}[1m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(node_cpu_seconds_total{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(node_memory_used_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  window: 1m
`;

function config(): MetricsDiscoveryConfig {
  const r = parseConfig(CONFIG);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const SERIES: Record<string, Record<string, string>[]> = {
  'http_requests_total{namespace!="",pod!=""}': [
    { __name__: "http_requests_total", namespace: "shop", pod: "web-0" },
    { __name__: "http_requests_total", namespace: "shop", pod: "web-1" },
  ],
  '{__name__="queue_depth",queue!=""}': [{ __name__: "queue_depth", namespace: "shop", queue: "orders" }],
  '{__name__="global_backlog"}': [{ __name__: "global_backlog" }],
};

const PODS: ObjectMeta[] = [
  { namespace: "shop", name: "web-0", labels: { app: "web" } },
  { namespace: "shop", name: "web-1", labels: { app: "web" } },
  { namespace: "shop", name: "web-2", labels: { app: "web" } },
  { namespace: "shop", name: "db-0", labels: { app: "db" } },
  { namespace: "other", name: "web-0", labels: { app: "web" } },
];
const NODES: ObjectMeta[] = [
  { name: "node-a", labels: { zone: "a" } },
  { name: "node-b", labels: { zone: "b" } },
];

type QueryAnswer = (query: string) => { status?: number; body: unknown; delayMs?: number } | undefined;

let fake: FakePrometheus | undefined;
let backend: PrometheusBackend | undefined;
afterEach(async () => {
  await backend?.stop();
  await fake?.close();
  backend = undefined;
  fake = undefined;
});

async function setup(
  answer: QueryAnswer = () => ({ body: vector([]) }),
): Promise<{ fake: FakePrometheus; backend: PrometheusBackend; queries: () => string[] }> {
  fake = await startFakePrometheus();
  const handler = (req: RecordedRequest) => {
    if (req.path === "/api/v1/series")
      return { body: { status: "success", data: SERIES[req.form.get("match[]") ?? ""] ?? [] } };
    if (req.path === "/api/v1/query") return answer(req.form.get("query") ?? "");
    return undefined;
  };
  fake.handle(handler);
  backend = createPrometheusBackend({
    config: config(),
    prometheus: { url: fake.url, timeoutMs: 500 },
    relistIntervalMs: 60_000,
    retryIntervalMs: 50,
    mapper: fakeMapper,
    lister: fakeLister({ pods: PODS, nodes: NODES }),
  });
  await backend.start();
  const f = fake;
  return {
    fake: f,
    backend,
    queries: () => f.requests.filter((r) => r.path === "/api/v1/query").map((r) => r.form.get("query") ?? ""),
  };
}

const pods = { group: "", resource: "pods" };

describe("Prometheus backend: custom metrics", () => {
  it("lists discovered metrics and becomes ready after discovery", async () => {
    const { backend } = await setup();
    expect(backend.ready()).toBe(true);
    expect(backend.custom.listCustomMetrics()).toEqual(
      expect.arrayContaining([
        { groupResource: pods, metric: "http_requests_per_second", namespaced: true },
        {
          groupResource: { group: "", resource: "namespaces" },
          metric: "http_requests_per_second",
          namespaced: false,
        },
      ]),
    );
    expect(
      backend.external
        .listExternalMetrics()
        .map((m) => m.metric)
        .sort(),
    ).toEqual(["global_backlog", "queue_depth"]);
    expect(backend.stats()).toMatchObject({
      ready: true,
      discovery: { runs: 1, seriesCount: 4, customMetrics: 2, externalMetrics: 2 },
    });
  });

  it("answers one pod by name with a Kubernetes quantity and its described object", async () => {
    const { backend, queries } = await setup(() => ({
      body: vector([{ metric: { pod: "web-0" }, value: "1.5", ts: 1700000000 }]),
    }));
    const r = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries()).toEqual(['sum(rate(http_requests_total{namespace="shop",pod="web-0"}[2m])) by (pod)']);
    expect(r.value.describedObject).toEqual({
      kind: "Pod",
      namespace: "shop",
      name: "web-0",
      apiVersion: "/v1",
    });
    expect(r.value.metric).toEqual({ name: "http_requests_per_second" });
    expect(r.value.value.toString()).toBe("1500m");
    expect(r.value.timestamp).toEqual(new Date(1700000000000));
  });

  it("answers every pod matching a selector from the lister, in one query", async () => {
    const { backend, queries } = await setup(() => ({
      body: vector([
        { metric: { pod: "web-1" }, value: "2" },
        { metric: { pod: "web-0" }, value: "1" },
        { metric: { pod: "db-0" }, value: "9" },
      ]),
    }));
    const waits: string[] = [];
    const r = await backend.custom.getMetricBySelector({
      namespace: "shop",
      groupResource: pods,
      selector: "app=web",
      metric: "http_requests_per_second",
      metricSelector: "",
      wait: { start: () => waits.push("start"), stop: () => waits.push("stop") },
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries()).toEqual([
      'sum(rate(http_requests_total{namespace="shop",pod=~"web-0|web-1|web-2"}[2m])) by (pod)',
    ]);
    expect(waits).toEqual(["start", "stop"]);
    expect(r.value.map((v) => [v.describedObject.name, v.value.toString()])).toEqual([
      ["web-0", "1"],
      ["web-1", "2"],
    ]);
  });

  it("adds metricLabelSelector as label matchers and echoes the selector", async () => {
    const { backend, queries } = await setup(() => ({
      body: vector([{ metric: { pod: "web-0" }, value: "3" }]),
    }));
    const r = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "code in (200,201),method=GET",
    });
    expect(queries()).toEqual([
      'sum(rate(http_requests_total{code=~"200|201",method="GET",namespace="shop",pod="web-0"}[2m])) by (pod)',
    ]);
    expect(r.ok && r.value.metric).toEqual({
      name: "http_requests_per_second",
      selector: "code in (200,201),method=GET",
    });
  });

  it("answers NotFound for an unknown metric, an unknown resource and an object without series", async () => {
    const { backend, queries } = await setup(() => ({ body: vector([]) }));
    const unknown = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "nope",
      metricSelector: "",
    });
    expect(unknown).toMatchObject({ ok: false, error: { kind: "NotFound" } });
    const badResource = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: { group: "", resource: "widgets" },
      name: "w",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    expect(badResource).toMatchObject({ ok: false, error: { kind: "NotFound" } });
    expect(queries()).toEqual([]);
    const noSeries = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-2",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    expect(noSeries).toEqual({
      ok: false,
      error: {
        kind: "NotFound",
        message: "the server could not find the metric http_requests_per_second for pods web-2",
      },
    });
  });

  it("drops a NaN or ±Inf sample: that pod counts as missing (NotFound by name, left out of a list)", async () => {
    const { backend } = await setup(() => ({
      body: vector([
        { metric: { pod: "web-0" }, value: "NaN" },
        { metric: { pod: "web-1" }, value: "+Inf" },
      ]),
    }));
    const one = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    expect(one).toMatchObject({ ok: false, error: { kind: "NotFound" } });
    const all = await backend.custom.getMetricBySelector({
      namespace: "shop",
      groupResource: pods,
      selector: "",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    expect(all).toEqual({ ok: true, value: [] });
  });

  it("answers a namespace metric with the namespace as the object", async () => {
    const { backend, queries } = await setup(() => ({
      body: vector([{ metric: { namespace: "shop" }, value: "7" }]),
    }));
    const r = await backend.custom.getMetricByName({
      groupResource: { group: "", resource: "namespaces" },
      name: "shop",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    expect(queries()).toEqual(['sum(rate(http_requests_total{namespace="shop"}[2m])) by (namespace)']);
    expect(r.ok && r.value.describedObject).toEqual({ kind: "Namespace", name: "shop", apiVersion: "/v1" });
  });

  it("refuses a malformed metric selector as BadRequest without asking Prometheus", async () => {
    const { backend, queries } = await setup();
    const r = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "a in (",
    });
    expect(r).toMatchObject({ ok: false, error: { kind: "BadRequest" } });
    expect(queries()).toEqual([]);
  });

  it("maps Prometheus' bad_data to BadRequest and an execution error to Internal", async () => {
    let errorType = "bad_data";
    const { backend } = await setup(() => ({
      status: 422,
      body: { status: "error", errorType, error: "boom" },
    }));
    const req = {
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "",
    };
    expect(await backend.custom.getMetricByName(req)).toMatchObject({
      ok: false,
      error: { kind: "BadRequest", message: "Prometheus refused the query (bad_data): boom" },
    });
    errorType = "execution";
    expect(await backend.custom.getMetricByName(req)).toMatchObject({
      ok: false,
      error: { kind: "Internal" },
    });
    expect(backend.ready()).toBe(true);
  });
});

describe("Prometheus backend: rules reload", () => {
  const renamed = (as: string): MetricsDiscoveryConfig => {
    const r = parseConfig(CONFIG.replace('as: "${1}_per_second"', `as: "\${1}_${as}"`));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config;
  };
  const names = (b: PrometheusBackend) =>
    b.custom
      .listCustomMetrics()
      .map((m) => m.metric)
      .sort();

  it("puts new rules in force once their discovery succeeds; the old ones answer meanwhile", async () => {
    const { fake, backend } = await setup(() => ({
      body: vector([{ metric: { pod: "web-0" }, value: "1" }]),
    }));
    expect(names(backend)).toContain("http_requests_per_second");
    const healthy = (r: RecordedRequest) =>
      r.path === "/api/v1/series"
        ? { body: { status: "success", data: SERIES[r.form.get("match[]") ?? ""] ?? [] } }
        : { body: vector([{ metric: { pod: "web-0" }, value: "1" }]) };
    fake.handle(() => ({ status: 503, body: "down" }));
    expect(await backend.reload(renamed("rate"))).toMatchObject({ ok: false });
    expect(names(backend)).toContain("http_requests_per_second"); // old rules still in force
    fake.handle(healthy);
    expect(await backend.reload(renamed("rate"))).toMatchObject({ ok: true });
    expect(names(backend)).toContain("http_requests_rate");
    expect(names(backend)).not.toContain("http_requests_per_second");
    const r = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_rate",
      metricSelector: "",
    });
    expect(r.ok && r.value.value.toString()).toBe("1");
  });
});

describe("Prometheus backend: relisting and hooks", () => {
  it("serves metrics that appear and stops serving those that disappear on relist", async () => {
    const { backend } = await setup();
    const key = 'http_requests_total{namespace!="",pod!=""}';
    const before = SERIES[key];
    try {
      SERIES[key] = [{ __name__: "http_requests_total", namespace: "shop", pod: "web-0", kube_service: "x" }];
      SERIES[key]?.push({ __name__: "http_requests_total", namespace: "shop", service: "front" });
      await backend.relist();
      // Only pod- and namespace-labelled series map to resources under this rule's overrides.
      expect(backend.custom.listCustomMetrics()).toHaveLength(2);
      SERIES[key] = [];
      await backend.relist();
      expect(backend.custom.listCustomMetrics()).toEqual([]);
      const r = await backend.custom.getMetricByName({
        namespace: "shop",
        groupResource: pods,
        name: "web-0",
        metric: "http_requests_per_second",
        metricSelector: "",
      });
      expect(r).toMatchObject({ ok: false, error: { kind: "NotFound" } });
    } finally {
      SERIES[key] = before ?? [];
    }
  });

  it("reports Prometheus calls, coalesced queries and discovery runs through the hooks", async () => {
    fake = await startFakePrometheus((req) =>
      req.path === "/api/v1/series"
        ? { body: { status: "success", data: SERIES[req.form.get("match[]") ?? ""] ?? [] } }
        : { body: vector([{ metric: { pod: "web-0" }, value: "1" }]), delayMs: 30 },
    );
    const seen: string[] = [];
    backend = createPrometheusBackend({
      config: config(),
      prometheus: { url: fake.url, timeoutMs: 500 },
      mapper: fakeMapper,
      lister: fakeLister({ pods: PODS }),
      metrics: {
        prometheusRequest: (endpoint, outcome) => seen.push(`${endpoint}:${outcome}`),
        coalescedQuery: (endpoint) => seen.push(`coalesced:${endpoint}`),
        discoveryRun: (ok, _s, count) => seen.push(`discovery:${ok}:${count}`),
      },
    });
    await backend.start();
    const req = {
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "",
    };
    await Promise.all([backend.custom.getMetricByName(req), backend.custom.getMetricByName(req)]);
    expect(seen.filter((s) => s.startsWith("series"))).toEqual(["series:ok", "series:ok", "series:ok"]);
    expect(seen).toContain("discovery:true:4");
    expect(seen.filter((s) => s === "query:ok")).toHaveLength(1);
    expect(seen).toContain("coalesced:query");
    expect(backend.stats().prometheus).toEqual({ requests: 4, errors: 0, coalesced: 1 });
  });
});

describe("Prometheus backend: availability", () => {
  it("answers Unavailable with the cause when Prometheus stops, is not ready, and recovers", async () => {
    const { fake, backend } = await setup(() => ({
      body: vector([{ metric: { pod: "web-0" }, value: "1" }]),
    }));
    const req = {
      namespace: "shop",
      groupResource: pods,
      name: "web-0",
      metric: "http_requests_per_second",
      metricSelector: "",
    };
    fake.handle(() => ({ status: 503, body: "Service Unavailable" }));
    const down = await backend.custom.getMetricByName(req);
    expect(down).toMatchObject({ ok: false, error: { kind: "Unavailable" } });
    expect(!down.ok && down.error.message).toBe("Prometheus answered with an error");
    expect(!down.ok && down.error.kind === "Unavailable" && down.error.cause).toContain("HTTP 503");
    expect(backend.ready()).toBe(false);
    expect(backend.stats().notReadyReason).toMatch(/Prometheus is not answering/);
    // Discovery keeps the metric list while Prometheus is away.
    expect(backend.custom.listCustomMetrics()).toHaveLength(2);
    fake.handle((r) =>
      r.path === "/api/v1/series"
        ? { body: { status: "success", data: SERIES[r.form.get("match[]") ?? ""] ?? [] } }
        : { body: vector([{ metric: { pod: "web-0" }, value: "1" }]) },
    );
    // The retry interval (50 ms) brings readiness back without any request.
    await new Promise((r) => setTimeout(r, 300));
    expect(backend.ready()).toBe(true);
    expect(await backend.custom.getMetricByName(req)).toMatchObject({ ok: true });
  });

  it("answers Unavailable on a timeout", async () => {
    const { backend } = await setup(() => ({ body: vector([]), delayMs: 2000 }));
    const r = await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "queue_depth",
      metricSelector: "",
    });
    expect(r).toMatchObject({ ok: false, error: { kind: "Unavailable" } });
    // The client hears what happened; where Prometheus is and the timeout stay in our log.
    expect(!r.ok && r.error).toEqual({
      kind: "Unavailable",
      message: "Prometheus did not answer in time",
      cause: expect.stringMatching(/did not answer within 500 ms/) as unknown as string,
    });
  });

  it("is not ready when Prometheus is down at start, and says why", async () => {
    fake = await startFakePrometheus(() => ({ status: 500, body: "oops" }));
    backend = createPrometheusBackend({
      config: config(),
      prometheus: { url: fake.url, timeoutMs: 500 },
      mapper: fakeMapper,
      lister: fakeLister({}),
    });
    await backend.start();
    expect(backend.ready()).toBe(false);
    expect(backend.stats().notReadyReason).toMatch(/^series discovery has not succeeded yet: .*HTTP 500/);
  });
});

describe("Prometheus backend: external metrics", () => {
  it("adds the namespace and the selector as matchers and returns each sample with its labels", async () => {
    const { backend, queries } = await setup(() => ({
      body: vector([{ metric: { queue: "orders" }, value: "42", ts: 1700000001 }]),
    }));
    const r = await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "queue_depth",
      metricSelector: "queue=orders",
    });
    expect(queries()).toEqual(['sum(queue_depth{queue="orders",namespace="shop"}) by (queue)']);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.map((v) => ({ ...v, value: v.value.toString() }))).toEqual([
      {
        metricName: "queue_depth",
        metricLabels: { queue: "orders" },
        timestamp: new Date(1700000001000),
        value: "42",
      },
    ]);
  });

  it("leaves the namespace out for rules with namespaced: false", async () => {
    const { backend, queries } = await setup(() => ({ body: vector([{ metric: {}, value: "5" }]) }));
    await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "global_backlog",
      metricSelector: "",
    });
    expect(queries()).toEqual(["sum(global_backlog{})"]);
  });

  it("drops NaN samples unless the rule opts in to reading NaN as 0 (nanAsZero)", async () => {
    const { backend } = await setup(() => ({
      body: vector([
        { metric: { queue: "a" }, value: "NaN" },
        { metric: { queue: "b" }, value: "4" },
      ]),
    }));
    const dropped = await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "queue_depth",
      metricSelector: "",
    });
    expect(dropped.ok && dropped.value.map((v) => [v.metricLabels.queue, v.value.toString()])).toEqual([
      ["b", "4"],
    ]);
    const zero = await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "global_backlog",
      metricSelector: "",
    });
    expect(zero.ok && zero.value.map((v) => v.value.toString())).toEqual(["0", "4"]);
  });

  it("answers NotFound for an unknown external metric", async () => {
    const { backend } = await setup();
    expect(
      await backend.external.getExternalMetric({ namespace: "shop", metric: "nope", metricSelector: "" }),
    ).toMatchObject({ ok: false, error: { kind: "NotFound" } });
  });
});

describe("Prometheus backend: resource metrics", () => {
  const answer: QueryAnswer = (q) => {
    if (q.includes('namespace="other"')) return { body: vector([]) };
    if (q.includes("container_cpu")) {
      return {
        body: vector([
          { metric: { pod: "web-0", container: "app" }, value: "0.25", ts: 1700000010 },
          { metric: { pod: "web-0", container: "sidecar" }, value: "0.0015", ts: 1700000005 },
          { metric: { pod: "web-1", container: "app" }, value: "0" },
          { metric: { pod: "web-2", container: "app" }, value: "0.5" },
        ]),
      };
    }
    if (q.includes("container_memory")) {
      return {
        body: vector([
          { metric: { pod: "web-0", container: "app" }, value: String(64 * 1024 * 1024), ts: 1700000010 },
          { metric: { pod: "web-1", container: "app" }, value: "1024" },
        ]),
      };
    }
    if (q.includes("node_cpu"))
      return {
        body: vector([
          { metric: { node: "node-a" }, value: "1.5" },
          { metric: { node: "node-b" }, value: "2" },
        ]),
      };
    if (q.includes("node_memory"))
      return { body: vector([{ metric: { node: "node-a" }, value: String(2 * 1024 ** 3) }]) };
    return undefined;
  };

  it("reads pod usage per container, skipping pods without both cpu and memory", async () => {
    const { backend, queries } = await setup(answer);
    const r = await backend.resource.getPodMetrics({ namespace: "shop", selector: "app=web" });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries().sort()).toEqual([
      'sum(container_memory_working_set_bytes{namespace="shop",pod=~"web-0|web-1|web-2",container!=""}) by (pod,container)',
      'sum(rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"web-0|web-1|web-2",container!=""}[1m])) by (pod,container)',
    ]);
    const shown = r.value.map((p) => ({
      ...p,
      containers: p.containers.map((c) => ({
        name: c.name,
        cpu: c.usage.cpu.toString(),
        memory: c.usage.memory.toString(),
      })),
    }));
    expect(shown).toEqual([
      {
        namespace: "shop",
        name: "web-0",
        labels: { app: "web" },
        timestamp: new Date(1700000005000),
        windowSeconds: 60,
        containers: [
          { name: "app", cpu: "250m", memory: "64Mi" },
          { name: "sidecar", cpu: "1m", memory: "0" },
        ],
      },
      {
        namespace: "shop",
        name: "web-1",
        labels: { app: "web" },
        timestamp: new Date(1700000000000),
        windowSeconds: 60,
        containers: [{ name: "app", cpu: "0", memory: "1Ki" }],
      },
    ]);
  });

  it("reports its Prometheus waits to the request's timer: both of a PodMetrics request's queries", async () => {
    const { backend } = await setup(answer);
    let started = 0;
    let stopped = 0;
    const wait = { start: () => started++, stop: () => stopped++ };
    const pods = await backend.resource.getPodMetrics({ namespace: "shop", selector: "app=web", wait });
    expect(pods.ok).toBe(true);
    expect([started, stopped]).toEqual([2, 2]);
    const nodes = await backend.resource.getNodeMetrics({ selector: "", wait });
    expect(nodes.ok).toBe(true);
    expect([started, stopped]).toEqual([4, 4]);
  });

  it("queries each namespace separately for pods across all namespaces", async () => {
    const { backend, queries } = await setup(answer);
    const r = await backend.resource.getPodMetrics({ selector: "app=web" });
    expect(r.ok && r.value.map((p) => `${p.namespace}/${p.name}`)).toEqual(["shop/web-0", "shop/web-1"]);
    expect(queries().filter((q) => q.includes('namespace="other"'))).toHaveLength(2);
  });

  it("finds pods namespace by namespace when the lister has no listObjects", async () => {
    fake = await startFakePrometheus((req) =>
      req.path === "/api/v1/series"
        ? { body: { status: "success", data: [] } }
        : answer(req.form.get("query") ?? ""),
    );
    const full = fakeLister({
      pods: PODS,
      namespaces: [
        { name: "shop", labels: {} },
        { name: "other", labels: {} },
      ],
    });
    backend = createPrometheusBackend({
      config: config(),
      prometheus: { url: fake.url, timeoutMs: 500 },
      mapper: fakeMapper,
      lister: { listNames: (req) => full.listNames(req) },
    });
    await backend.start();
    const r = await backend.resource.getPodMetrics({ selector: "app=web" });
    expect(r.ok && r.value.map((p) => [`${p.namespace}/${p.name}`, p.labels])).toEqual([
      ["shop/web-0", {}],
      ["shop/web-1", {}],
    ]);
  });

  it("leaves out a pod with a NaN or ±Inf reading: no measurement, as if it had no series", async () => {
    const { backend } = await setup((q) => ({
      body: vector([
        { metric: { pod: "web-0", container: "app" }, value: q.includes("container_cpu") ? "NaN" : "1" },
        { metric: { pod: "web-1", container: "app" }, value: q.includes("container_cpu") ? "1" : "-Inf" },
        { metric: { pod: "web-2", container: "app" }, value: "1" },
      ]),
    }));
    const r = await backend.resource.getPodMetrics({ namespace: "shop", selector: "" });
    expect(r.ok && r.value.map((p) => p.name)).toEqual(["web-2"]);
  });

  it("reads node usage, skipping nodes without memory", async () => {
    const { backend } = await setup(answer);
    const r = await backend.resource.getNodeMetrics({ selector: "" });
    if (!r.ok) throw new Error(r.error.message);
    expect(
      r.value.map((n) => [
        n.name,
        n.labels,
        n.usage.cpu.toString(),
        n.usage.memory.toString(),
        n.windowSeconds,
      ]),
    ).toEqual([["node-a", { zone: "a" }, "1500m", "2Gi", 60]]);
  });

  it("answers Unavailable when a resource query fails", async () => {
    const { backend } = await setup(() => ({ status: 502, body: "bad gateway" }));
    expect(await backend.resource.getPodMetrics({ namespace: "shop", selector: "" })).toMatchObject({
      ok: false,
      error: { kind: "Unavailable" },
    });
  });
});
