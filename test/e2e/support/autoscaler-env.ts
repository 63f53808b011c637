// What the autoscaler e2e files (differential, faults, failover) share: scripted metric levels
// served to the real Prometheus by a small loopback exporter, our adapter (in this process)
// behind the aggregator through a TCP relay that a test can cut, and kubectl helpers that read
// HPAs, Events and Deployments.
//
// The exporter stands in for the workload and its kubelet: for every Running pod of an app it
// serves that app's level split evenly over the pods (as a load balancer would split load), as
// a gauge (e2e_load), as cAdvisor-named container series (cpu counter, memory gauge), and the
// app's object (e2e_front_load on Service <app>) and external (e2e_queue{queue=<app>}) values.
// The cpu counter advances by rate × (time since the previous scrape) on each scrape and carries
// that scrape's timestamp, so irate() reads exactly the scripted rate from the second scrape on.
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { z } from "zod";
import { parseConfig } from "../../../src/adapter/config/index.js";
import type { RunningAdapter } from "../../../src/adapter/index.js";
import { registerWithAggregator, type Registration } from "../../../scripts/cluster/aggregator.js";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";
import { SD_JOBS } from "../../../scripts/cluster/render.js";
import { removeFileSd, writeFileSd } from "../../../scripts/cluster/podrunner/sd.js";
import type { MetricTimestamps } from "../../../src/adapter/providers/sample-times.js";
import { hpaControllerMetricsReader, resourceRulesYaml, startServingAdapter } from "./adapter.js";
import { deploymentObject } from "./kube.js";

// ---------------------------------------------------------------------------------------------
// levels

/** One app's scripted values; pod-level ones are totals, split over the app's Running pods. */
export interface Levels {
  /** sum over pods of e2e_load (a Pods metric) */
  load?: number;
  /** cores used by all pods together (Resource cpu) */
  cpu?: number;
  /** bytes used by all pods together (Resource memory) */
  memory?: number;
  /** e2e_front_load on Service <app> (an Object metric) */
  object?: number;
  /** e2e_queue{queue="<app>"} (an External metric) */
  queue?: number;
  /** the first this many Running pods (by name) get no pod-level samples (their share is still split off) */
  missingPods?: number;
}

const podListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({
        name: z.string(),
        labels: z.record(z.string(), z.string()).nullish(),
        deletionTimestamp: z.string().nullish(),
      }),
      status: z.object({ phase: z.string().nullish() }).nullish(),
    }),
  ),
});

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
}

class LevelExporter {
  private server: HttpServer | undefined;
  private readonly levels = new Map<string, Levels>();
  /** pod → [cpu seconds so far, time of the previous scrape] */
  private readonly cpuCounters = new Map<string, { seconds: number; at: number }>();
  readonly sdFile: string;
  url = "";

  constructor(
    private readonly cluster: ClusterHandle,
    private readonly namespace: string,
  ) {
    this.sdFile = join(cluster.info.sdDir, `${SD_JOBS.cadvisor}-e2e-${randomBytes(3).toString("hex")}.json`);
  }

  set(app: string, levels: Levels): void {
    this.levels.set(app, { ...levels });
  }

