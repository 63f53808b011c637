// Autoscaler benchmark against the real local control plane, kwok, Prometheus and our adapter
// behind the aggregator (issue 6).
//
//   npx tsx scripts/bench/autoscaler-sync.ts [--hpas 100,1000] [--concurrent-syncs 5,20] [--dry-run]
//
// Creates max(--hpas) kwok Deployments of one pod each and one autoscaling/v2 HPA per
// Deployment on a Pods metric (`bench_http_requests`, a per-second rate every pod's exporter
// series gives at 5/s, served by the adapter addon through custom.metrics.k8s.io), with a
// target equal to that value so nothing scales and every sync does the same work: read the
// scale subresource, read the metric through the aggregator, compute, write the HPA status when
// it changed. Then, for each N, it starts the autoscaler in this process (startAutoscaler, the
// CLI's code) owning the first N HPAs (a label selector), and measures
//   - the time from the controller's start to N syncs (every HPA synced once) and syncs/s;
//   - whether the next pass (15 s later) also completes, i.e. the loop keeps up with its period;
//   - the share of sync time spent in Kubernetes calls, by kind of call: every request the
//     autoscaler's HTTP client (undici) makes is timed through undici's diagnostics channels,
//     and the sum is compared with the sum of sync durations from its own /metrics histogram.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { startAutoscaler } from "../../src/autoscaler/index.js";
import { silentLogger } from "../../src/log/logger.js";
import { adapterAddon } from "../cluster/addons/adapter.js";
import {
  BENCH_METRIC,
  apply,
  benchCluster,
  kwokDeployment,
  log,
  machine,
  namespaceObject,
  startExporter,
  waitForSamples,
  waitRunning,
} from "./support.js";

/** The machine and its load average when the timed runs began. */
let runsStartedOn = "";

const NAMESPACE = "bench-autoscaler";
const METRIC_RATE = 5;
const SYNC_PERIOD_MS = 15_000;

const { values: flags } = parseArgs({
  options: {
    hpas: { type: "string", default: "100,1000" },
    "concurrent-syncs": { type: "string", default: "5,20" },
    "dry-run": { type: "boolean", default: false },
  },
});
const sizes = flags.hpas.split(",").map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--hpas: whole numbers >= 1, got ${flags.hpas}`);
const concurrencies = flags["concurrent-syncs"].split(",").map((s) => Number(s.trim()));
if (concurrencies.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--concurrent-syncs: whole numbers >= 1, got ${flags["concurrent-syncs"]}`);
const largest = Math.max(...sizes);

/** Which of the first N HPAs an autoscaler owns: labels `bench-first-<N>: "true"`. */
const firstLabel = (n: number) => `bench-first-${n}`;

function hpa(i: number): object {
  const name = `bench-${i}`;
  const labels: Record<string, string> = {};
  for (const n of sizes) if (i < n) labels[firstLabel(n)] = "true";
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Pods",
          pods: {
            metric: { name: BENCH_METRIC },
            target: { type: "AverageValue", averageValue: String(METRIC_RATE) },
          },
        },
      ],
    },
  };
}

type Kind = "scale" | "metrics" | "hpa writes" | "events" | "other";
function kindOf(method: string, path: string): Kind {
  if (
    path.includes("/apis/custom.metrics.k8s.io/") ||
    path.includes("/apis/external.metrics.k8s.io/") ||
    path.includes("/apis/metrics.k8s.io/")
  )
    return "metrics";
  if (/\/scale(\?|$)/.test(path)) return "scale";
  if (path.includes("/horizontalpodautoscalers/")) return method === "GET" ? "other" : "hpa writes";
  if (path.includes("/events")) return "events";
  return "other";
}

/** Times every undici request to `origin` (not watches), by kind, while installed. */
function callTimer(origin: string) {
  const started = new WeakMap<object, { at: number; kind: Kind }>();
  const totals = new Map<Kind, { ms: number; count: number; errors: number }>();
  const add = (req: object, failed: boolean) => {
    const s = started.get(req);
    if (!s) return;
    started.delete(req);
    const t = totals.get(s.kind) ?? { ms: 0, count: 0, errors: 0 };
    t.ms += performance.now() - s.at;
    t.count += 1;
    if (failed) t.errors += 1;
    totals.set(s.kind, t);
  };
  type Msg = { request: { origin?: string | URL; method: string; path: string } };
  const onCreate = (m: unknown) => {
    const { request } = m as Msg;
    if (String(request.origin) !== origin || request.path.includes("watch=")) return;
    started.set(request, { at: performance.now(), kind: kindOf(request.method, request.path) });
  };
  const onDone = (m: unknown) => add((m as Msg).request, false);
  const onError = (m: unknown) => add((m as Msg).request, true);
  subscribe("undici:request:create", onCreate);
  subscribe("undici:request:trailers", onDone);
  subscribe("undici:request:error", onError);
  return {
    snapshot: () => new Map([...totals].map(([k, v]) => [k, { ...v }])),
    reset: () => totals.clear(),
    stop() {
      unsubscribe("undici:request:create", onCreate);
      unsubscribe("undici:request:trailers", onDone);
      unsubscribe("undici:request:error", onError);
    },
  };
}

