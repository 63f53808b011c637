// Adapter benchmark against the real local control plane and a real Prometheus (issue 5).
//
//   npx tsx scripts/bench/adapter-load.ts [--sizes 10,100,1000] [--duration 10] [--connections 16]
//        [--sequential 300] [--no-incumbent] [--no-aggregator] [--json rows.json] [--raw prefix]
//        [--shapes same,distinct] [--settle 15] [--tsx]
//   --shapes: `same` sends one request on every connection (concurrent answers coalesce);
//   `distinct` gives each connection a selector of its own (a different subset of the pods, as
//   separate HPAs ask), so nothing coalesces. Our adapter runs compiled (dist/cli.js; npm run
//   build first) unless --tsx. --json writes one row per (shape, pods, target) with the target's
//   RSS after its run.
//   --raw writes each one-at-a-time run's per-request milliseconds (client total, and for our
//   adapter its Server-Timing total and Prometheus wait) to <prefix>-<target>-<pods>.json.
//
// For each size N it creates a kwok Deployment of N pods, has one loopback exporter give every
// pod a `bench_http_requests_total` counter that Prometheus scrapes, and asks for
//   GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/bench-adapter/pods/*/bench_http_requests?labelSelector=app=bench-N
// with an authorized client certificate (the harness's admin), from:
//   prom-hpa            our adapter (the harness's adapter addon: own process, default rules);
//   prometheus-adapter  the incumbent, built from its Go module (scripts/bench/prometheus-adapter.sh),
//                       same rules file, same Prometheus, same cluster;
//   prometheus alone    the PromQL the rule renders, POSTed straight to Prometheus: the lower bound;
//   via aggregator      our adapter through kube-apiserver, as an HPA controller reads it.
// Two measurements per row: `sequential` requests one at a time (latency without queueing; the
// adapter's overhead is its p50/p99 minus Prometheus alone's) and autocannon with
// `connections` concurrent connections for `duration` seconds (requests/s, p50, p99). The share
// of time our adapter spends waiting on Prometheus comes from its own /metrics: the sum of its
// Prometheus call durations over the sum of its request durations during the autocannon run.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs, promisify } from "node:util";
import autocannon from "autocannon";
import { Client } from "undici";
import { adapterAddon, type AdapterAddonHandle } from "../cluster/addons/adapter.js";
import type { ClusterHandle } from "../cluster/handle.js";
import { allocatePorts } from "../cluster/ports.js";
import { startProcess, track, type Component } from "../cluster/process.js";
import { okProbe } from "../cluster/http.js";
import { REPO_ROOT } from "../cluster/binaries.js";
import { adapterRulesConfig, SHIPPED_RATE_INTERVAL } from "../../src/manifests/adapter-config.js";
import {
  BENCH_METRIC,
  apply,
  benchCluster,
  kwokDeployment,
  log,
  machine,
  namespaceObject,
  percentile,
  startExporter,
  sumSeries,
  waitForSamples,
  waitRunning,
  type PodRef,
} from "./support.js";
import type { SequentialJob, SequentialResult } from "./sequential-client.js";

/** The machine and its load average when the timed runs began. */
let runsStartedOn = "";

const NAMESPACE = "bench-adapter";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    sequential: { type: "string", default: "300" },
    "no-incumbent": { type: "boolean", default: false },
    "no-aggregator": { type: "boolean", default: false },
    json: { type: "string" },
    raw: { type: "string" },
    shapes: { type: "string", default: "same,distinct" },
    settle: { type: "string", default: "15" },
    tsx: { type: "boolean", default: false },
  },
});
const sizes = flags.sizes.split(",").map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--sizes: whole numbers >= 1, got ${flags.sizes}`);
const durationS = Number(flags.duration);
const connections = Number(flags.connections);
const sequentialN = Number(flags.sequential);
const settleS = Number(flags.settle);
const shapes = flags.shapes.split(",").map((s) => s.trim());
if (shapes.length === 0 || shapes.some((s) => s !== "same" && s !== "distinct"))
  throw new Error(`--shapes: same, distinct or both, got ${flags.shapes}`);
type Shape = "same" | "distinct";
for (const [name, v] of [
  ["--duration", durationS],
  ["--connections", connections],
  ["--sequential", sequentialN],
  ["--settle", settleS + 1],
] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a whole number >= 1`);

