// The local pod runner: for each Running pod of one workload (namespace + label selector) it
// runs one local process of the sample workload on its own loopback port, lists it as a
// Prometheus target labelled with the pod's namespace, pod and container, and ends it when
// the pod goes away. It also serves the pods' cAdvisor-named series and one round-robin
// address for the load generator.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, closeSync, createWriteStream } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT } from "../binaries.js";
import { Component, track } from "../process.js";
import { SD_JOBS } from "../render.js";
import { renderCadvisorMetrics, sampleProcess, type ContainerSample } from "./cadvisor.js";
import { startProxy, type Proxy } from "./proxy.js";
import { plan, podSchema, wantedTargets, type Pod, type PodTarget } from "./reconcile.js";
import { removeFileSd, writeFileSd } from "./sd.js";

export interface ProcessCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface PodRunnerOptions {
  kubeconfigPath: string;
  /** The Prometheus file_sd folder (ClusterInfo.sdDir). */
  sdDir: string;
  /** Each process logs to `<logsDir>/pods/<namespace>_<pod>.log`. */
  logsDir: string;
  namespace: string;
  /** Label selector of the workload's pods, e.g. "app=hello-world". */
  labelSelector: string;
  /** CPU milliseconds each request burns in the sample workload (default 20). */
  burnMs?: number;
  /**
   * Another program to run per pod instead of the sample workload. It must listen on 127.0.0.1
   * and print one JSON line `{"event":"listening","port":N}` on stdout once it serves.
   */
  command?: (target: PodTarget) => ProcessCommand;
  /** Port of the round-robin address (default: any free port). */
  proxyPort?: number;
  pollIntervalMs?: number;
  /** How long one process may take to print its port (default 30s). */
  startTimeoutMs?: number;
}

export interface RunningPod {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  pid: number;
  port: number;
  url: string;
}

export interface PodRunner {
  id: string;
  /** The one address that spreads requests over the live processes. */
  proxyUrl: string;
  /** Where the cAdvisor-named series are served (also registered with Prometheus). */
  cadvisorUrl: string;
  running(): RunningPod[];
  /** Resolves once exactly `count` processes serve (and the target files say so). */
  waitForRunning(count: number, timeoutMs?: number): Promise<RunningPod[]>;
  /** Problems seen while reconciling (a process that would not start), newest last. */
  errors(): string[];
  stop(): Promise<void>;
}

