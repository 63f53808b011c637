// What the cluster-level benchmarks (adapter-load.ts, autoscaler-sync.ts) share: a real local
// cluster (started here, or one `npm run cluster:up` left running), kwok workloads created in
// bulk, one loopback exporter that plays N pods' metrics for Prometheus, and the machine's
// description for the report.
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { startCluster, type Addon, type Cluster } from "../cluster/cluster.js";
import { connectCluster, type ClusterHandle, type ClusterInfo } from "../cluster/handle.js";
import { writeFileSd } from "../cluster/podrunner/sd.js";
import { SD_JOBS } from "../cluster/render.js";

export const log = (msg: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

export interface BenchCluster {
  cluster: ClusterHandle;
  /** Stops what this process started (nothing when it reused a running cluster). */
  stop(): Promise<void>;
  reused: boolean;
}

/**
 * PROM_HPA_BENCH_CLUSTER=<run folder>/cluster.json reuses a cluster `npm run cluster:up` started
 * (its nodes must hold the pods asked for); otherwise a fresh one is started with `nodes` kwok
 * nodes (110 pods each) and stopped at the end.
 */
export async function benchCluster(opts: { nodes: number; addons?: Addon[] }): Promise<BenchCluster> {
  const reuse = process.env.PROM_HPA_BENCH_CLUSTER;
  if (reuse) {
    const info = JSON.parse(readFileSync(reuse, "utf8")) as ClusterInfo;
    log(`reusing the cluster in ${info.runDir}`);
    return { cluster: connectCluster(info), stop: async () => undefined, reused: true };
  }
  const started = Date.now();
  const cluster: Cluster = await startCluster({
    nodes: opts.nodes,
    addons: opts.addons,
    onProgress: (m) => {
      if (process.env.PROM_HPA_BENCH_VERBOSE) log(`[cluster] ${m}`);
    },
  });
  log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(0)}s (logs: ${cluster.info.logsDir})`);
  return { cluster, stop: () => cluster.stop(), reused: false };
}

/** `kubectl apply` (server-side) of plain objects as one List. */
export async function apply(cluster: ClusterHandle, items: readonly unknown[]): Promise<void> {
  // kubectl applies a List item by item; chunks keep each call's stdin and time bounded.
  for (let i = 0; i < items.length; i += 500) {
    await cluster.kubectl(
      ["apply", "--server-side", "--force-conflicts", "--field-manager=prom-hpa-bench", "-f", "-"],
      {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: items.slice(i, i + 500) }),
        timeoutMs: 600_000,
      },
    );
  }
}

export function namespaceObject(name: string): object {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

/** A Deployment kwok plays (its image is never pulled). */
export function kwokDeployment(namespace: string, name: string, replicas: number): object {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "web",
              image: "prom-hpa/bench:none",
              resources: { requests: { cpu: "10m", memory: "8Mi" } },
            },
          ],
        },
      },
    },
  };
}

const podList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({
        name: z.string(),
        namespace: z.string(),
        labels: z.record(z.string(), z.string()).nullish(),
        deletionTimestamp: z.string().nullish(),
      }),
      status: z.object({ phase: z.string().nullish() }).nullish(),
    }),
  ),
});
export interface PodRef {
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

/** Running, not terminating pods of a namespace. */
export async function runningPods(cluster: ClusterHandle, namespace: string): Promise<PodRef[]> {
  const out = await cluster.kubectl(["get", "pods", "-o", "json", "--chunk-size=500"], {
    namespace,
    timeoutMs: 120_000,
  });
  return podList
    .parse(JSON.parse(out))
    .items.filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp)
    .map((p) => ({
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      labels: p.metadata.labels ?? {},
    }));
}

/** Polls until `count` pods of the namespace are Running; resolves them. */
export async function waitRunning(
  cluster: ClusterHandle,
  namespace: string,
  count: number,
  timeoutMs: number,
): Promise<PodRef[]> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const pods = await runningPods(cluster, namespace);
    if (pods.length >= count) return pods;
    if (pods.length !== last) log(`${namespace}: ${pods.length}/${count} pods Running`);
    last = pods.length;
    if (Date.now() > deadline)
      throw new Error(
        `only ${pods.length} of ${count} pods in ${namespace} Running after ${timeoutMs / 1000}s`,
      );
    await sleep(3000);
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/**
 * One loopback process-local exporter that plays every pod's application metric: a counter
 * `bench_http_requests_total{namespace,pod}` growing at a steady rate per pod (so the default rules'
 * rate() gives a steady value), listed as a target of the harness's `cadvisor` job (labels
 * honoured from the exposition, as for a kubelet).
 */
export interface Exporter {
  url: string;
  setPods(pods: readonly PodRef[]): Promise<void>;
  /** The per-second rate the exporter gives this pod. */
  rateOf(pod: string): number;
  stop(): Promise<void>;
}

export const BENCH_METRIC = "bench_http_requests";

export async function startExporter(
  cluster: ClusterHandle,
  id: string,
  /** Per-second rate of the pod at index i of setPods' list (default 1–10, cycling). */
  rateAt: (index: number) => number = (i) => 1 + (i % 10),
): Promise<Exporter> {
  const t0 = Date.now();
  let pods: PodRef[] = [];
  const rates = new Map<string, number>();
  const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const server: Server = createServer((req, res) => {
    const elapsed = (Date.now() - t0) / 1000;
    const lines = [`# TYPE ${BENCH_METRIC}_total counter`];
    for (const p of pods) {
      const r = rates.get(p.name) ?? 1;
      lines.push(
        `${BENCH_METRIC}_total{namespace="${esc(p.namespace)}",pod="${esc(p.name)}"} ${(r * elapsed).toFixed(3)}`,
      );
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sdFile = join(cluster.info.sdDir, `${SD_JOBS.cadvisor}-bench-${id}-${process.pid}.json`);
  await writeFileSd(sdFile, [{ address, labels: { bench: id } }]);
  return {
    url: `http://${address}/metrics`,
    async setPods(next) {
      pods = [...next];
      for (const [i, p] of pods.entries()) if (!rates.has(p.name)) rates.set(p.name, rateAt(i));
    },
    rateOf: (pod) => rates.get(pod) ?? 1,
    async stop() {
      await rm(sdFile, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits until Prometheus returns at least `count` samples for `query`. */
export async function waitForSamples(
  cluster: ClusterHandle,
  query: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let n = 0;
    try {
      n = (await cluster.promQuery(query)).length;
    } catch {
      n = 0;
    }
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`Prometheus has ${n} of ${count} samples for ${query}`);
    await sleep(2000);
  }
}

/** The machine, for the report: CPUs, memory, and how busy it was. */
export function machine(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)}`;
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** Sums of a counter/histogram family from a Prometheus text exposition, by metric line prefix. */
export function sumSeries(
  text: string,
  name: string,
  labelFilter: (labels: string) => boolean = () => true,
): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labels = "";
    let value: string;
    if (rest.startsWith("{")) {
      const end = rest.indexOf("}");
      labels = rest.slice(1, end);
      value = rest.slice(end + 1).trim();
    } else if (rest.startsWith(" ")) value = rest.trim();
    else continue;
    if (labelFilter(labels)) total += Number(value.split(" ")[0]);
  }
  return total;
}
