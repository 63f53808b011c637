// Autoscaler benchmark against the real local control plane, kwok, Prometheus and our adapter
// behind the aggregator (issues 6 and 17), ours beside kube-controller-manager's HPA controller.
//
//   npm run build && npx tsx scripts/bench/autoscaler-sync.ts --hpas 1000,10000 [--controller ours,kcm]
//     [--concurrent-syncs 5,20] [--kcm-syncs 5,50] [--kcm-qps 20,1000] [--json FILE]
//
// Creates max(--hpas) kwok Deployments of one pod each; for each N (ascending) it makes the
// first N of them autoscaled (one autoscaling/v2 HPA per Deployment on a Pods metric,
// `bench_http_requests`, 5/s per pod from the exporter, served by the adapter addon through
// custom.metrics.k8s.io, with a target equal to that value so nothing scales), lets one pass of
// ours write every new status (priming, reported apart), and then times each controller as its
// own process from its start, every row against the same N HPAs:
//   - ours: `node dist/cli.js autoscaler` (compiled; PROM_HPA_PROGRAM_NODE_FLAGS adds Node flags,
//     e.g. --cpu-prof), a pass = N syncs on its prom_hpa_autoscaler_syncs_total;
//   - kcm: a kube-controller-manager running only its HPA controller (cluster.startHpaController),
//     with --concurrent-horizontal-pod-autoscaler-syncs and --kube-api-qps/--kube-api-burst as
//     asked, a pass = N on its horizontal_pod_autoscaler_controller_reconciliations_total. A pass
//     that cannot finish within the time limit is extrapolated from the rate over that time.
// CPU seconds are the process's utime+stime over the timed pass (/proc/<pid>/stat), peak RSS its
// VmHWM (/proc/<pid>/status) at the end of the pass.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { adapterAddon } from "../cluster/addons/adapter.js";
import type { ClusterHandle } from "../cluster/handle.js";
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
    controller: { type: "string", default: "ours,kcm" },
    "concurrent-syncs": { type: "string", default: "5,20" },
    "kcm-syncs": { type: "string", default: "5,50" },
    "kcm-qps": { type: "string", default: "20,1000" },
    "pass-limit": { type: "string", default: "120" },
    json: { type: "string" },
  },
});
function wholes(flag: string, text: string): number[] {
  const out = text.split(",").map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--${flag}: whole numbers >= 1, got ${text}`);
  return out;
}
const sizes = wholes("hpas", flags.hpas).sort((a, b) => a - b);
const concurrencies = wholes("concurrent-syncs", flags["concurrent-syncs"]);
const kcmSyncs = wholes("kcm-syncs", flags["kcm-syncs"]);
const kcmQps = wholes("kcm-qps", flags["kcm-qps"]);
const passLimitMs = Number(flags["pass-limit"]) * 1000;
const controllers = flags.controller.split(",").map((s) => s.trim());
if (controllers.some((c) => c !== "ours" && c !== "kcm"))
  throw new Error(`--controller: ours and/or kcm, got ${flags.controller}`);
const largest = Math.max(...sizes);
/** kube-controller-manager's own client limit (--kube-api-qps 20); 20 asks for its defaults. */
const KCM_DEFAULT_QPS = 20;

function hpa(i: number): object {
  const name = `bench-${i}`;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace: NAMESPACE },
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

/** CPU seconds (utime + stime) and peak RSS (VmHWM) of a live process. */
function procStats(pid: number): { cpuSeconds: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuSeconds: ticks / 100, peakRssBytes: Number(hwm?.[1] ?? 0) * 1024 };
}

/** Sum of a counter's series in a Prometheus text exposition, and of those matching `only`. */
function counter(text: string, name: string, only?: RegExp): { all: number; matching: number } {
  let all = 0;
  let matching = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const v = Number(line.slice(line.lastIndexOf(" ") + 1));
    all += v;
    if (only?.test(line)) matching += v;
  }
  return { all, matching };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

interface Row {
  hpas: number;
  controller: "ours" | "kcm";
  passSeconds: number;
  syncsPerSecond: number;
  cpuSeconds: number;
  peakRssBytes: number;
  concurrentSyncs: number;
  kubeApiQps?: number;
  extrapolated: boolean;
  errors: number;
  priming: boolean;
}

interface Running {
  pid: number;
  /** syncs so far and failed ones */
  syncs(): Promise<{ all: number; errors: number }>;
  stop(): Promise<void>;
}

async function startOurs(cluster: ClusterHandle, c: number): Promise<Running> {
  const port = await freePort();
  const nodeFlags = (process.env.PROM_HPA_PROGRAM_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f.length > 0);
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      "dist/cli.js",
      "autoscaler",
      `--kubeconfig=${cluster.kubeconfigPath}`,
      "--sync-period=15s",
      `--concurrent-syncs=${c}`,
      `--namespaces=${NAMESPACE}`,
      `--metrics-bind-address=127.0.0.1:${port}`,
      "--skip-permission-check",
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, LOG_LEVEL: "warn" } },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    pid: child.pid ?? -1,
    async syncs() {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        const s = counter(await res.text(), "prom_hpa_autoscaler_syncs_total", /result="error"/);
        return { all: s.all, errors: s.matching };
      } catch {
        return { all: 0, errors: 0 }; // not listening yet
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      child.kill("SIGKILL");
    },
  };
}

async function startKcm(cluster: ClusterHandle, c: number, qps: number): Promise<Running> {
  const lifted = qps === KCM_DEFAULT_QPS ? {} : { kubeApiQps: qps, kubeApiBurst: qps };
  const h = await cluster.startHpaController({ concurrentSyncs: c, ...lifted });
  const pki = cluster.info.pki;
  const agent = new Agent({
    connect: {
      ca: readFileSync(cluster.info.caCertPath, "utf8"),
      cert: readFileSync(pki.admin.certFile, "utf8"),
      key: readFileSync(pki.admin.keyFile, "utf8"),
    },
  });
  return {
    pid: h.pid,
    async syncs() {
      try {
        const res = await request(`https://127.0.0.1:${h.port}/metrics`, { dispatcher: agent });
        const s = counter(
          await res.body.text(),
          "horizontal_pod_autoscaler_controller_reconciliations_total",
          /error="(spec|internal)"/,
        );
        return { all: s.all, errors: s.matching };
      } catch {
        return { all: 0, errors: 0 };
      }
    },
    async stop() {
      await h.stop();
      await agent.close();
    },
  };
}