interface Target {
  name: string;
  /** Origin, e.g. https://127.0.0.1:1234 */
  origin: string;
  tls?: { cert: string; key: string };
  /** The process whose RSS is reported, when it is one of ours to read. */
  pid?: number;
  /** `conn`: the connection's own selector (distinct shape), else every connection asks the same. */
  request(
    n: number,
    conn?: number,
  ): {
    path: string;
    method: "GET" | "POST";
    body?: string;
    headers?: Record<string, string>;
  };
  /** Items in an answer (checks the target answers for all N pods). */
  count(body: string): number;
}

interface Row {
  shape: Shape;
  size: number;
  target: string;
  /** VmRSS and VmHWM of the target's process after its loaded run. */
  rssBytes?: number;
  peakRssBytes?: number;
  seqP50: number;
  seqP99: number;
  /** prom-hpa only: per request, client-side total minus the adapter's Prometheus time. */
  overheadP50?: number;
  overheadP99?: number;
  /** prom-hpa only: the same, from the adapter's own request duration (no client, TLS or socket). */
  serverOverheadP50?: number;
  serverOverheadP99?: number;
  /** prom-hpa only: a round trip that asks nothing of Prometheus (GET /version, same TLS client). */
  roundTripP50?: number;
  roundTripP99?: number;
  /** prom-hpa only: Prometheus time / total, one request at a time. */
  seqPromShare?: number;
  /** prom-hpa only: mean time sending the answer after Server-Timing was written (from /metrics). */
  sendMeanMs?: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  promShare?: number;
  coalesced?: number;
}

const execFileP = promisify(execFile);

/**
 * `count` requests one at a time, made by a small child process of their own
 * (sequential-client.ts) so that this process' own work (autocannon's bookkeeping, its garbage)
 * never lands inside a timed request.
 */
