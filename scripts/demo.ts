// `npm start` (= `npm run demo`): the seed walkthrough, end to end on this machine.
//
// Brings up the local control plane (kube-controller-manager's HPA controller off), installs
// prom-hpa into it (the adapter behind four APIServices, our autoscaler with shortened sync
// period and legacy delays), deploys hello-world with the seed's HPA in autoscaling/v2 form,
// has the pod runner play its pods, and drives it with the seed scenario's shape of load while
// printing what the HPA sees. At the end it leaves a report folder (timeline.json, chart.svg,
// the HPA's Events and last `kubectl describe hpa`), tears everything down and prints that
// folder's absolute path as its last line. Ctrl-C stops the load, keeps the report so far and
// tears down.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, CommanderError } from "commander";
import { z } from "zod";
import {
  formatIssues,
  kubeHpaSamplers,
  lineProgress,
  metricValue,
  loadScenarioFile,
  renderChartSvg,
  renderSummaryTable,
  renderTimelineJson,
  runScenario,
  scenarioDuration,
  summarize,
  type ProgressReporter,
  type Sample,
  type Timeline,
} from "../loadtest/generator/index.js";
import { parseDurationField } from "../src/kube/duration.js";
import { metricStatusSchema } from "../src/kube/objects.js";
import { customMetricsHpa, HELLO_WORLD } from "../src/manifests/examples.js";
import { adapterAddon } from "./cluster/addons/adapter.js";
import { autoscalerAddon } from "./cluster/addons/autoscaler.js";
import { applyObjects } from "./cluster/addons/common.js";
import { workloadAddon, type WorkloadAddonHandle } from "./cluster/addons/workload.js";
import { REPO_ROOT, which } from "./cluster/binaries.js";
import { startCluster, type Cluster } from "./cluster/cluster.js";
import { leaveSignalsToCaller } from "./cluster/process.js";

export interface DemoOptions {
  scenarioFile: string;
  syncPeriod: string;
  upscaleDelay: string;
  downscaleDelay: string;
  downscaleStabilization: string;
  /** The adapter rules' rate window. */
  rateWindow: string;
  burnMs: number;
  cpuRequest: string;
  /** After the scenario, keep sampling until replicas are back at minReplicas, at most this long (s). */
  settleSeconds: number;
  /** Also print `kubectl describe hpa` this often (s), besides at every rescale. */
  describeEverySeconds: number;
  reportDir: string;
}

const ENV_PREFIX = "PROM_HPA_DEMO_";

