// `npm run cluster:up` / `npm run cluster:down`.
//
// up   starts a background supervisor (this file's hidden `serve` command, detached) that runs
//      startCluster and stays alive holding it; up prints its progress and returns once
//      everything is healthy, ending with `export KUBECONFIG=…` and `export PATH=…`.
// down asks the supervisor to stop everything (SIGTERM), and kills whatever is left if it
//      does not go in time.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { z } from "zod";
import { DEFAULT_ADDONS, resolveAddons } from "./addons.js";
import { REPO_ROOT, runRoot } from "./binaries.js";
import { startCluster, type Cluster } from "./cluster.js";
import type { ClusterInfo, PortName } from "./handle.js";
import { allocatePorts } from "./ports.js";
import { PROMETHEUS_BACKENDS } from "./backends.js";
import { parseUpFlags, readyLines, type RawUpFlags, type UpOptions } from "./options.js";
import { groupAlive, killGroup, leaveSignalsToCaller } from "./process.js";
import { cleanupHost } from "./realnode/host.js";
import type { PodRunner } from "./podrunner/runner.js";

const RUN_ROOT = runRoot();
/** Points at the cluster `up` started, for `down` (and for people: it holds the run folder). */
const CURRENT = join(RUN_ROOT, "current.json");

const stateSchema = z.object({
  status: z.enum(["starting", "ready", "failed"]),
  supervisorPid: z.number(),
  runDir: z.string(),
  error: z.string().optional(),
  seconds: z.number().optional(),
  extra: z.array(z.string()).default([]),
  pids: z.array(z.number()).default([]),
});
type State = z.infer<typeof stateSchema>;

