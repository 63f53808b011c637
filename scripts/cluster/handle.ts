// What a test, the demo or a person's script holds on to: the cluster's plain description
// (ClusterInfo, serialisable, so vitest can hand it from globalSetup to test files) and the
// helpers built on it. Connecting starts nothing; only startCluster owns the processes.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { issueServingCert, type PkiFiles, type ServingCert } from "./pki.js";
import { allocatePorts } from "./ports.js";
import { startProcess, tailFile, track, type Component } from "./process.js";
import { okProbe } from "./http.js";
import { HPA_CONTROLLER, controllerManagerArgs, type HpaControllerFlags } from "./render.js";
import type { RealNodeInfo } from "./realnode/node.js";
import { startPodRunner, type PodRunner, type PodRunnerOptions } from "./podrunner/runner.js";

export const COMPONENT_NAMES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "prometheus",
] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];
export const PORT_NAMES = [
  "etcd",
  "etcd-peer",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "prometheus",
] as const;
export type PortName = (typeof PORT_NAMES)[number];

export interface ComponentInfo {
  name: string;
  pid: number;
  logFile: string;
}

/** A running local cluster, described with plain data only. */
export interface ClusterInfo {
  runDir: string;
  logsDir: string;
  binDir: string;
  /** Admin kubeconfig (system:masters); what `export KUBECONFIG=` points at. */
  kubeconfigPath: string;
  /** The controller-manager's kubeconfig, for extra controller-manager instances. */
  controllerManagerKubeconfigPath: string;
  apiserverUrl: string;
  prometheusUrl: string;
  /** What answers at prometheusUrl (scripts/cluster/backends.ts); absent means Debian's Prometheus. */
  prometheusBackend?: string;
  /** Prometheus file_sd folder the pod runners write into. */
  sdDir: string;
  /** CA of the apiserver's serving certificate and of client certificates. */
  caCertPath: string;
  /** CA of the front-proxy client certificate the aggregator presents to aggregated servers. */
  frontProxyCaCertPath: string;
  /** Serving CA for tests' own aggregated API servers (see ClusterHandle.issueServingCert). */
  servingCaCertPath: string;
  pki: PkiFiles;
  nodes: string[];
  hpaController: boolean;
  ports: Record<PortName, number>;
  components: ComponentInfo[];
  /** Set when the cluster runs a real node (startCluster's `realNode`). */
  realNode?: RealNodeInfo;
  /** With a real node: the harness' Prometheus as that node's pods reach it (on the bridge). */
  bridgePrometheusUrl?: string;
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`kubectl ${args.join(" ")} failed (exit ${String(exitCode)}): ${stderr.trim() || stdout.trim()}`);
    this.name = "KubectlError";
  }
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  input?: string;
  namespace?: string;
  timeoutMs?: number;
}

const promVectorSchema = z.object({
  status: z.literal("success"),
  data: z.object({
    resultType: z.literal("vector"),
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
    ),
  }),
});
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

export interface HpaControllerHandle {
  logFile: string;
  pid: number;
  /** its secure port (/healthz, /metrics) on 127.0.0.1 */
  port: number;
  stop(): Promise<void>;
}

export interface ClusterHandle {
  info: ClusterInfo;
  kubeconfigPath: string;
  binDir: string;
  apiserverUrl: string;
  prometheusUrl: string;
  /** Runs the cluster's own kubectl against it; resolves stdout, rejects with KubectlError. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
  /** A client-node KubeConfig for the admin user. */
  kubeConfig(): KubeConfig;
  /** An instant PromQL query; resolves the vector's samples. */
  promQuery(query: string): Promise<PromSample[]>;
  /** Runs the sample workload (or `command`) for each Running pod matching the selector. */
  startPodRunner(opts: Omit<PodRunnerOptions, "kubeconfigPath" | "sdDir" | "logsDir">): Promise<PodRunner>;
  /**
   * A serving certificate for an aggregated API server behind Service `<service>.<namespace>`,
   * signed by the cluster's serving CA; put `caPem` in the APIService's caBundle.
   */
  issueServingCert(opts: { service: string; namespace: string }): Promise<ServingCert>;
  /**
   * Starts a second kube-controller-manager running only the HPA controller, with these flags,
   * for a test that wants the built-in controller as a client of our adapter.
   */
  startHpaController(flags?: HpaControllerFlags): Promise<HpaControllerHandle>;
  /** The last lines of every component's log, for a failing test's output. */
  logTails(lines?: number): string;
}

