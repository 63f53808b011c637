// The backend's own work per custom-metrics request, without the network: resolve the metric,
// render the PromQL for N pods, parse Prometheus' JSON answer with zod and turn each sample into
// a MetricValue with a Kubernetes quantity. The HTTP call to Prometheus is replaced by a client
// answering from memory, so what is timed is the adapter's overhead.
//
//   npx tsx scripts/bench/request-path.ts [pods=10,100,1000] [iterations=2000]
import { defaultConfig } from "../../src/adapter/config/default.js";
import type { ObjectLister, ResourceMapper, ResourceMapping } from "../../src/adapter/provider.js";
import type { PrometheusClient } from "../../src/adapter/prometheus/client.js";
import { parseQueryBody, type SeriesLabels } from "../../src/adapter/prometheus/schema.js";
import { createPrometheusBackend } from "../../src/adapter/providers/backend.js";

const sizes = (process.argv[2] ?? "10,100,1000").split(",").map(Number);
const iterations = Number(process.argv[3] ?? 2000);

const table: Record<string, ResourceMapping> = {
  pods: { groupResource: { group: "", resource: "pods" }, kind: "Pod", version: "v1", namespaced: true },
  namespaces: {
    groupResource: { group: "", resource: "namespaces" },
    kind: "Namespace",
    version: "v1",
    namespaced: false,
  },
};
table.pod = table.pods as ResourceMapping;
table.namespace = table.namespaces as ResourceMapping;
const mapper: ResourceMapper = { resolve: (r) => table[r] };

for (const n of sizes) {
  const names = Array.from({ length: n }, (_, i) => `web-${i}`);
  const answerJson = JSON.stringify({
    status: "success",
    data: {
      resultType: "vector",
      result: names.map((pod, i) => ({ metric: { pod }, value: [1700000000.123, String(i * 0.37)] })),
    },
  });
  const series: SeriesLabels[] = [{ __name__: "http_requests_total", namespace: "shop", pod: "web-0" }];
  const client: PrometheusClient = {
    // Parse the JSON text as the real client does, so parsing is part of the figure.
    query: async () => parseQueryBody(JSON.parse(answerJson)),
    series: async () => ({ ok: true, value: series }),
    lastCall: () => ({ ok: true }),
    close: async () => {},
  };
  const lister: ObjectLister = { listNames: async () => ({ ok: true, value: names }) };
  const backend = createPrometheusBackend({
    config: defaultConfig(),
    prometheus: { url: "http://unused" },
    client,
    mapper,
    lister,
  });
  await backend.relist();
  const req = {
    namespace: "shop",
    groupResource: { group: "", resource: "pods" },
    selector: "app=web",
    metric: "http_requests",
    metricSelector: "",
  };
  for (let i = 0; i < 200; i++) await backend.custom.getMetricBySelector(req);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const r = await backend.custom.getMetricBySelector(req);
    times.push(performance.now() - t0);
    if (!r.ok || r.value.length !== n)
      throw new Error(`unexpected answer: ${JSON.stringify(r).slice(0, 200)}`);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number): string => (times[Math.floor((times.length - 1) * p)] ?? 0).toFixed(3);
  console.log(JSON.stringify({ pods: n, p50Ms: Number(pct(0.5)), p99Ms: Number(pct(0.99)) }));
  await backend.stop();
}
