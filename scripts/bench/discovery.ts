// Series discovery at scale: a local stand-in for Prometheus' series API serves N synthetic
// series (JSON, as Prometheus sends them), and the adapter backend discovers them through its
// real client (undici, zod) and rules (default config). Prints wall time per run and RSS.
//
//   npx tsx scripts/bench/discovery.ts [10000 100000 ...]
//
// Run each size in its own process (the default) so RSS is that size's alone.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "../../src/adapter/config/default.js";
import type { ResourceMapper, ResourceMapping } from "../../src/adapter/provider.js";
import { createPrometheusBackend } from "../../src/adapter/providers/backend.js";

const CORE: Record<string, ResourceMapping> = {};
for (const [resource, kind, namespaced] of [
  ["pods", "Pod", true],
  ["namespaces", "Namespace", false],
  ["nodes", "Node", false],
  ["services", "Service", true],
] as const) {
  const m = { groupResource: { group: "", resource }, kind, version: "v1", namespaced };
  CORE[resource] = m;
  CORE[kind.toLowerCase()] = m;
}
const mapper: ResourceMapper = { resolve: (r) => CORE[r] };

/** Synthetic series like a cluster's: 1/4 cAdvisor container series, 3/4 application series. */
function syntheticSeries(n: number): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 0; i < n; i++) {
    const pod = `app-${i % 5000}-${(i * 7919) % 100000}`;
    const ns = `ns-${i % 200}`;
    if (i % 4 === 0) {
      out.push({
        __name__: `container_metric_${i % 40}_total`,
        namespace: ns,
        pod,
        container: "app",
        instance: `node-${i % 100}`,
        job: "kubelet",
        id: `/kubepods/${i}`,
      });
    } else {
      out.push({
        __name__: `app_metric_${i % 500}${i % 3 === 0 ? "_total" : ""}`,
        namespace: ns,
        pod,
        service: `svc-${i % 300}`,
        instance: `10.1.${i % 250}.${i % 200}:8080`,
        job: "app",
      });
    }
  }
  return out;
}

/** Serves the series API for `n` synthetic series; resolves to its URL. */
async function serve(n: number): Promise<{ url: string; close: () => void }> {
  const series = syntheticSeries(n);
  const cadvisor = JSON.stringify({
    status: "success",
    data: series.filter((s) => s.__name__?.startsWith("container_")),
  });
  const other = JSON.stringify({
    status: "success",
    data: series.filter((s) => !s.__name__?.startsWith("container_")),
  });
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const match = new URLSearchParams(body).get("match[]") ?? "";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(match.includes('__name__=~"^container_.*"') ? cadvisor : other);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function measure(n: number, url: string): Promise<void> {
  const backend = createPrometheusBackend({
    config: defaultConfig(),
    prometheus: { url, timeoutMs: 60_000 },
    mapper,
    lister: { listNames: async () => ({ ok: true, value: [] }) },
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const times: number[] = [];
  let peakRss = 0;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    await backend.relist();
    times.push(performance.now() - t0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const stats = backend.stats();
  await backend.stop();
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(0);
  console.log(
    JSON.stringify({
      series: n,
      discovered: stats.discovery.seriesCount,
      customMetrics: stats.discovery.customMetrics,
      firstRunMs: Math.round(times[0] ?? 0),
      steadyRunMs: Math.round(Math.min(...times.slice(1))),
      rssMB: Number(mb(peakRss)),
      rssBeforeMB: Number(mb(rssBefore)),
    }),
  );
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (process.env.DISCOVERY_BENCH_URL) {
  await measure(sizes[0] ?? 10_000, process.env.DISCOVERY_BENCH_URL);
} else {
  // The stand-in Prometheus runs here; each size is discovered by a child process of its own,
  // so the RSS figure is the adapter backend's alone (plus the tsx loader).
  for (const n of sizes.length > 0 ? sizes : [10_000, 100_000]) {
    const server = await serve(n);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--expose-gc", fileURLToPath(import.meta.url), String(n)],
      {
        env: { ...process.env, DISCOVERY_BENCH_URL: server.url },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    await new Promise((r) => child.on("exit", r));
    server.close();
  }
}