function runKubectl(info: ClusterInfo, args: string[], opts: KubectlOptions = {}): Promise<string> {
  const full = [
    `--kubeconfig=${info.kubeconfigPath}`,
    ...(opts.namespace ? [`--namespace=${opts.namespace}`] : []),
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(info.binDir, "kubectl"),
      full,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === "number" ? err.code : null;
          reject(new KubectlError(args, code, stderr, stdout));
        } else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export function connectCluster(info: ClusterInfo): ClusterHandle {
  let kc: KubeConfig | undefined;
  return {
    info,
    kubeconfigPath: info.kubeconfigPath,
    binDir: info.binDir,
    apiserverUrl: info.apiserverUrl,
    prometheusUrl: info.prometheusUrl,
    kubectl: (args, opts) => runKubectl(info, args, opts),
    kubeConfig() {
      if (!kc) {
        kc = new KubeConfig();
        kc.loadFromFile(info.kubeconfigPath);
      }
      return kc;
    },
    async promQuery(query) {
      const res = await fetch(`${info.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body: unknown = await res.json();
      const parsed = promVectorSchema.safeParse(body);
      if (!parsed.success)
        throw new Error(
          `Prometheus answered ${res.status} to ${query}: ${JSON.stringify(body).slice(0, 300)}`,
        );
      return parsed.data.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    },
    startPodRunner: (opts) =>
      startPodRunner({
        ...opts,
        kubeconfigPath: info.kubeconfigPath,
        sdDir: info.sdDir,
        logsDir: info.logsDir,
      }),
    async issueServingCert(opts) {
      const dir = join(info.runDir, "certs");
      await mkdir(dir, { recursive: true });
      return issueServingCert(info.pki.servingCa, { ...opts, dir });
    },
    startHpaController: (flags) => startExtraHpaController(info, flags),
    logTails(lines = 25) {
      return info.components
        .map((c) => `--- ${c.name} (${c.logFile}) ---\n${tailFile(c.logFile, lines)}`)
        .join("\n");
    },
  };
}

let extraHpaControllers = 0;

async function startExtraHpaController(
  info: ClusterInfo,
  flags: HpaControllerFlags = {},
): Promise<HpaControllerHandle> {
  if (info.hpaController) {
    throw new Error(
      "this cluster's kube-controller-manager already runs the HPA controller; start the cluster with hpaController: false to run it separately",
    );
  }
  const { port } = await allocatePorts(["port"]);
  extraHpaControllers += 1;
  const logFile = join(info.logsDir, `kube-controller-manager-hpa-${process.pid}-${extraHpaControllers}.log`);
  const component: Component = startProcess({
    name: "kube-controller-manager (HPA only)",
    command: join(info.binDir, "kube-controller-manager"),
    args: controllerManagerArgs({
      port,
      kubeconfig: info.controllerManagerKubeconfigPath,
      pki: info.pki,
      controllers: [HPA_CONTROLLER],
      hpaFlags: flags,
    }),
    logFile,
  });
  track(component);
  try {
    await component.waitHealthy({
      check: okProbe(`https://127.0.0.1:${port}/healthz`, { ca: readFileSync(info.caCertPath, "utf8") }),
      timeoutMs: 60_000,
    });
  } catch (err) {
    await component.stop();
    throw err;
  }
  return { logFile, pid: component.pid, port, stop: () => component.stop() };
}
