import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/adapter/config/load.js";
import { createPrometheusBackend, type PrometheusBackend } from "../../../../src/adapter/providers/index.js";
import type { MetricTimestamps } from "../../../../src/adapter/providers/sample-times.js";
import { startFakePrometheus, vector, type FakePrometheus } from "../prometheus/fake-prometheus.js";
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
`;
const SERIES: Record<string, Record<string, string>[]> = {
  'http_requests_total{namespace!="",pod!=""}': [
    { __name__: "http_requests_total", namespace: "shop", pod: "web-0" },
    { __name__: "http_requests_total", namespace: "shop", pod: "web-1" },
  ],
  '{__name__="queue_depth",queue!=""}': [{ __name__: "queue_depth", namespace: "shop", queue: "orders" }],
};
const QUERY_TIME = 1700000100;

let fake: FakePrometheus | undefined;
let backend: PrometheusBackend | undefined;
afterEach(async () => {
  await backend?.stop();
  await fake?.close();
});

/** A backend whose Prometheus answers the rule's query at QUERY_TIME and the sample-time query with `sampled`. */
async function setup(
  metricTimestamps: MetricTimestamps,
  sampled: { metric: Record<string, string>; ts: number }[],
) {
  fake = await startFakePrometheus();
  const queries: string[] = [];
  fake.handle((req) => {
    if (req.path === "/api/v1/series")
      return { body: { status: "success", data: SERIES[req.form.get("match[]") ?? ""] ?? [] } };
    if (req.path !== "/api/v1/query") return undefined;
    const q = req.form.get("query") ?? "";
    queries.push(q);
    if (q.includes("timestamp("))
      return {
        body: vector(sampled.map((s) => ({ metric: s.metric, value: String(s.ts), ts: QUERY_TIME }))),
      };
    if (q.includes("queue_depth"))
      return { body: vector([{ metric: { queue: "orders" }, value: "42", ts: QUERY_TIME }]) };
    return {
      body: vector([
        { metric: { pod: "web-0" }, value: "1", ts: QUERY_TIME },
        { metric: { pod: "web-1" }, value: "2", ts: QUERY_TIME },
      ]),
    };
  });
  const parsed = parseConfig(CONFIG);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  backend = createPrometheusBackend({
    config: parsed.config,
    prometheus: { url: fake.url, timeoutMs: 500 },
    mapper: fakeMapper,
    lister: fakeLister({
      pods: [
        { namespace: "shop", name: "web-0", labels: { app: "web" } },
        { namespace: "shop", name: "web-1", labels: { app: "web" } },
      ],
    }),
    metricTimestamps,
  });
  await backend.start();
  return { backend, queries };
}

const pods = { group: "", resource: "pods" };

describe("--metric-timestamps", () => {
  it("query (the default): one query per request, and every value carries the query's time", async () => {
    const { backend, queries } = await setup("query", []);
    const r = await backend.custom.getMetricBySelector({
      namespace: "shop",
      groupResource: pods,
      selector: "app=web",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries).toEqual([
      'sum(rate(http_requests_total{namespace="shop",pod=~"web-0|web-1"}[2m])) by (pod)',
    ]);
    expect(r.value.map((v) => v.timestamp)).toEqual([
      new Date(QUERY_TIME * 1000),
      new Date(QUERY_TIME * 1000),
    ]);
  });

  it("sample: asks for each object's newest sample time alongside, and puts it in the timestamp", async () => {
    const { backend, queries } = await setup("sample", [
      { metric: { pod: "web-0" }, ts: QUERY_TIME - 15 },
      { metric: { pod: "web-1" }, ts: QUERY_TIME - 300 },
    ]);
    const r = await backend.custom.getMetricBySelector({
      namespace: "shop",
      groupResource: pods,
      selector: "app=web",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries).toHaveLength(2);
    expect(queries.find((q) => q.includes("timestamp("))).toBe(
      'max by (pod) (timestamp(http_requests_total{namespace="shop",pod=~"web-0|web-1"})) or ' +
        'max by (pod) (max_over_time(timestamp(http_requests_total{namespace="shop",pod=~"web-0|web-1"})[10m:30s]))',
    );
    expect(r.value.map((v) => [v.describedObject.name, v.timestamp])).toEqual([
      ["web-0", new Date((QUERY_TIME - 15) * 1000)],
      ["web-1", new Date((QUERY_TIME - 300) * 1000)],
    ]);
  });

  it("sample: an object Prometheus cannot date keeps the query's time", async () => {
    const { backend } = await setup("sample", [{ metric: { pod: "web-0" }, ts: QUERY_TIME - 15 }]);
    const r = await backend.custom.getMetricByName({
      namespace: "shop",
      groupResource: pods,
      name: "web-1",
      metric: "http_requests_per_second",
      metricSelector: "",
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.timestamp).toEqual(new Date(QUERY_TIME * 1000));
  });

  it("sample: an external value carries the newest sample time of the series it matched", async () => {
    const { backend, queries } = await setup("sample", [{ metric: {}, ts: QUERY_TIME - 42 }]);
    const r = await backend.external.getExternalMetric({
      namespace: "shop",
      metric: "queue_depth",
      metricSelector: "queue=orders",
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(queries.find((q) => q.includes("timestamp("))).toContain(
      'max by () (timestamp(queue_depth{queue="orders",namespace="shop"}))',
    );
    expect(r.value.map((v) => v.timestamp)).toEqual([new Date((QUERY_TIME - 42) * 1000)]);
  });
});