async function sequential(t: Target, n: number, count: number, ours: boolean): Promise<SequentialResult> {
  const job: SequentialJob = {
    origin: t.origin,
    tls: t.tls,
    request: t.request(n),
    count,
    serverTiming: ours,
  };
  const dir = await mkdtemp(join(tmpdir(), "prom-hpa-bench-"));
  try {
    const file = join(dir, "job.json");
    await writeFile(file, JSON.stringify(job));
    const { stdout } = await execFileP(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "scripts", "bench", "sequential-client.ts"), file],
      { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
    );
    const result = JSON.parse(stdout) as SequentialResult | { error: string };
    if ("error" in result) throw new Error(`${t.name}: ${result.error}`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function once(t: Target, n: number): Promise<string> {
  const client = new Client(t.origin, {
    connect: t.tls ? { ...t.tls, rejectUnauthorized: false } : undefined,
  });
  try {
    const req = t.request(n);
    const res = await client.request({
      path: req.path,
      method: req.method,
      body: req.body,
      headers: req.headers,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${t.name}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return text;
  } finally {
    await client.close();
  }
}

async function cannon(t: Target, n: number, seconds: number, shape: Shape): Promise<autocannon.Result> {
  const req = t.request(n);
  let conn = 0;
  return autocannon({
    url: `${t.origin}${req.path}`,
    method: req.method,
    body: req.body,
    headers: req.headers,
    connections,
    duration: seconds,
    tlsOptions: t.tls,
    // Distinct: each connection keeps asking its own selector, as one HPA does.
    ...(shape === "distinct"
      ? {
          setupClient: (client: { setRequest(r: object): void }) =>
            client.setRequest({ ...t.request(n, conn++ % connections) }),
        }
      : {}),
  } as autocannon.Options);
}

// One keep-alive connection per adapter for reading its /metrics around the loaded runs, as a
// scraper holds one: a handshake per read would be work of the benchmark's, not the adapter's.
const metricsClients = new Map<string, Client>();
async function adapterMetrics(origin: string, tls: { cert: string; key: string }): Promise<string> {
  let client = metricsClients.get(origin);
  if (client === undefined) {
    client = new Client(origin, { connect: { ...tls, rejectUnauthorized: false }, pipelining: 1 });
    metricsClients.set(origin, client);
  }
  const res = await client.request({ path: "/metrics", method: "GET" });
  return await res.body.text();
}

/** VmRSS (or VmHWM, the peak) of a process in bytes, when it can be read. */
function memBytes(pid: number | undefined, field: "VmRSS" | "VmHWM" = "VmRSS"): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
function cpuModel(): string {
  return /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
}
const mb = (b: number | undefined): string => (b === undefined ? "?" : `${(b / 1048576).toFixed(0)} MB`);
function rssMb(pid: number | undefined): string {
  return mb(memBytes(pid));
}

/**
 * The pods connection `conn` of `connections` selects in the distinct shape: all but a run of
 * shards (pods carry `bench-shard` = their index mod `shards`), so every connection asks for
 * its own set of about the same size.
 */
function excludedShards(n: number, conn: number): number[] {
  const shards = Math.min(n, connections);
  const round = Math.floor(conn / shards);
  return Array.from({ length: Math.min(round + 1, shards - 1) }, (_, i) => (conn + i) % shards);
}
const SHARD_LABEL = "bench-shard";

/** The prometheus-adapter binary built from its Go module, or why not. */
async function buildIncumbent(): Promise<{ bin: string } | { error: string }> {
  try {
    log("building (or finding) prometheus-adapter; the first build takes minutes");
    const { stdout } = await execFileP(
      "bash",
      [join(REPO_ROOT, "scripts", "bench", "prometheus-adapter.sh")],
      {
        timeout: 40 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { bin: stdout.trim().split("\n").pop() ?? "" };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return {
      error: `build failed: ${(e.stderr ?? e.message ?? String(err)).trim().split("\n").slice(-5).join(" / ")}`,
    };
  }
}

/**
 * prometheus-adapter as installed by its manifests, plus `extraArgs`. It lists the pods of a
 * `*` + labelSelector request from kube-apiserver on every request, through client-go's
 * client-side rate limiter (5 requests/s, bursts of 10, unless --client-qps/--client-burst).
 */
async function startIncumbent(
  cluster: ClusterHandle,
  bin: string,
  name: string,
  extraArgs: string[],
  configFile: string,
  admin: { cert: string; key: string },
): Promise<{ origin: string; component: Component } | { error: string }> {
  const cert = await cluster.issueServingCert({ service: "prometheus-adapter", namespace: "bench" });
  const { port } = await allocatePorts(["port"]);
  const component = startProcess({
    name,
    command: bin,
    args: [
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--tls-cert-file=${cert.certFile}`,
      `--tls-private-key-file=${cert.keyFile}`,
      `--lister-kubeconfig=${cluster.kubeconfigPath}`,
      `--authentication-kubeconfig=${cluster.kubeconfigPath}`,
      `--authorization-kubeconfig=${cluster.kubeconfigPath}`,
      `--prometheus-url=${cluster.prometheusUrl}`,
      // Our adapter POSTs; the incumbent GETs by default, which 1,000 pod names would overflow.
      "--prometheus-verb=POST",
      "--metrics-relist-interval=5s",
      `--config=${configFile}`,
      "--v=1",
      ...extraArgs,
    ],
    logFile: join(cluster.info.logsDir, `${name.replace(/[^a-z0-9-]+/g, "_")}.log`),
  });
  track(component);
  const origin = `https://127.0.0.1:${port}`;
  try {
    await component.waitHealthy({
      check: okProbe(`${origin}/healthz`, { ca: cert.caPem, ...admin }),
      timeoutMs: 120_000,
    });
  } catch (err) {
    await component.stop();
    return { error: `did not become healthy: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { origin, component };
}

const INCUMBENT_VARIANTS = [
  { name: "prometheus-adapter", args: [] as string[] },
  // Its client-side rate limit lifted, to compare the serving paths rather than the limiter.
  { name: "prometheus-adapter --client-qps=1000", args: ["--client-qps=1000", "--client-burst=1000"] },
];

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

async function main(): Promise<void> {
  const total = sizes.reduce((a, b) => a + b, 0);
  const nodes = Math.ceil(total / 100) + 1;
  const started = new Date();
  log(`machine: ${machine()}`);
  const bench = await benchCluster({ nodes });
  const { cluster } = bench;
  const stops: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of metricsClients.values()) await c.close().catch(() => undefined);
    metricsClients.clear();
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    await bench.stop();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    const admin = {
      cert: readFileSync(cluster.info.pki.admin.certFile, "utf8"),
      key: readFileSync(cluster.info.pki.admin.keyFile, "utf8"),
    };
    // Pods first, so the adapter's informer starts with them.
    await apply(cluster, [
      namespaceObject(NAMESPACE),
      ...sizes.map((n) => kwokDeployment(NAMESPACE, `bench-${n}`, n)),
    ]);
    // A reused cluster keeps running: leave it as it was.
    if (bench.reused)
      stops.push(
        async () => void (await cluster.kubectl(["delete", "namespace", NAMESPACE, "--wait=false"])),
      );
    const podsAt = Date.now();
    const pods = await waitRunning(cluster, NAMESPACE, total, 900_000);
    log(`${total} pods Running in ${((Date.now() - podsAt) / 1000).toFixed(0)}s`);
    const exporter = await startExporter(cluster, "adapter");
    stops.push(() => exporter.stop());
    await exporter.setPods(pods);
    const byApp = new Map<number, PodRef[]>();
    for (const n of sizes)
      byApp.set(
        n,
        pods.filter((p) => p.labels.app === `bench-${n}`).sort((a, b) => a.name.localeCompare(b.name)),
      );
    // The distinct shape's shards, labelled before the adapters start so their caches have them.
    const shardOf = new Map<string, number>();
    if (shapes.includes("distinct")) {
      for (const n of sizes) {
        const group = byApp.get(n) ?? [];
        const shards = Math.min(n, connections);
        for (let k = 0; k < shards; k++) {
          const names = group.filter((_, i) => i % shards === k).map((p) => p.name);
          for (const name of names) shardOf.set(name, k);
          if (names.length > 0)
            await cluster.kubectl([
              "label",
              "pods",
              "-n",
              NAMESPACE,
              "--overwrite",
              ...names,
              `${SHARD_LABEL}=${k}`,
            ]);
        }
      }
      log(`pods labelled ${SHARD_LABEL} for the distinct shape`);
    }

    // The addon's start() resolves its own handle type (Addon declares the common part).
    const adapter = (await adapterAddon({ relistInterval: "5s", compiled: !flags.tsx }).start(
      cluster,
    )) as AdapterAddonHandle;
    stops.push(() => adapter.stop());
    const adapterPid = adapter.pids?.[0];
    log(`prom-hpa adapter at ${adapter.url} (${flags.tsx ? "src/cli.ts under tsx" : "dist/cli.js"})`);

    const dir = join(cluster.info.runDir, "bench");
    await mkdir(dir, { recursive: true });
    const configFile = join(dir, "rules.yaml");
    await writeFile(configFile, adapterRulesConfig());

    const incumbents: Array<{ name: string; origin: string; component: Component }> = [];
    const notMeasured: string[] = [];
    if (!flags["no-incumbent"]) {
      const built = await buildIncumbent();
      if ("error" in built) notMeasured.push(`prometheus-adapter: not measured (${built.error})`);
      else {
        for (const v of INCUMBENT_VARIANTS) {
          const started = await startIncumbent(cluster, built.bin, v.name, v.args, configFile, admin);
          if ("error" in started) notMeasured.push(`${v.name}: not measured (${started.error})`);
          else {
            stops.push(() => started.component.stop());
            incumbents.push({ name: v.name, ...started });
            log(`${v.name} at ${started.origin}`);
          }
        }
      }
      for (const m of notMeasured) log(m);
    }

    // rate() over the rule's window needs two samples of every series.
    const rateQuery = `sum(rate(${BENCH_METRIC}_total{namespace="${NAMESPACE}"}[${SHIPPED_RATE_INTERVAL}])) by (pod)`;
    await waitForSamples(cluster, rateQuery, total, 180_000);
    log("Prometheus has a rate for every pod");

    const selector = (n: number, conn?: number) =>
      conn === undefined
        ? `app=bench-${n}`
        : `app=bench-${n},${SHARD_LABEL} notin (${excludedShards(n, conn).join(",")})`;
    const metricPath = (n: number, conn?: number) =>
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${NAMESPACE}/pods/*/${BENCH_METRIC}?labelSelector=${encodeURIComponent(selector(n, conn))}`;
    const itemCount = (body: string) => (JSON.parse(body) as { items?: unknown[] }).items?.length ?? -1;
    const promql = (n: number, conn?: number) => {
      const excluded = conn === undefined ? [] : excludedShards(n, conn);
      const names = (byApp.get(n) ?? [])
        .filter((p) => !excluded.includes(shardOf.get(p.name) ?? -1))
        .map((p) => p.name)
        .sort();
      return `sum(rate(${BENCH_METRIC}_total{namespace="${NAMESPACE}",pod=~"${names.join("|")}"}[${SHIPPED_RATE_INTERVAL}])) by (pod)`;
    };
    const targets: Target[] = [
      {
        name: "prom-hpa",
        origin: adapter.url,
        tls: admin,
        pid: adapterPid,
        request: (n, conn) => ({ path: metricPath(n, conn), method: "GET" }),
        count: itemCount,
      },
    ];
    for (const inc of incumbents) {
      targets.push({
        name: inc.name,
        origin: inc.origin,
        tls: admin,
        pid: inc.component.pid,
        request: (n, conn) => ({ path: metricPath(n, conn), method: "GET" }),
        count: itemCount,
      });
    }
    targets.push({
      name: "Prometheus alone",
      origin: cluster.prometheusUrl,
      request: (n, conn) => ({
        path: "/api/v1/query",
        method: "POST",
        body: new URLSearchParams({ query: promql(n, conn) }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      count: (body) => (JSON.parse(body) as { data?: { result?: unknown[] } }).data?.result?.length ?? -1,
    });
    if (!flags["no-aggregator"]) {
      targets.push({
        name: "prom-hpa via aggregator",
        origin: cluster.apiserverUrl,
        tls: admin,
        request: (n, conn) => ({ path: metricPath(n, conn), method: "GET" }),
        count: itemCount,
      });
    }

    // Every target must answer for all N pods before anything is timed (discovery, informers).
    for (const t of targets) {
      for (const n of sizes) {
        const deadline = Date.now() + 120_000;
        for (;;) {
          let got = -1;
          let why = "";
          try {
            got = t.count(await once(t, n));
          } catch (err) {
            why = err instanceof Error ? err.message : String(err);
          }
          if (got === n) break;
          if (Date.now() > deadline) throw new Error(`${t.name} answers ${got} of ${n} pods ${why}`);
          await sleep(2000);
        }
      }
      log(`${t.name}: answers for every pod`);
    }

    // Let the cluster settle (rates stable, controllers done with the new objects) before timing.
    await sleep(settleS * 1000);
    const idle = targets
      .filter((t) => t.pid !== undefined)
      .map((t) => `${t.name} ${mb(memBytes(t.pid))}`)
      .join(", ");
    log(`RSS idle, before the runs: ${idle}`);
    runsStartedOn = machine();
    log(`before the runs: ${runsStartedOn}`);
    const rows: Row[] = [];
    for (const shape of shapes as Shape[])
      for (const n of sizes) {
        for (const t of targets) {
          if (shape === "distinct") {
            await cannon(t, n, 2, shape); // warm-up
            await sleep(2000);
            const r = await cannon(t, n, durationS, shape);
            const row: Row = {
              shape,
              size: n,
              target: t.name,
              seqP50: NaN,
              seqP99: NaN,
              rps: r.requests.average,
              p50: r.latency.p50,
              p99: r.latency.p99,
              errors: r.errors + r.timeouts + r.non2xx,
              rssBytes: memBytes(t.pid),
              peakRssBytes: memBytes(t.pid, "VmHWM"),
            };
            rows.push(row);
            log(
              `distinct selectors, ${n} pods, ${t.name}: ${row.rps.toFixed(0)} req/s, p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms, RSS ${mb(row.rssBytes)}${row.errors ? `, ${row.errors} errors` : ""}`,
            );
            continue;
          }
          await cannon(t, n, 2, shape); // warm-up: JIT, connections, caches
          // autocannon stops with requests still in the target's hands: let them finish before
          // anything is timed or counted.
          await sleep(2000);
          const ours = t.name === "prom-hpa";
          const seqBefore = ours ? await adapterMetrics(t.origin, admin) : "";
          const seq = await sequential(t, n, n >= 1000 ? Math.ceil(sequentialN / 3) : sequentialN, ours);
          if (flags.raw)
            await writeFile(`${flags.raw}-${t.name.replace(/\W+/g, "_")}-${n}.json`, JSON.stringify(seq));
          const sorted = [...seq.total].sort((a, b) => a - b);
          const before = ours ? await adapterMetrics(t.origin, admin) : "";
          const r = await cannon(t, n, durationS, shape);
          const row: Row = {
            shape,
            rssBytes: memBytes(t.pid),
            peakRssBytes: memBytes(t.pid, "VmHWM"),
            size: n,
            target: t.name,
            seqP50: percentile(sorted, 50),
            seqP99: percentile(sorted, 99),
            rps: r.requests.average,
            p50: r.latency.p50,
            p99: r.latency.p99,
            errors: r.errors + r.timeouts + r.non2xx,
          };
          if (ours) {
            // The machine's floor under "at the client": TLS, loopback, both event loops, no work.
            const bare = await sequential(
              {
                ...t,
                request: () => ({ ...t.request(n), path: "/version", method: "GET", body: undefined }),
              },
              n,
              sequentialN,
              false,
            );
            const bareSorted = [...bare.total].sort((a, b) => a - b);
            row.roundTripP50 = percentile(bareSorted, 50);
            row.roundTripP99 = percentile(bareSorted, 99);
            const overhead = seq.total.map((ms, i) => ms - (seq.prom[i] ?? 0)).sort((a, b) => a - b);
            row.overheadP50 = percentile(overhead, 50);
            row.overheadP99 = percentile(overhead, 99);
            const inside = seq.server.map((ms, i) => ms - (seq.prom[i] ?? 0)).sort((a, b) => a - b);
            row.serverOverheadP50 = percentile(inside, 50);
            row.serverOverheadP99 = percentile(inside, 99);
            const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
            row.seqPromShare = sum(seq.prom) / sum(seq.total);
            // Server-Timing is written with the headers, so its total leaves out sending the body;
            // the request histogram (observed after the send) has it: the mean difference is that.
            const custom = (l: string) => l.includes('group="custom.metrics.k8s.io"');
            const hist = (text: string, suffix: string) =>
              sumSeries(text, `prom_hpa_adapter_request_duration_seconds_${suffix}`, custom);
            const histMeanMs =
              ((hist(before, "sum") - hist(seqBefore, "sum")) /
                (hist(before, "count") - hist(seqBefore, "count"))) *
              1000;
            row.sendMeanMs = histMeanMs - sum(seq.server) / seq.server.length;
            const after = await adapterMetrics(t.origin, admin);
            const query = (l: string) => l.includes('endpoint="query"');
            const d = (text: string, name: string, f: (l: string) => boolean) => sumSeries(text, name, f);
            const reqSum =
              d(after, "prom_hpa_adapter_request_duration_seconds_sum", custom) -
              d(before, "prom_hpa_adapter_request_duration_seconds_sum", custom);
            const promSum =
              d(after, "prom_hpa_adapter_prometheus_request_duration_seconds_sum", query) -
              d(before, "prom_hpa_adapter_prometheus_request_duration_seconds_sum", query);
            row.promShare = reqSum > 0 ? promSum / reqSum : NaN;
            row.coalesced =
              d(after, "prom_hpa_adapter_prometheus_coalesced_total", query) -
              d(before, "prom_hpa_adapter_prometheus_coalesced_total", query);
          }
          rows.push(row);
          log(
            `${n} pods, ${t.name}: ${row.rps.toFixed(0)} req/s, p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms; one at a time p50 ${fmt(row.seqP50)} ms, p99 ${fmt(row.seqP99)} ms${row.errors ? `, ${row.errors} errors` : ""}`,
          );
        }
      }

    // ---- report
    const out: string[] = [];
    out.push(
      `adapter benchmark, ${started.toISOString()} (${durationS}s × ${connections} connections per row)`,
    );
    out.push(`machine before the runs: ${runsStartedOn}`);
    out.push(`machine after the runs: ${machine()}`);
    out.push(
      `RSS after the runs: prom-hpa ${rssMb(adapterPid)}${incumbents.map((i) => `, ${i.name} ${rssMb(i.component.pid)}`).join("")}`,
    );
    out.push(...notMeasured);
    out.push("");
    out.push(`RSS idle, before the runs: ${idle}`);
    out.push(
      "| shape | pods | target | req/s | p50 ms | p99 ms | RSS after (peak) | one at a time: p50 / p99 ms | overhead p50 / p99 ms (at the client; in the handler) | Prometheus share (one at a time / loaded) | coalesced | errors |",
    );
    out.push(
      "| ----- | ---- | ------ | ----- | ------ | ------ | ---------------- | --------------------------- | ----------------------------------------------------- | ----------------------------------------- | --------- | ------ |",
    );
    const pct = (x: number | undefined) => (x === undefined ? "" : `${(x * 100).toFixed(0)}%`);
    for (const r of rows) {
      out.push(
        `| ${r.shape} | ${r.size} | ${r.target} | ${r.rps.toFixed(0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.rssBytes === undefined ? "" : `${mb(r.rssBytes)} (${mb(r.peakRssBytes)})`} | ${r.shape === "same" ? `${fmt(r.seqP50)} / ${fmt(r.seqP99)}` : ""} | ${r.overheadP50 === undefined ? "" : `${fmt(r.overheadP50)} / ${fmt(r.overheadP99 ?? NaN)}; ${fmt(r.serverOverheadP50 ?? NaN)} / ${fmt(r.serverOverheadP99 ?? NaN)}`} | ${r.seqPromShare === undefined ? "" : `${pct(r.seqPromShare)} / ${pct(r.promShare)}`} | ${r.coalesced ?? ""} | ${r.errors} |`,
      );
    }
    out.push("");
    out.push(
      "Overhead (one request at a time) = each request's time at the client, or inside the adapter, minus the time the adapter waited on Prometheus (both from its Server-Timing header). Target at 100 pods: p99 < 2 ms.",
    );
    for (const n of sizes) {
      const d = (target: string) =>
        rows.find((r) => r.shape === "distinct" && r.size === n && r.target === target);
      const ours = d("prom-hpa");
      const prom = d("Prometheus alone");
      if (!ours || !prom) continue;
      const parts = [
        `${(ours.rps / prom.rps).toFixed(2)}× Prometheus alone's req/s (p99 ${fmt(ours.p99)} vs ${fmt(prom.p99)} ms)`,
      ];
      for (const inc of incumbents) {
        const r = d(inc.name);
        if (r)
          parts.push(
            `${r.rps > 0 ? `${(ours.rps / r.rps).toFixed(1)}×` : "∞ ×"} ${inc.name}'s (p99 ${fmt(ours.p99)} vs ${fmt(r.p99)} ms)`,
          );
      }
      out.push(`- distinct selectors, ${n} pods: ${parts.join("; ")}`);
    }
    for (const n of sizes) {
      const ours = rows.find((r) => r.shape === "same" && r.size === n && r.target === "prom-hpa");
      const prom = rows.find((r) => r.shape === "same" && r.size === n && r.target === "Prometheus alone");
      if (!ours || !prom) continue;
      const parts = [
        `${n} pods: overhead p50 ${fmt(ours.overheadP50 ?? NaN)} ms, p99 ${fmt(ours.overheadP99 ?? NaN)} ms (inside the adapter's handler: p50 ${fmt(ours.serverOverheadP50 ?? NaN)} ms, p99 ${fmt(ours.serverOverheadP99 ?? NaN)} ms; sending the answer after that: ${fmt(ours.sendMeanMs ?? NaN)} ms on average; a bare round trip, GET /version: p50 ${fmt(ours.roundTripP50 ?? NaN)} ms, p99 ${fmt(ours.roundTripP99 ?? NaN)} ms)`,
        `one at a time p50 ${fmt(ours.seqP50)} ms vs Prometheus alone ${fmt(prom.seqP50)} ms`,
        `req/s ${(ours.rps / prom.rps).toFixed(2)}× Prometheus alone's`,
      ];
      for (const inc of incumbents) {
        const r = rows.find((x) => x.shape === "same" && x.size === n && x.target === inc.name);
        if (r)
          parts.push(
            `${r.rps > 0 ? `${(ours.rps / r.rps).toFixed(1)}×` : "∞ ×"} ${inc.name}'s req/s (p99 ${fmt(ours.p99)} vs ${r.rps > 0 ? fmt(r.p99) : "—"} ms)`,
          );
      }
      out.push(`- ${parts.join("; ")}`);
    }
    console.log(out.join("\n"));
    if (flags.json)
      await writeFile(
        flags.json,
        JSON.stringify(
          rows.map((r) => ({
            pods: r.size,
            target: r.target,
            shape: r.shape,
            reqPerSec: r.rps,
            p99Ms: r.p99,
            rssBytes: r.rssBytes ?? null,
            peakRssBytes: r.peakRssBytes ?? null,
            p50Ms: r.p50,
            errors: r.errors,
            ...(r.shape === "same" ? { oneAtATimeP50Ms: r.seqP50, oneAtATimeP99Ms: r.seqP99 } : {}),
            ...(r.coalesced !== undefined ? { coalesced: r.coalesced } : {}),
            startedAt: started.toISOString(),
            cpu: cpuModel(),
            loadBefore: runsStartedOn,
          })),
          null,
          2,
        ),
      );
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