/** Flag values, with PROM_HPA_DEMO_<FLAG> environment variables as fallbacks, checked by name. */
export function demoOptions(raw: Record<string, string | undefined>, now = new Date()): DemoOptions {
  const get = (flag: string, fallback: string): string =>
    raw[flag] ??
    process.env[`${ENV_PREFIX}${flag.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] ??
    fallback;
  const goDuration = (flag: string, fallback: string): string => {
    const v = get(flag, fallback);
    parseDurationField(v, `--${kebab(flag)}`);
    return v;
  };
  const seconds = (flag: string, fallback: string): number =>
    parseDurationField(get(flag, fallback), `--${kebab(flag)}`) / 1000;
  const burn = Number(get("burnMs", "10"));
  if (!Number.isFinite(burn) || burn < 0 || burn > 1000)
    throw new Error(
      `--burn-ms must be a number of milliseconds in 0..1000, got ${JSON.stringify(get("burnMs", "10"))}`,
    );
  const cpuRequest = get("cpuRequest", "100m");
  if (!/^\d+(\.\d+)?m?$/.test(cpuRequest))
    throw new Error(
      `--cpu-request must be a CPU quantity such as 100m or 0.5, got ${JSON.stringify(cpuRequest)}`,
    );
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return {
    scenarioFile: resolve(get("scenario", join(REPO_ROOT, "loadtest", "scenarios", "demo.yaml"))),
    syncPeriod: goDuration("syncPeriod", "5s"),
    upscaleDelay: goDuration("upscaleDelay", "20s"),
    downscaleDelay: goDuration("downscaleDelay", "40s"),
    downscaleStabilization: goDuration("downscaleStabilization", "0s"),
    rateWindow: goDuration("rateWindow", "30s"),
    burnMs: burn,
    cpuRequest,
    settleSeconds: seconds("settle", "3m"),
    describeEverySeconds: seconds("describeEvery", "60s"),
    reportDir: resolve(get("reportDir", join(REPO_ROOT, "reports", `demo-${stamp}`))),
  };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const eventList = z.object({
  items: z.array(
    z.looseObject({
      type: z.string().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      count: z.number().nullish(),
      firstTimestamp: z.string().nullish(),
      lastTimestamp: z.string().nullish(),
      eventTime: z.string().nullish(),
      source: z.looseObject({ component: z.string().optional() }).nullish(),
      reportingComponent: z.string().nullish(),
    }),
  ),
});
export type HpaEvent = z.infer<typeof eventList>["items"][number];

const hpaMinimal = z.object({
  spec: z.object({ minReplicas: z.number().optional() }),
  status: z
    .object({
      currentReplicas: z.number().optional(),
      currentMetrics: z.array(metricStatusSchema).nullish(),
    })
    .optional(),
});

async function main(argv: string[]): Promise<number> {
  const program = new Command("demo")
    .description(
      "The seed walkthrough on this machine: local control plane, prom-hpa adapter and autoscaler, hello-world under load.\n" +
        `Every option can also be set as an environment variable ${ENV_PREFIX}<OPTION> (e.g. ${ENV_PREFIX}SYNC_PERIOD=5s).`,
    )
    .option("--scenario <file>", "load scenario (YAML) (default: loadtest/scenarios/demo.yaml)")
    .option("--sync-period <duration>", "autoscaler --sync-period (seed: 30s) (default: 5s)")
    .option("--upscale-delay <duration>", "autoscaler --upscale-delay (seed: 3m) (default: 20s)")
    .option("--downscale-delay <duration>", "autoscaler --downscale-delay (seed: 5m) (default: 40s)")
    .option(
      "--downscale-stabilization <duration>",
      "autoscaler --downscale-stabilization (the seed's release had none) (default: 0s)",
    )
    .option("--rate-window <duration>", "rate window of the adapter's rules (shipped: 1m) (default: 30s)")
    .option("--burn-ms <ms>", "CPU milliseconds each request to hello-world burns (default: 10)")
    .option(
      "--cpu-request <quantity>",
      "hello-world's CPU request (manifests/examples: 500m) (default: 100m)",
    )
    .option(
      "--settle <duration>",
      "after the scenario, wait at most this long for replicas to return to minReplicas (default: 3m)",
    )
    .option(
      "--describe-every <duration>",
      "print `kubectl describe hpa` this often, besides at every rescale (default: 60s)",
    )
    .option("--report-dir <dir>", "report folder (default reports/demo-<time>)")
    .exitOverride();
  // Defaults are applied in demoOptions, after the environment variables that stand in for flags.
  program.parse(argv);
  const opts = demoOptions(program.opts<Record<string, string | undefined>>());
  const scenario = await loadScenarioFile(opts.scenarioFile);
  if (!scenario.ok) {
    console.error(formatIssues(opts.scenarioFile, scenario.issues));
    return 2;
  }
  const say = (line: string) => console.log(line);
  const started = Date.now();
  const clock = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;

  say("prom-hpa demo: the seed walkthrough on one machine");
  say(
    `  autoscaler: our own (kube-controller-manager's HPA controller is off), --sync-period=${opts.syncPeriod} ` +
      `--upscale-delay=${opts.upscaleDelay} --downscale-delay=${opts.downscaleDelay} --downscale-stabilization=${opts.downscaleStabilization}`,
  );
  say(
    "    (shortened from the seed's 30s sync, 3m upscale and 5m downscale delays so the demo takes minutes)",
  );
  say(
    `  hello-world: requests ${opts.cpuRequest} CPU (manifests/examples: 500m), each request burns ${opts.burnMs} ms of CPU; ` +
      `adapter rate window ${opts.rateWindow} (shipped: 1m)`,
  );
  say(
    `  load: ${scenario.scenario.name} (${opts.scenarioFile}), ${scenarioDuration(scenario.scenario)}s, then up to ${opts.settleSeconds}s for replicas to return to min`,
  );

  // Ctrl-C: stop the load, keep the report, tear down. A second Ctrl-C kills everything now.
  leaveSignalsToCaller();
  const abort = new AbortController();
  let interrupted = false;
  const running: { cluster?: Cluster } = {};
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      say(`${sig} again: killing everything now`);
      process.exit(130);
    }
    interrupted = true;
    say(`${sig}: stopping the load and tearing down (Ctrl-C again to kill everything at once)`);
    abort.abort();
    // Still starting up: nothing graceful to wait for; the harness kills what it started on exit.
    if (running.cluster === undefined) process.exit(130);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);

  // A fresh machine: the machine packages first (what `npm test` does too), then startCluster
  // builds the pinned Kubernetes binaries when they are not cached yet.
  if (process.env.PROM_HPA_PROMETHEUS === undefined && which("prometheus") === undefined) {
    say(
      `${clock()} Prometheus is not installed: running scripts/install-deps.sh (Debian's prometheus package; the demo runs its own instance)`,
    );
    const code = await new Promise<number>((done) => {
      const child = spawn("bash", [join(REPO_ROOT, "scripts", "install-deps.sh")], { stdio: "inherit" });
      child.on("error", () => done(127));
      child.on("close", (c) => done(c ?? 1));
    });
    if (code !== 0) {
      say(
        "scripts/install-deps.sh failed; install Prometheus (or set PROM_HPA_PROMETHEUS to its binary) and run again",
      );
      return 1;
    }
  }
  say(
    `${clock()} (where they are not cached yet, the pinned Kubernetes binaries are built from their Go modules first: about 10 minutes, once)`,
  );

  const workload = workloadAddon({ burnMs: opts.burnMs, cpuRequest: opts.cpuRequest });
  say(`${clock()} starting the local control plane, the adapter, the autoscaler and hello-world`);
  const c = await startCluster({
    hpaController: false,
    runDir: join(REPO_ROOT, ".run", `${new Date().toISOString().replace(/[:.]/g, "-")}-demo`),
    addons: [
      adapterAddon({ rateInterval: opts.rateWindow }),
      autoscalerAddon({
        syncPeriod: opts.syncPeriod,
        upscaleDelay: opts.upscaleDelay,
        downscaleDelay: opts.downscaleDelay,
        downscaleStabilization: opts.downscaleStabilization,
      }),
      workload,
    ],
    onProgress: (m) => say(`${clock()}   ${m}`),
  });
  running.cluster = c;
  let exitCode = 0;
  try {
    if (interrupted) return 130;
    for (const a of c.addons) for (const l of a.handle.describe ?? []) say(`${clock()}   ${a.name}: ${l}`);
    say(`${clock()}   logs: ${c.info.logsDir}; while it runs: export KUBECONFIG=${c.kubeconfigPath}`);
    const wl = c.addons.find((a) => a.name === "workload")?.handle as WorkloadAddonHandle | undefined;
    if (!wl) throw new Error("the workload addon did not start");

    const ns = HELLO_WORLD.namespace;
    const name = HELLO_WORLD.name;
    const kubectl = (args: string[]) => c.kubectl(args, { namespace: ns });
    let describing: Promise<void> = Promise.resolve();
    const describe = (why: string): Promise<void> => {
      describing = describing.then(async () => {
        const out = await kubectl(["describe", "hpa", name]).catch(
          (e: unknown) => `(kubectl describe failed: ${String(e)})`,
        );
        say(`${clock()} kubectl describe hpa ${name}  (${why})\n${indent(out.trimEnd())}`);
      });
      return describing;
    };

    // The HPA goes on once the adapter serves the pod's metrics, as a person following the
    // walkthrough would check with `kubectl get --raw` first.
    say(
      `${clock()} waiting until the adapter serves hello-world's metrics (kubectl get --raw through the aggregator)`,
    );
    const raw = await waitForPodMetrics(kubectl, ns, Date.now() + 180_000, abort.signal);
    for (const l of raw) say(`${clock()}   ${l}`);
    await applyObjects(c, [customMetricsHpa()]);
    say(
      `${clock()} applied the seed's HPA (autoscaling/v2): min 1, max 10; cpu 50% of request, memory 100Mi average, pods cpu_system 20m average`,
    );
    say(`${clock()} waiting until the autoscaler reads all three metrics through the adapter`);
    let min = 1;
    const deadline = Date.now() + 240_000;
    for (;;) {
      const hpa = hpaMinimal.parse(JSON.parse(await kubectl(["get", "hpa", name, "-o", "json"])));
      min = hpa.spec.minReplicas ?? 1;
      const known = (hpa.status?.currentMetrics ?? []).filter((m) => metricValue(m) !== null);
      if (known.length >= 3) break;
      if (abort.signal.aborted) return 130;
      if (Date.now() > deadline) {
        await describe("metrics still missing");
        throw new Error(
          `the HPA did not get its metrics within 240s; see ${c.info.logsDir}/autoscaler.log and adapter.log`,
        );
      }
      await sleep(1000);
    }
    await describe("before the load");

    // One compact line per sample; the full describe at every rescale and every so often.
    const lines = lineProgress((l) => say(`${clock()} ${l}`));
    let lastReplicas: number | null = null;
    let lastDescribe = Date.now();
    const progress: ProgressReporter = {
      start: (total) => lines.start(total),
      update(sample, segment) {
        lines.update(sample, segment);
        const r = sample.currentReplicas;
        if (r !== null && lastReplicas !== null && r !== lastReplicas) {
          lastDescribe = Date.now();
          void describe(`rescaled ${lastReplicas} → ${r}`);
        } else if (Date.now() - lastDescribe >= opts.describeEverySeconds * 1000) {
          lastDescribe = Date.now();
          void describe("periodic");
        }
        if (r !== null) lastReplicas = r;
      },
      finish: () => lines.finish(),
    };
    const samplers = kubeHpaSamplers(c.kubeConfig(), { namespace: ns, name, metric: "cpu" });
    const metricName = "cpu utilization (% of request)";
    say(
      `${clock()} load: ${scenario.scenario.name} against ${wl.runner.proxyUrl} (spread over the pods' processes)`,
    );
    const result = await runScenario({
      target: wl.runner.proxyUrl,
      scenario: scenario.scenario,
      samplers,
      reportDir: opts.reportDir,
      metricName,
      signal: abort.signal,
      progress,
      onSamplerError: (s, e) =>
        say(
          `${clock()} sampler ${s} failed (recorded as null): ${e instanceof Error ? e.message : String(e)}`,
        ),
    });
    await describing;

    // The scenario's idle phase may end before the last downscale delay has passed: keep
    // sampling (recorded as a "settle" phase) until replicas are back at minReplicas.
    const timeline: Timeline = result.timeline;
    const last = timeline.samples[timeline.samples.length - 1];
    if (!abort.signal.aborted && last && last.currentReplicas !== min && opts.settleSeconds > 0) {
      say(
        `${clock()} scenario over with ${String(last.currentReplicas)} replicas; sampling until back at ${min} (at most ${opts.settleSeconds}s)`,
      );
      const start = last.t;
      const t0 = Date.now() - start * 1000;
      const interval = scenario.scenario.sampleInterval;
      while (!abort.signal.aborted && (Date.now() - t0) / 1000 - start < opts.settleSeconds) {
        await sleep(interval * 1000, undefined, { signal: abort.signal }).catch(() => undefined);
        if (abort.signal.aborted) break;
        const [metric, replicas] = await Promise.all([
          samplers.metric?.().catch(() => null) ?? null,
          samplers.replicas?.().catch(() => null) ?? null,
        ]);
        const sample: Sample = {
          t: (Date.now() - t0) / 1000,
          rps: 0,
          metric,
          currentReplicas: replicas?.current ?? null,
          desiredReplicas: replicas?.desired ?? null,
        };
        timeline.samples.push(sample);
        progress.update(sample, undefined);
        if (sample.currentReplicas === min) break;
      }
      const end = timeline.samples[timeline.samples.length - 1]?.t ?? start;
      timeline.phases.push({
        index: timeline.phases.length,
        name: "settle",
        type: "idle",
        start,
        end,
        targetRps: "0",
      });
      await writeFile(join(result.reportDir, "timeline.json"), renderTimelineJson(timeline));
      await writeFile(
        join(result.reportDir, "chart.svg"),
        renderChartSvg(timeline, { title: `${scenario.scenario.name}: load vs ${metricName} vs replicas` }),
      );
      await describing;
    }

    const final = await kubectl(["describe", "hpa", name]).catch(
      (e: unknown) => `(kubectl describe failed: ${String(e)})`,
    );
    say(`${clock()} kubectl describe hpa ${name}  (final)\n${indent(final.trimEnd())}`);
    const events = eventList.parse(
      JSON.parse(
        await kubectl([
          "get",
          "events",
          "-o",
          "json",
          "--field-selector",
          `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${name}`,
        ]),
      ),
    ).items;
    await writeFile(join(result.reportDir, "describe-hpa.txt"), final);
    await writeFile(
      join(result.reportDir, "events.json"),
      `${JSON.stringify(
        events.map((e) => ({
          type: e.type,
          reason: e.reason,
          message: e.message,
          count: e.count ?? 1,
          firstTimestamp: e.firstTimestamp ?? e.eventTime ?? null,
          lastTimestamp: e.lastTimestamp ?? e.eventTime ?? null,
          source: e.source?.component ?? e.reportingComponent ?? null,
        })),
        null,
        2,
      )}\n`,
    );
    const replicaSeq = sequence(timeline.samples.map((s) => s.currentReplicas));
    say("");
    say(renderSummaryTable(summarize(timeline), "cpu %"));
    say(`replicas over time: ${replicaSeq.join(" → ")}`);
    const rescales = events.filter((e) => e.reason === "SuccessfulRescale");
    say(
      `SuccessfulRescale events: ${rescales.length}${rescales.map((e) => `\n  ${e.message ?? ""}`).join("")}`,
    );
    say(`chart: ${result.chartFile}`);
    if (interrupted) exitCode = 130;
  } catch (err) {
    say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    say(`logs: ${c.info.logsDir}`);
    exitCode = 1;
  } finally {
    say(`${clock()} tearing down`);
    await c.stop();
  }
  say(`${clock()} done${exitCode === 0 ? "" : ` (exit ${exitCode})`}; report folder:`);
  say(opts.reportDir);
  return exitCode;
}