async function counterSum(
  get: () => Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }>,
  filter: (l: Record<string, unknown>) => boolean = () => true,
) {
  return (await get()).values.filter((v) => filter(v.labels)).reduce((a, v) => a + v.value, 0);
}

interface Result {
  hpas: number;
  concurrentSyncs: number;
  startupMs: number;
  firstPassMs: number;
  syncsPerSecond: number;
  secondPassDone: boolean;
  secondPassMs: number;
  errors: number;
  meanSyncMs: number;
  kubeShare: Map<Kind, { ms: number; count: number; errors: number }>;
  syncMsTotal: number;
  scaled: number;
  /** The first sync after the HPAs were created (every status written). */
  priming: boolean;
}

async function main(): Promise<void> {
  const started = new Date();
  log(`machine: ${machine()}`);
  const bench = await benchCluster({ nodes: Math.ceil(largest / 100) + 1 });
  const { cluster } = bench;
  const stops: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    await bench.stop();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  const results: Result[] = [];
  try {
    const createdAt = Date.now();
    const deployments = Array.from({ length: largest }, (_, i) => kwokDeployment(NAMESPACE, `bench-${i}`, 1));
    await apply(cluster, [namespaceObject(NAMESPACE), ...deployments]);
    if (bench.reused)
      stops.push(
        async () => void (await cluster.kubectl(["delete", "namespace", NAMESPACE, "--wait=false"])),
      );
    log(`${largest} Deployments created in ${((Date.now() - createdAt) / 1000).toFixed(0)}s`);
    const pods = await waitRunning(cluster, NAMESPACE, largest, 900_000);
    log(`${largest} pods Running after ${((Date.now() - createdAt) / 1000).toFixed(0)}s`);
    const exporter = await startExporter(cluster, "autoscaler", () => METRIC_RATE);
    stops.push(() => exporter.stop());
    await exporter.setPods(pods);
    const adapter = await adapterAddon({ relistInterval: "5s" }).start(cluster);
    stops.push(() => adapter.stop());
    await waitForSamples(
      cluster,
      `sum(rate(${BENCH_METRIC}_total{namespace="${NAMESPACE}"}[1m])) by (pod)`,
      largest,
      180_000,
    );
    const hpaAt = Date.now();
    await apply(
      cluster,
      Array.from({ length: largest }, (_, i) => hpa(i)),
    );
    log(`${largest} HPAs created in ${((Date.now() - hpaAt) / 1000).toFixed(0)}s`);
    // The metric must be served through the aggregator before anything is timed.
    const probe = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${NAMESPACE}/pods/*/${BENCH_METRIC}?labelSelector=app%3Dbench-0`;
    for (let i = 0; ; i++) {
      try {
        const body = JSON.parse(await cluster.kubectl(["get", "--raw", probe])) as { items?: unknown[] };
        if ((body.items?.length ?? 0) === 1) break;
      } catch (err) {
        if (i > 60) throw err;
      }
      await sleep(2000);
    }
    log("the metric is served through the aggregator");

    const kc = cluster.kubeConfig();
    const timer = callTimer(new URL(cluster.apiserverUrl).origin);
    stops.push(async () => timer.stop());
    runsStartedOn = machine();
    log(`before the runs: ${runsStartedOn}`);
    // The first sync after creation writes every HPA's status and history annotation; it is
    // reported on its own, and the measured runs then see the steady state (writes only when a
    // status changed), as a loop does every period.
    const runs = [
      { n: largest, c: Math.max(...concurrencies), priming: true },
      ...sizes.flatMap((n) => concurrencies.map((c) => ({ n, c, priming: false }))),
    ];
    for (const { n, c, priming } of runs) {
      timer.reset();
      const t0 = performance.now();
      const as = await startAutoscaler({
        kubeconfig: kc,
        syncPeriodMs: SYNC_PERIOD_MS,
        concurrentSyncs: c,
        hpaSelector: `${firstLabel(n)}=true`,
        namespaces: [NAMESPACE],
        dryRun: flags["dry-run"],
        metricsBindAddress: null,
        log: silentLogger,
      });
      const t1 = performance.now();
      const syncs = () => counterSum(() => as.telemetry.syncs.get());
      let firstPassMs = NaN;
      let secondPassMs = NaN;
      let kube = timer.snapshot();
      let syncSecondsAtFirst = 0;
      const deadline = t1 + 3 * SYNC_PERIOD_MS + 60_000;
      try {
        while (performance.now() < deadline) {
          const done = await syncs();
          if (Number.isNaN(firstPassMs) && done >= n) {
            firstPassMs = performance.now() - t1;
            kube = timer.snapshot();
            syncSecondsAtFirst =
              (await as.telemetry.syncDuration.get()).values.find((v) => v.metricName?.endsWith("_sum"))
                ?.value ?? 0;
          }
          if (done >= 2 * n) {
            secondPassMs = performance.now() - t1;
            break;
          }
          await sleep(25);
        }
        const errors = await counterSum(
          () => as.telemetry.syncs.get(),
          (l) => l.result === "error",
        );
        const scaled = await counterSum(
          () => as.telemetry.decisions.get(),
          (l) => l.direction !== "none",
        );
        const r: Result = {
          hpas: n,
          concurrentSyncs: c,
          startupMs: t1 - t0,
          firstPassMs,
          syncsPerSecond: n / (firstPassMs / 1000),
          secondPassDone: !Number.isNaN(secondPassMs),
          secondPassMs,
          errors,
          meanSyncMs: (syncSecondsAtFirst * 1000) / n,
          kubeShare: kube,
          syncMsTotal: syncSecondsAtFirst * 1000,
          scaled,
          priming,
        };
        results.push(r);
        log(
          `${n} HPAs, ${c} workers${priming ? " (first sync after creation)" : ""}: first pass ${(firstPassMs / 1000).toFixed(2)}s (${r.syncsPerSecond.toFixed(0)} syncs/s, mean sync ${r.meanSyncMs.toFixed(1)} ms), second pass done ${(secondPassMs / 1000).toFixed(1)}s after start, ${errors} errors, ${scaled} scale decisions`,
        );
      } finally {
        await as.stop();
      }
    }
  } finally {
    await cleanup();
  }

  const out: string[] = [];
  out.push(
    `autoscaler benchmark, ${started.toISOString()} (${flags["dry-run"] ? "--dry-run" : "real writes"}, sync period ${SYNC_PERIOD_MS / 1000}s)`,
  );
  out.push(`machine before the runs: ${runsStartedOn}`);
  out.push(`machine after the runs: ${machine()}`);
  out.push("");
  out.push(
    "| HPAs | workers | informers synced | all synced once | syncs/s | mean sync | next pass done at | Kubernetes calls / sync time | errors |",
  );
  out.push(
    "| ---- | ------- | ---------------- | --------------- | ------- | --------- | ----------------- | ---------------------------- | ------ |",
  );
  for (const r of results) {
    const kubeMs = [...r.kubeShare].filter(([k]) => k !== "events").reduce((a, [, v]) => a + v.ms, 0);
    out.push(
      `| ${r.hpas}${r.priming ? " (first sync after creation)" : ""} | ${r.concurrentSyncs} | ${(r.startupMs / 1000).toFixed(2)} s | ${(r.firstPassMs / 1000).toFixed(2)} s | ${r.syncsPerSecond.toFixed(0)} | ${r.meanSyncMs.toFixed(1)} ms | ${r.secondPassDone ? `${(r.secondPassMs / 1000).toFixed(1)} s` : "not within 3 periods"} | ${((kubeMs / r.syncMsTotal) * 100).toFixed(0)}% | ${r.errors} |`,
    );
  }
  out.push("");
  out.push(
    "Kubernetes calls during the first pass (sum of call durations / sum of sync durations; events are sent outside syncs):",
  );
  for (const r of results) {
    const parts = [...r.kubeShare]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(
        ([k, v]) =>
          `${k} ${v.count} calls, ${(v.ms / v.count).toFixed(1)} ms each, ${((v.ms / r.syncMsTotal) * 100).toFixed(0)}%${v.errors ? `, ${v.errors} failed` : ""}`,
      );
    out.push(
      `- ${r.hpas} HPAs, ${r.concurrentSyncs} workers${r.priming ? " (first sync after creation)" : ""}: ${parts.join("; ")}`,
    );
  }
  const big = results.filter((r) => r.hpas >= 1000 && !r.priming);
  if (big.length > 0)
    out.push(
      `Target: 1,000 HPAs synced within one 15 s period: ${big.map((r) => `${r.concurrentSyncs} workers ${(r.firstPassMs / 1000).toFixed(1)} s (${r.firstPassMs <= SYNC_PERIOD_MS ? "met" : "missed"})`).join(", ")}`,
    );
  console.log(out.join("\n"));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