interface Entry {
  target: PodTarget;
  component: Component;
  port: number;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const WORKLOAD_MAIN = join(REPO_ROOT, "loadtest", "workload", "main.ts");

function defaultCommand(burnMs: number) {
  return (t: PodTarget): ProcessCommand => ({
    command: process.execPath,
    args: ["--import", tsxLoader, WORKLOAD_MAIN, "--port", "0", "--burn-ms", String(burnMs), "--name", t.pod],
  });
}

/** Reads stdout lines until the listening line; everything goes on to the log. */
function waitForPort(component: Component, logFile: string, timeoutMs: number): Promise<number> {
  const stdout = component.child.stdout;
  if (!stdout) return Promise.reject(new Error("no stdout"));
  const log = createWriteStream(logFile, { flags: "a" });
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error(`did not report its port within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    const finish = (result: number | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    createInterface({ input: stdout }).on("line", (line) => {
      log.write(`${line}\n`);
      try {
        const msg = JSON.parse(line) as { event?: unknown; port?: unknown };
        if (msg.event === "listening" && typeof msg.port === "number") finish(msg.port);
      } catch {
        // Not the listening line.
      }
    });
    void component.exited.then(() => {
      log.end();
      finish(new Error(`exited (code ${String(component.exitCode)}) before it served`));
    });
  });
}

export async function startPodRunner(opts: PodRunnerOptions): Promise<PodRunner> {
  const id = `${opts.namespace}-${randomBytes(3).toString("hex")}`;
  const podLogs = join(opts.logsDir, "pods");
  mkdirSync(podLogs, { recursive: true });
  mkdirSync(opts.sdDir, { recursive: true });
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const commandFor = opts.command ?? defaultCommand(opts.burnMs ?? 20);
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const entries = new Map<string, Entry>();
  const starting = new Set<string>();
  const problems: string[] = [];
  const podsSdFile = join(opts.sdDir, `${SD_JOBS.pods}-${id}.json`);
  const cadvisorSdFile = join(opts.sdDir, `${SD_JOBS.cadvisor}-${id}.json`);
  let stopped = false;

  const note = (msg: string) => {
    problems.push(`${new Date().toISOString()} ${msg}`);
    if (problems.length > 50) problems.shift();
  };

  const runningPods = (): RunningPod[] =>
    [...entries.values()]
      .filter((e) => e.component.running)
      .map((e) => ({
        namespace: e.target.namespace,
        pod: e.target.pod,
        container: e.target.container,
        node: e.target.node,
        pid: e.component.pid,
        port: e.port,
        url: `http://127.0.0.1:${e.port}`,
      }))
      .sort((a, b) => a.pod.localeCompare(b.pod));

  // The pods the target file lists right now, so waiters know Prometheus has been told.
  let listed = new Set<string>();
  const writeTargets = async () => {
    const pods = runningPods();
    await writeFileSd(
      podsSdFile,
      pods.map((p) => ({
        address: `127.0.0.1:${p.port}`,
        labels: { namespace: p.namespace, pod: p.pod, container: p.container, node: p.node },
      })),
    );
    listed = new Set(pods.map((p) => `${p.namespace}/${p.pod}`));
  };

  const startOne = async (t: PodTarget): Promise<void> => {
    starting.add(t.key);
    const logFile = join(podLogs, `${t.namespace}_${t.pod}.log`);
    try {
      const cmd = commandFor(t);
      const fd = openSync(logFile, "a");
      const child = spawn(cmd.command, cmd.args, {
        cwd: REPO_ROOT,
        env: { ...process.env, ...cmd.env, POD_NAME: t.pod, POD_NAMESPACE: t.namespace },
        stdio: ["ignore", "pipe", fd],
        detached: true,
      });
      closeSync(fd);
      const component = new Component(`pod ${t.namespace}/${t.pod}`, child, logFile);
      track(component);
      try {
        const port = await waitForPort(component, logFile, startTimeoutMs);
        if (stopped) {
          await component.stop(2000);
          return;
        }
        entries.set(t.key, { target: t, component, port });
      } catch (err) {
        await component.stop(2000);
        note(`${t.namespace}/${t.pod}: ${err instanceof Error ? err.message : String(err)}; see ${logFile}`);
      }
    } finally {
      starting.delete(t.key);
    }
  };

  const reconcileLoop = async (): Promise<void> => {
    const interval = opts.pollIntervalMs ?? 500;
    while (!stopped) {
      try {
        await reconcileWithStops();
      } catch (err) {
        note(`listing pods in ${opts.namespace}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  };

  const reconcileWithStops = async (): Promise<void> => {
    const list = await core.listNamespacedPod({
      namespace: opts.namespace,
      labelSelector: opts.labelSelector,
    });
    const pods: Pod[] = [];
    for (const item of list.items) {
      const parsed = podSchema.safeParse(item);
      if (parsed.success) pods.push(parsed.data);
    }
    const wanted = wantedTargets(pods);
    // A process that died on its own is started again, as a kubelet restarts a container.
    for (const [key, e] of entries) if (!e.component.running) entries.delete(key);
    const { start, stop } = plan(wanted, new Set([...entries.keys(), ...starting]));
    if (start.length === 0 && stop.length === 0) return;
    const leaving = stop.map((key) => entries.get(key)).filter((e): e is Entry => e !== undefined);
    for (const key of stop) entries.delete(key);
    // A pod going away leaves the target list before its process ends, so no scrape fails.
    if (leaving.length > 0) await writeTargets();
    await Promise.all([...leaving.map((e) => e.component.stop(3000)), ...start.map(startOne)]);
    await writeTargets();
  };

  // cAdvisor endpoint: one scrape target for all of this runner's pods.
  const cadvisor: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      const samples: ContainerSample[] = [];
      for (const e of entries.values()) {
        const s = await sampleProcess(e.component.pid);
        if (s)
          samples.push({
            ...s,
            namespace: e.target.namespace,
            pod: e.target.pod,
            uid: e.target.uid,
            container: e.target.container,
            image: e.target.image,
            node: e.target.node,
          });
      }
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(renderCadvisorMetrics(samples));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    cadvisor.once("error", reject);
    cadvisor.listen(0, "127.0.0.1", () => resolve());
  });
  const cadvisorPort = (cadvisor.address() as AddressInfo).port;
  await writeFileSd(cadvisorSdFile, [{ address: `127.0.0.1:${cadvisorPort}`, labels: { runner: id } }]);
  await writeTargets();

  let proxy: Proxy;
  try {
    proxy = await startProxy(() => runningPods().map((p) => ({ name: p.pod, port: p.port })), opts.proxyPort);
  } catch (err) {
    cadvisor.close();
    throw err;
  }

  const loop = reconcileLoop();

  return {
    id,
    proxyUrl: proxy.url,
    cadvisorUrl: `http://127.0.0.1:${cadvisorPort}/metrics`,
    running: runningPods,
    errors: () => [...problems],
    async waitForRunning(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = runningPods();
        const told = now.length === listed.size && now.every((p) => listed.has(`${p.namespace}/${p.pod}`));
        if (now.length === count && starting.size === 0 && told) return now;
        if (Date.now() > deadline) {
          throw new Error(
            `pod runner ${id}: ${now.length} processes serve, expected ${count} (pods: ${now.map((p) => p.pod).join(", ") || "none"})` +
              (problems.length > 0 ? `; problems:\n${problems.slice(-5).join("\n")}` : ""),
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await loop;
      await Promise.all([removeFileSd(podsSdFile), removeFileSd(cadvisorSdFile)]);
      await Promise.all([...entries.values()].map((e) => e.component.stop(3000)));
      entries.clear();
      await proxy.close();
      await new Promise<void>((resolve) => {
        cadvisor.close(() => resolve());
        cadvisor.closeAllConnections();
      });
    },
  };
}