const metricValueList = z.object({
  items: z.array(z.object({ describedObject: z.object({ name: z.string() }), value: z.string() })),
});
const podMetricsList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      containers: z.array(z.object({ usage: z.record(z.string(), z.string()) })),
    }),
  ),
});

/** Polls metrics.k8s.io and custom.metrics.k8s.io until both list the pods; returns what they said. */
async function waitForPodMetrics(
  kubectl: (args: string[]) => Promise<string>,
  ns: string,
  deadline: number,
  signal: AbortSignal,
): Promise<string[]> {
  const resourcePath = `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`;
  const customPath = `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${ns}/pods/*/cpu_system`;
  let last = "";
  for (;;) {
    try {
      const resource = podMetricsList.parse(JSON.parse(await kubectl(["get", "--raw", resourcePath])));
      const custom = metricValueList.parse(JSON.parse(await kubectl(["get", "--raw", customPath])));
      if (resource.items.length > 0 && custom.items.length > 0) {
        return [
          ...resource.items.map(
            (p) =>
              `${resourcePath}: ${p.metadata.name} ${p.containers
                .map((x) =>
                  Object.entries(x.usage)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(" "),
                )
                .join(", ")}`,
          ),
          ...custom.items.map((i) => `${customPath}: ${i.describedObject.name} cpu_system=${i.value}`),
        ];
      }
      last = "no items yet";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (signal.aborted) return [];
    if (Date.now() > deadline)
      throw new Error(`the adapter did not serve hello-world's metrics in time (last: ${last})`);
    await sleep(1000);
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** Replica counts with repeats (and unknowns) collapsed: [1, 1, 2, 2, 3, 1] → [1, 2, 3, 1]. */
export function sequence(values: ReadonlyArray<number | null>): number[] {
  const out: number[] = [];
  for (const v of values) if (v !== null && out[out.length - 1] !== v) out.push(v);
  return out;
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(REPO_ROOT, "scripts", "demo.ts");
if (isMain) {
  main(process.argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof CommanderError) process.exit(err.exitCode);
      console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