function readState(file: string): State | undefined {
  try {
    return stateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  // rename is atomic: a reader never sees half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

// ---------------------------------------------------------------------------------------------
// up

async function up(raw: RawUpFlags): Promise<number> {
  const opts = parseUpFlags(raw);
  // The adapter add-on sits behind an ExternalName Service, which endpoint routing refuses:
  // with it, the adapter is installed into the cluster instead (README: Install).
  if (opts.addons.length === 0 && raw.with === undefined && opts.aggregatorRouting === "service")
    opts.addons = [...DEFAULT_ADDONS];
  if (opts.aggregatorRouting === "endpoints" && opts.addons.includes("adapter"))
    throw new Error("--with adapter needs --aggregator-routing service (its Service is an ExternalName)");
  await resolveAddons(opts.addons); // unknown names fail here, before anything starts
  // A fixed port that is taken fails here too, not seconds later in the background.
  const fixed = Object.keys(opts.ports) as PortName[];
  if (fixed.length > 0) await allocatePorts(fixed, opts.ports);

  const current = existsSync(CURRENT) ? readState(CURRENT) : undefined;
  if (current && pidAlive(current.supervisorPid)) {
    console.error(
      `a cluster is already up (run folder ${current.runDir}); run \`npm run cluster:down\` first`,
    );
    return 1;
  }
  const runDir = join(RUN_ROOT, `${timestamp()}-up`);
  const logsDir = join(runDir, "logs");
  mkdirSync(logsDir, { recursive: true });
  const stateFile = join(runDir, "state.json");
  const supervisorLog = join(logsDir, "supervisor.log");
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const fd = openSync(supervisorLog, "a");
  const child = spawn(
    process.execPath,
    ["--import", tsx, join(REPO_ROOT, "scripts", "cluster", "cli.ts"), "serve", runDir, JSON.stringify(opts)],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", fd, fd],
    },
  );
  closeSync(fd);
  child.unref();
  const supervisorPid = child.pid ?? -1;
  writeJson(CURRENT, { status: "starting", supervisorPid, runDir, extra: [], pids: [] } satisfies State);
  console.log(
    `starting the local cluster in the background (supervisor pid ${supervisorPid}, log ${supervisorLog})`,
  );

  // Ctrl-C while starting stops what was started.
  const abort = () => {
    killGroup(supervisorPid, "SIGTERM");
    rmSync(CURRENT, { force: true });
    process.exit(130);
  };
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);

  let printed = 0;
  const echoLog = () => {
    let text = "";
    try {
      text = readFileSync(supervisorLog, "utf8");
    } catch {
      return;
    }
    const fresh = text.slice(printed);
    const lastNewline = fresh.lastIndexOf("\n");
    if (lastNewline < 0) return;
    for (const line of fresh.slice(0, lastNewline).split("\n")) console.log(`  ${line}`);
    printed += lastNewline + 1;
  };
  for (;;) {
    await sleep(200);
    echoLog();
    const state = readState(stateFile);
    if (state?.status === "ready") {
      const info = JSON.parse(readFileSync(join(runDir, "cluster.json"), "utf8")) as ClusterInfo;
      writeJson(CURRENT, state);
      const lines = readyLines({
        runDir,
        seconds: state.seconds ?? 0,
        apiserverUrl: info.apiserverUrl,
        prometheusUrl: info.prometheusUrl,
        infoFile: join(runDir, "cluster.json"),
        logs: [{ name: "supervisor", logFile: supervisorLog }, ...info.components],
        extra: state.extra,
        kubeconfigPath: info.kubeconfigPath,
        binDir: info.binDir,
      });
      console.log(lines.join("\n"));
      return 0;
    }
    if (state?.status === "failed" || !pidAlive(supervisorPid)) {
      echoLog();
      console.error(`cluster:up failed: ${state?.error ?? `the supervisor exited; see ${supervisorLog}`}`);
      rmSync(CURRENT, { force: true });
      return 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// serve (the background supervisor)

async function serve(runDir: string, optsJson: string): Promise<void> {
  leaveSignalsToCaller();
  const opts = JSON.parse(optsJson) as UpOptions;
  const stateFile = join(runDir, "state.json");
  const base = { supervisorPid: process.pid, runDir };
  const say = (m: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${m}`);
  let cluster: Cluster | undefined;
  let runner: PodRunner | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    await runner?.stop().catch(() => undefined);
    await cluster?.stop().catch((e: unknown) => say(`stop failed: ${String(e)}`));
    say("stopped");
    process.exit(code);
  };
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(sig, () => void shutdown(0));

  const started = Date.now();
  try {
    cluster = await startCluster({
      hpaController: opts.hpaController,
      ...(opts.hpaFlags ? { hpaFlags: opts.hpaFlags } : {}),
      nodes: opts.nodes,
      realNode: opts.realNode,
      aggregatorRouting: opts.aggregatorRouting,
      ports: opts.ports,
      scrapeIntervalSeconds: opts.scrapeIntervalSeconds,
      ...(opts.prometheus ? { prometheus: opts.prometheus } : {}),
      runDir,
      addons: await resolveAddons(opts.addons),
      onProgress: say,
    });
    const extra: string[] = [];
    if (opts.pods) {
      runner = await cluster.startPodRunner({
        namespace: opts.pods.namespace,
        labelSelector: opts.pods.labelSelector,
        burnMs: opts.pods.burnMs,
      });
      extra.push(
        `pod runner     ${opts.pods.namespace}/${opts.pods.labelSelector}: load address ${runner.proxyUrl}`,
      );
    }
    for (const a of cluster.addons) extra.push(...(a.handle.describe ?? []).map((l) => `${a.name}: ${l}`));
    writeJson(join(runDir, "cluster.json"), cluster.info);
    writeJson(stateFile, {
      ...base,
      status: "ready",
      seconds: (Date.now() - started) / 1000,
      extra,
      pids: [
        ...cluster.info.components.map((c) => c.pid),
        ...cluster.addons.flatMap((a) => a.handle.pids ?? []),
      ],
    } satisfies State);
    say("ready");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    say(`failed: ${message}`);
    writeJson(stateFile, { ...base, status: "failed", error: message, extra: [], pids: [] } satisfies State);
    await shutdown(1);
  }
}

// ---------------------------------------------------------------------------------------------
// down

async function down(): Promise<number> {
  const state = existsSync(CURRENT) ? readState(CURRENT) : undefined;
  if (!state) {
    console.log("no cluster is up (nothing recorded in .run/current.json)");
    return 0;
  }
  const full = readState(join(state.runDir, "state.json")) ?? state;
  if (pidAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (pidAlive(state.supervisorPid) && Date.now() < deadline) await sleep(200);
  }
  // Whatever the supervisor did not get to (it was killed, or hung) goes now.
  let leftovers = 0;
  for (const pid of [state.supervisorPid, ...full.pids]) {
    if (groupAlive(pid)) {
      leftovers += 1;
      killGroup(pid, "SIGKILL");
    }
  }
  // A real node whose supervisor died leaves host changes behind; undo them from its record.
  const problems = await cleanupHost(join(state.runDir, "node"));
  if (problems.length > 0) console.error(`real node cleanup left: ${problems.join("; ")}`);
  rmSync(CURRENT, { force: true });
  console.log(
    `cluster stopped${leftovers > 0 ? ` (${leftovers} leftover process groups killed)` : ""}; logs stay in ${state.runDir}/logs`,
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------

function buildCli(): Command {
  const program = new Command("cluster")
    .description("The local Kubernetes control plane and Prometheus for prom-hpa")
    .exitOverride();
  program
    .command("up")
    .description("start the local cluster in the background and return once it is healthy")
    .option(
      "--hpa-controller",
      "run kube-controller-manager's own HPA controller (off: our autoscaler is in charge)",
    )
    .option("--hpa-sync-period <duration>", "--horizontal-pod-autoscaler-sync-period, e.g. 15s")
    .option("--hpa-tolerance <ratio>", "--horizontal-pod-autoscaler-tolerance, e.g. 0.1")
    .option(
      "--hpa-downscale-stabilization <duration>",
      "--horizontal-pod-autoscaler-downscale-stabilization, e.g. 5m",
    )
    .option(
      "--hpa-cpu-initialization-period <duration>",
      "--horizontal-pod-autoscaler-cpu-initialization-period, e.g. 5m",
    )
    .option(
      "--hpa-initial-readiness-delay <duration>",
      "--horizontal-pod-autoscaler-initial-readiness-delay, e.g. 30s",
    )
    .option("--nodes <count>", "kwok nodes to create", "2")
    .option("--apiserver-port <port>", "fixed kube-apiserver port (default: any free port)")
    .option("--prometheus-port <port>", "fixed Prometheus port (default: any free port)")
    .option("--scrape-interval <seconds>", "Prometheus scrape interval in seconds", "2")
    .option(
      "--prometheus <backend>",
      `what answers the Prometheus HTTP API: ${PROMETHEUS_BACKENDS.join(", ")} (default debian: the prometheus on PATH; the others are built once)`,
    )
    .option("--with <addons>", "comma-separated addons to start once healthy (see scripts/cluster/addons.ts)")
    .option(
      "--pods <namespace/selector>",
      "run the sample workload for each Running pod matching this, e.g. default/app=hello-world",
    )
    .option("--burn-ms <ms>", "CPU milliseconds each sample-workload request burns (with --pods)")
    .option(
      "--real-node",
      "add a real node (containerd, runc, CNI bridge, kubelet; needs root) beside the kwok nodes",
    )
    .option(
      "--aggregator-routing <service|endpoints>",
      "endpoints: the aggregator dials APIService backends' pod IPs (installs on the real node); service: ExternalName add-ons",
    )
    .action(async (flags: RawUpFlags) => {
      process.exitCode = await up(flags);
    });
  program
    .command("down")
    .description("stop everything cluster:up started")
    .action(async () => {
      process.exitCode = await down();
    });
  program.command("serve", { hidden: true }).argument("<runDir>").argument("<options>").action(serve);
  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