/** Runs one controller until it has synced `n` HPAs (or the limit passed) and measures it. */
async function timePass(
  n: number,
  start: () => Promise<Running>,
  row: Pick<Row, "controller" | "concurrentSyncs" | "kubeApiQps" | "priming">,
): Promise<Row> {
  const t0 = performance.now();
  const r = await start();
  let stats = { cpuSeconds: 0, peakRssBytes: 0 };
  try {
    let done = { all: 0, errors: 0 };
    for (;;) {
      done = await r.syncs();
      stats = procStats(r.pid);
      if (done.all >= n || performance.now() - t0 > passLimitMs) break;
      await sleep(100);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const extrapolated = done.all < n;
    const passSeconds = extrapolated ? (n * elapsed) / Math.max(1, done.all) : elapsed;
    const out: Row = {
      hpas: n,
      ...row,
      passSeconds,
      syncsPerSecond: n / passSeconds,
      cpuSeconds: stats.cpuSeconds,
      peakRssBytes: stats.peakRssBytes,
      extrapolated,
      errors: done.errors,
    };
    log(
      `${n} HPAs, ${row.controller} ${row.concurrentSyncs} workers${row.kubeApiQps ? ` qps ${row.kubeApiQps}` : ""}${row.priming ? " (priming)" : ""}: pass ${passSeconds.toFixed(2)} s${extrapolated ? ` (extrapolated from ${done.all} syncs)` : ""}, ${out.syncsPerSecond.toFixed(0)} syncs/s, CPU ${stats.cpuSeconds.toFixed(2)} s (${((stats.cpuSeconds / Math.min(n, Math.max(1, done.all))) * 1000).toFixed(2)} ms/sync), peak RSS ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MB, ${done.errors} errors`,
    );
    return out;
  } finally {
    await r.stop();
  }
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
  const rows: Row[] = [];
  try {
    const createdAt = Date.now();
    const deployments = Array.from({ length: largest }, (_, i) => kwokDeployment(NAMESPACE, `bench-${i}`, 1));
    await apply(cluster, [namespaceObject(NAMESPACE), ...deployments]);
    stops.push(async () => void (await cluster.kubectl(["delete", "namespace", NAMESPACE, "--wait=false"])));
    log(`${largest} Deployments created in ${((Date.now() - createdAt) / 1000).toFixed(0)}s`);
    const pods = await waitRunning(cluster, NAMESPACE, largest, 1_800_000);
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
      300_000,
    );
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
    runsStartedOn = machine();
    log(`before the runs: ${runsStartedOn}`);

    let made = 0;
    for (const n of sizes) {
      const hpaAt = Date.now();
      await apply(
        cluster,
        Array.from({ length: n - made }, (_, i) => hpa(made + i)),
      );
      made = n;
      log(`${n} HPAs in place (${((Date.now() - hpaAt) / 1000).toFixed(0)}s)`);
      const top = Math.max(...concurrencies);
      // the first pass after creation writes every status; later passes see the steady state
      rows.push(
        await timePass(n, () => startOurs(cluster, top), {
          controller: "ours",
          concurrentSyncs: top,
          priming: true,
        }),
      );
      log(`machine: ${machine()}`);
      for (const who of controllers) {
        if (who === "ours")
          for (const c of concurrencies)
            rows.push(
              await timePass(n, () => startOurs(cluster, c), {
                controller: "ours",
                concurrentSyncs: c,
                priming: false,
              }),
            );
        else
          for (const q of kcmQps)
            for (const c of kcmSyncs)
              rows.push(
                await timePass(n, () => startKcm(cluster, c, q), {
                  controller: "kcm",
                  concurrentSyncs: c,
                  kubeApiQps: q,
                  priming: false,
                }),
              );
      }
      log(`machine: ${machine()}`);
    }
  } finally {
    await cleanup();
  }

  if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(rows, null, 2)}\n`);
  const out: string[] = [];
  out.push(`autoscaler benchmark, ${started.toISOString()} (sync period ${SYNC_PERIOD_MS / 1000}s)`);
  out.push(`machine before the runs: ${runsStartedOn}`);
  out.push(`machine after the runs: ${machine()}`);
  out.push("");
  out.push(
    "| HPAs | controller | workers | client QPS | pass | syncs/s | CPU s | CPU ms/sync | peak RSS | errors |",
  );
  out.push(
    "| ---- | ---------- | ------- | ---------- | ---- | ------- | ----- | ----------- | -------- | ------ |",
  );
  for (const r of rows)
    out.push(
      `| ${r.hpas}${r.priming ? " (priming)" : ""} | ${r.controller} | ${r.concurrentSyncs} | ${r.kubeApiQps ?? "-"} | ${r.passSeconds.toFixed(2)} s${r.extrapolated ? " (extrapolated)" : ""} | ${r.syncsPerSecond.toFixed(0)} | ${r.cpuSeconds.toFixed(2)} | ${((r.cpuSeconds / (r.extrapolated ? r.syncsPerSecond * (passLimitMs / 1000) : r.hpas)) * 1000).toFixed(2)} | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB | ${r.errors} |`,
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