  async start(): Promise<void> {
    const core = this.cluster.kubeConfig().makeApiClient(CoreV1Api);
    this.server = createHttpServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      // The scrape's time, taken before the (sometimes slow) pod list.
      const now = Date.now();
      core
        .listNamespacedPod({ namespace: this.namespace })
        .then((list) => {
          const body = this.render(podListSchema.parse(list), now);
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body);
        })
        .catch((err: unknown) => {
          // A failed scrape: Prometheus keeps the last values until the next one.
          if (!res.headersSent) res.writeHead(500).end(err instanceof Error ? err.message : String(err));
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}/metrics`;
    // The cadvisor job honours the exposition's labels (namespace, pod, container), as a
    // kubelet's cAdvisor endpoint is scraped.
    await writeFileSd(this.sdFile, [{ address: `127.0.0.1:${port}`, labels: { exporter: "e2e-levels" } }]);
  }

  private render(list: z.infer<typeof podListSchema>, now: number): string {
    const ns = this.namespace;
    const byApp = new Map<string, string[]>();
    for (const p of list.items) {
      const app = p.metadata.labels?.app;
      if (app === undefined || p.metadata.deletionTimestamp || p.status?.phase !== "Running") continue;
      byApp.set(app, [...(byApp.get(app) ?? []), p.metadata.name]);
    }
    const load: string[] = [];
    const cpu: string[] = [];
    const mem: string[] = [];
    const object: string[] = [];
    const queue: string[] = [];
    const alive = new Set<string>();
    for (const [app, l] of this.levels) {
      const pods = (byApp.get(app) ?? []).sort();
      for (const [i, pod] of pods.entries()) {
        const n = pods.length;
        if (i < (l.missingPods ?? 0)) continue;
        alive.add(pod);
        const podLabels = { namespace: ns, pod };
        const containerLabels = { ...podLabels, container: "web" };
        if (l.load !== undefined) load.push(`e2e_load${labels(podLabels)} ${l.load / n}`);
        if (l.cpu !== undefined || l.memory !== undefined) {
          const c = this.cpuCounters.get(pod);
          const seconds = c === undefined ? 0 : c.seconds + ((l.cpu ?? 0) / n) * ((now - c.at) / 1000);
          this.cpuCounters.set(pod, { seconds, at: now });
          // Stamped with the time it was computed for, so irate() divides by exactly that interval
          // whatever the scrape's latency (stamped series get no staleness marker when a pod
          // goes, which is harmless: the adapter asks only for the pods that exist).
          cpu.push(`container_cpu_usage_seconds_total${labels(containerLabels)} ${seconds} ${now}`);
          mem.push(
            `container_memory_working_set_bytes${labels(containerLabels)} ${Math.round((l.memory ?? 0) / n)}`,
          );
        }
      }
      if (l.object !== undefined)
        object.push(`e2e_front_load${labels({ namespace: ns, service: app })} ${l.object}`);
      if (l.queue !== undefined) queue.push(`e2e_queue${labels({ namespace: ns, queue: app })} ${l.queue}`);
    }
    for (const pod of [...this.cpuCounters.keys()]) if (!alive.has(pod)) this.cpuCounters.delete(pod);
    return [
      "# TYPE e2e_load gauge",
      ...load,
      "# TYPE container_cpu_usage_seconds_total counter",
      ...cpu,
      "# TYPE container_memory_working_set_bytes gauge",
      ...mem,
      "# TYPE e2e_front_load gauge",
      ...object,
      "# TYPE e2e_queue gauge",
      ...queue,
      "",
    ].join("\n");
  }

  async stop(): Promise<void> {
    await removeFileSd(this.sdFile);
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// relay

/** A TCP relay the aggregator reaches the adapter through; cut() makes the metrics APIs unreachable. */
export class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly targetPort: number) {}

  get up(): boolean {
    return this.server !== undefined;
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// adapter

export const ADAPTER_CONFIG = `
rules:
- seriesQuery: 'e2e_load{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name: {matches: "^e2e_load$", as: "e2e_load"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'e2e_front_load{namespace!="",service!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      service: {resource: "service"}
  name: {matches: "^e2e_front_load$", as: "e2e_front_load"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'e2e_queue{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name: {matches: "^e2e_queue$", as: "e2e_queue"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>})'
${resourceRulesYaml("irate", "10s")}`;

export interface MetricsEnv {
  namespace: string;
  relay: Relay;
  adapter: RunningAdapter;
  setLevels(app: string, levels: Levels): void;
  /** Waits until the aggregator reports every metrics APIService Available (or not, with false). */
  waitApiServices(available: boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the exporter, the adapter (with ADAPTER_CONFIG) and the relay, and registers the four
 * metrics APIServices for it behind an ExternalName Service in `namespace`, plus the RBAC that
 * lets kube-controller-manager's HPA controller read them. With `relayUp: false` the
 * APIServices point at a relay that is not listening yet (the metrics APIs are unavailable).
 */
export async function startMetricsEnv(
  cluster: ClusterHandle,
  namespace: string,
  opts: {
    relayUp?: boolean;
    /** the adapter's rules (default ADAPTER_CONFIG) */
    config?: string;
    /** default the cluster's Prometheus */
    prometheusUrl?: string;
    metricTimestamps?: MetricTimestamps;
  } = {},
): Promise<MetricsEnv> {
  const config = parseConfig(opts.config ?? ADAPTER_CONFIG);
  if (!config.ok) throw new Error(`adapter config: ${JSON.stringify(config.issues)}`);
  const exporter = new LevelExporter(cluster, namespace);
  await exporter.start();
  const { adapter, caPem, service } = await startServingAdapter(cluster, {
    namespace,
    service: "prom-hpa-adapter-e2e",
    config: config.config,
    prometheusUrl: opts.prometheusUrl ?? cluster.prometheusUrl,
    ...(opts.metricTimestamps !== undefined ? { metricTimestamps: opts.metricTimestamps } : {}),
  });
  const relay = new Relay(adapter.port);
  await relay.restore();
  const port = relay.port;
  if (opts.relayUp === false) await relay.cut();
  let registration: Registration | undefined;
  const stop = async () => {
    // APIServices first: with their server gone, namespace deletion would hang on discovery.
    await registration?.unregister();
    await relay.cut();
    await adapter.stop();
    await exporter.stop();
  };
  try {
    registration = await registerWithAggregator(
      cluster,
      { namespace, service, port, caPem },
      { clusterObjects: hpaControllerMetricsReader(`e2e-${namespace}-metrics-reader`) },
    );
    if (opts.relayUp !== false) await registration.waitAvailable();
  } catch (err) {
    await stop();
    throw err;
  }
  const r = registration;
  return {
    namespace,
    relay,
    adapter,
    setLevels: (app, levels) => exporter.set(app, levels),
    waitApiServices: (available, timeoutMs) => r.waitAvailable({ available, timeoutMs }),
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// objects

/** A Deployment whose pods kwok runs (the image is never pulled); requests 100m cpu, 64Mi memory. */
export function deployment(name: string, replicas: number): object {
  return deploymentObject(name, replicas, "prom-hpa/e2e-levels:local");
}

/** A Service named after the app (the object of its Object metric). */
export function service(name: string): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { ports: [{ port: 80 }], selector: { app: name } },
  };
}

export function hpa(
  name: string,
  target: { apiVersion?: string; kind?: string; name: string },
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): object {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, annotations },
    spec: {
      scaleTargetRef: {
        apiVersion: target.apiVersion ?? "apps/v1",
        kind: target.kind ?? "Deployment",
        name: target.name,
      },
      minReplicas: 1,
      maxReplicas: 5,
      ...spec,
    },
  };
}

export const metrics = {
  pods: (averageValue: string) => ({
    type: "Pods",
    pods: { metric: { name: "e2e_load" }, target: { type: "AverageValue", averageValue } },
  }),
  cpu: (averageUtilization: number) => ({
    type: "Resource",
    resource: { name: "cpu", target: { type: "Utilization", averageUtilization } },
  }),
  memory: (averageUtilization: number) => ({
    type: "Resource",
    resource: { name: "memory", target: { type: "Utilization", averageUtilization } },
  }),
  object: (serviceName: string, averageValue: string) => ({
    type: "Object",
    object: {
      describedObject: { apiVersion: "v1", kind: "Service", name: serviceName },
      metric: { name: "e2e_front_load" },
      target: { type: "AverageValue", averageValue },
    },
  }),
  external: (queue: string, averageValue: string, metricName = "e2e_queue") => ({
    type: "External",
    external: {
      metric: { name: metricName, selector: { matchLabels: { queue } } },
      target: { type: "AverageValue", averageValue },
    },
  }),
};

// ---------------------------------------------------------------------------------------------
// reading

export const hpaSchema = z.object({
  metadata: z.object({ name: z.string(), annotations: z.record(z.string(), z.string()).nullish() }),
  status: z
    .object({
      currentReplicas: z.number().nullish(),
      desiredReplicas: z.number().nullish(),
      lastScaleTime: z.string().nullish(),
      currentMetrics: z.array(z.unknown()).nullish(),
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().nullish(),
            message: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
export type HpaObject = z.infer<typeof hpaSchema>;

export const eventListSchema = z.object({
  items: z.array(
    z.object({
      reason: z.string(),
      message: z.string(),
      type: z.string(),
      count: z.number().nullish(),
      source: z.object({ component: z.string().nullish() }).nullish(),
      involvedObject: z.object({ name: z.string(), kind: z.string().nullish() }),
      firstTimestamp: z.string().nullish(),
      lastTimestamp: z.string().nullish(),
    }),
  ),
});
export type KubeEvent = z.infer<typeof eventListSchema>["items"][number];

export interface Kube {
  apply(objects: object[]): Promise<void>;
  hpa(name: string): Promise<HpaObject>;
  hpas(): Promise<HpaObject[]>;
  condition(
    name: string,
    type: string,
  ): Promise<{ status: string; reason?: string | null; message?: string | null } | undefined>;
  /** Events about HPAs, optionally of one HPA. */
  events(name?: string): Promise<KubeEvent[]>;
  replicas(deployment: string): Promise<number>;
}

export function kube(cluster: ClusterHandle, namespace: string): Kube {
  const get = async (args: string[]) => JSON.parse(await cluster.kubectl(args, { namespace })) as unknown;
  const k: Kube = {
    async apply(objects) {
      // --validate=false: client-side validation would fetch the aggregated OpenAPI on every apply.
      await cluster.kubectl(["apply", "--validate=false", "-f", "-"], {
        namespace,
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      });
    },
    hpa: async (name) => hpaSchema.parse(await get(["get", "hpa", name, "-o", "json"])),
    hpas: async () =>
      z.object({ items: z.array(hpaSchema) }).parse(await get(["get", "hpa", "-o", "json"])).items,
    condition: async (name, type) => (await k.hpa(name)).status?.conditions?.find((c) => c.type === type),
    async events(name) {
      const selector = `involvedObject.kind=HorizontalPodAutoscaler${name !== undefined ? `,involvedObject.name=${name}` : ""}`;
      return eventListSchema.parse(await get(["get", "events", "-o", "json", "--field-selector", selector]))
        .items;
    },
    replicas: async (name) =>
      Number(
        await cluster.kubectl(["get", "deployment", name, "-o", "jsonpath={.spec.replicas}"], { namespace }),
      ),
  };
  return k;
}

/** Renders rows as a fixed-width text table (console.table's quoting hides the values' shape). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.map(line)].join("\n");
}
