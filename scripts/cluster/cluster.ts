// startCluster: a real local control plane (etcd, kube-apiserver with the aggregation layer,
// kube-controller-manager, kube-scheduler, kwok) and Prometheus, every process on loopback
// ports of its own, every log under one run folder. Everything it started is stopped on
// stop(), on a failed start and on Ctrl-C.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, CoreV1Api, type V1Node } from "@kubernetes/client-node";
import { ensureKubeBinaries, runRoot } from "./binaries.js";
import { DEFAULT_BACKEND, ensureBackend, type PrometheusBackend } from "./backends.js";
import {
  connectCluster,
  PORT_NAMES,
  type ClusterHandle,
  type ClusterInfo,
  type ComponentName,
  type PortName,
} from "./handle.js";
import { okProbe, httpGet } from "./http.js";
import { ADMIN_USER, createPki } from "./pki.js";
import { allocatePorts, freePort } from "./ports.js";
import { startRealNode, type RealNode } from "./realnode/node.js";
import { ensureNodeBinaries } from "./realnode/binaries.js";
import type { Component } from "./process.js";
import { ComponentError, startProcess, track, type Probe } from "./process.js";
import { forwardTcp, type Forward } from "./realnode/forward.js";
import { BRIDGE, KUBERNETES_SERVICE, REAL_NODE_NAME } from "./realnode/render.js";
import {
  BASE_CONTROLLERS,
  ENDPOINT_CONTROLLERS,
  HPA_CONTROLLER,
  KUBERNETES_SERVICE_IP,
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  hpaFlagArgs,
  kubeconfig,
  kwokArgs,
  kwokConfig,
  kwokNode,
  prometheusArgs,
  prometheusConfig,
  victoriaMetricsArgs,
  schedulerArgs,
  type HpaControllerFlags,
} from "./render.js";

/** Something started once the control plane is healthy (the adapter, the autoscaler). */
export interface Addon {
  name: string;
  start(cluster: ClusterHandle): Promise<AddonHandle>;
}

export interface AddonHandle {
  stop(): Promise<void>;
  /** Lines `cluster:up` prints about it (where it listens, its log). */
  describe?: string[];
  /** Process ids `cluster:down` kills if the supervisor is gone. */
  pids?: number[];
}

export interface ClusterOptions {
  /** Run kube-controller-manager's own HPA controller (default false: our autoscaler is in charge). */
  hpaController?: boolean;
  hpaFlags?: HpaControllerFlags;
  /** kwok nodes to create (default 2). */
  nodes?: number;
  /** Fixed ports; any not given is picked free. A taken one fails fast, naming it. */
  ports?: Partial<Record<PortName, number>>;
  /** Run folder (default `<repo>/.run/<timestamp>`). */
  runDir?: string;
  /** What answers the Prometheus HTTP API (default: Debian's Prometheus 2.42 on PATH). */
  prometheus?: PrometheusBackend;
  /** Prometheus scrape interval in whole seconds (default 2). */
  scrapeIntervalSeconds?: number;
  /** Per-component health timeouts in ms. */
  timeoutsMs?: Partial<Record<ComponentName | "nodes" | "real-node", number>>;
  /** Started in order after everything is healthy, stopped first. */
  addons?: Addon[];
  /**
   * Add a real node (containerd, runc, the CNI bridge, kubelet) beside the kwok nodes; needs
   * root and cgroups. Prometheus then scrapes its kubelet's cAdvisor and resource metrics.
   */
  realNode?: boolean;
  /**
   * How the aggregator reaches APIService backends (see apiserverArgs): "endpoints" for
   * aggregated servers running as pods on the real node, "service" (default) for the
   * ExternalName add-ons on loopback.
   */
  aggregatorRouting?: "service" | "endpoints";
  /** Progress lines (component started, healthy, how long it took). */
  onProgress?: (message: string) => void;
}

export interface Cluster extends ClusterHandle {
  addons: Array<{ name: string; handle: AddonHandle }>;
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUTS: Record<ComponentName | "nodes" | "real-node", number> = {
  etcd: 30_000,
  "kube-apiserver": 120_000,
  "kube-controller-manager": 90_000,
  "kube-scheduler": 90_000,
  kwok: 60_000,
  prometheus: 30_000,
  nodes: 60_000,
  "real-node": 120_000,
};

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs / 1000}s${last ? ` (last error: ${last})` : ""}`,
      );
    await sleep(250);
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const progress = opts.onProgress ?? (() => undefined);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeoutsMs };
  const hpaController = opts.hpaController ?? false;
  const nodeCount = opts.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1)
    throw new Error(`nodes must be a whole number >= 1, got ${String(opts.nodes)}`);
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

  // Fail fast on a bad setup before anything starts: ports, Prometheus, then the (maybe long) build.
  const ports = await allocatePorts(PORT_NAMES, opts.ports ?? {});
  const backend = opts.prometheus ?? DEFAULT_BACKEND;
  const prometheusBin = await ensureBackend(backend);
  const binDir = await ensureKubeBinaries();
  const nodeBinaries = opts.realNode ? await ensureNodeBinaries() : undefined;
  // kubelet listens on the bridge, but a free loopback port is free there too.
  const kubeletPorts = opts.realNode ? { port: await freePort(), healthz: await freePort() } : undefined;
  // HPA flags are checked before any process starts.
  if (!hpaController && opts.hpaFlags !== undefined && Object.keys(opts.hpaFlags).length > 0) {
    throw new Error(
      "hpaFlags are set but hpaController is false; turn the HPA controller on or drop hpaFlags",
    );
  }
  hpaFlagArgs(opts.hpaFlags);

  const runDir = opts.runDir ?? join(runRoot(), `${timestamp()}-${randomBytes(2).toString("hex")}`);
  const logsDir = join(runDir, "logs");
  const kubeconfigDir = join(runDir, "kubeconfig");
  const sdDir = join(runDir, "prometheus", "sd");
  for (const d of [logsDir, kubeconfigDir, sdDir, join(runDir, "prometheus", "data")])
    await mkdir(d, { recursive: true });
  progress(`run folder ${runDir}`);

  const pki = await createPki(join(runDir, "pki"), KUBERNETES_SERVICE_IP);
  const caPem = await readFile(pki.ca.certFile, "utf8");
  const apiserverUrl = `https://127.0.0.1:${ports["kube-apiserver"]}`;
  const writeKubeconfig = async (
    name: string,
    files: { certFile: string; keyFile: string },
    user: string,
  ) => {
    const file = join(kubeconfigDir, `${name}.kubeconfig`);
    const text = kubeconfig({
      server: apiserverUrl,
      caPem,
      certPem: await readFile(files.certFile, "utf8"),
      keyPem: await readFile(files.keyFile, "utf8"),
      user,
    });
    await writeFile(file, text, { mode: 0o600 });
    return file;
  };
  const adminKubeconfig = await writeKubeconfig("admin", pki.admin, ADMIN_USER);
  const kcmKubeconfig = await writeKubeconfig(
    "controller-manager",
    pki.controllerManager,
    "system:kube-controller-manager",
  );
  const schedulerKubeconfig = await writeKubeconfig("scheduler", pki.scheduler, "system:kube-scheduler");
  const kwokKubeconfig = await writeKubeconfig("kwok", pki.kwok, "kwok");
  const adminTls = {
    ca: caPem,
    cert: await readFile(pki.admin.certFile, "utf8"),
    key: await readFile(pki.admin.keyFile, "utf8"),
  };

  const components: Component[] = [];
  const launch = (name: ComponentName, command: string, args: string[]): Component => {
    const c = startProcess({ name, command, args, logFile: join(logsDir, `${name}.log`) });
    track(c);
    components.push(c);
    progress(`${name} started (pid ${c.pid}, log ${c.logFile})`);
    return c;
  };
  const healthy = async (c: Component, probe: Omit<Probe, "timeoutMs">) => {
    await c.waitHealthy({ ...probe, timeoutMs: timeouts[c.name as ComponentName] });
    progress(`${c.name} healthy after ${since()}`);
  };
  const stopComponents = async () => {
    const byName = (n: ComponentName) => components.filter((c) => c.name === n);
    // Dependents first, the store last, so nothing logs a storm of connection errors.
    await Promise.all(
      ["kwok", "kube-scheduler", "kube-controller-manager", "prometheus"].flatMap((n) =>
        byName(n as ComponentName).map((c) => c.stop()),
      ),
    );
    await Promise.all(byName("kube-apiserver").map((c) => c.stop()));
    await Promise.all(byName("etcd").map((c) => c.stop()));
  };

  const info: ClusterInfo = {
    runDir,
    logsDir,
    binDir,
    kubeconfigPath: adminKubeconfig,
    controllerManagerKubeconfigPath: kcmKubeconfig,
    apiserverUrl,
    prometheusUrl: `http://127.0.0.1:${ports.prometheus}`,
    prometheusBackend: backend,
    sdDir,
    caCertPath: pki.ca.certFile,
    frontProxyCaCertPath: pki.frontProxyCa.certFile,
    servingCaCertPath: pki.servingCa.certFile,
    pki,
    nodes: Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`),
    hpaController,
    ports,
    components: [],
  };

  const addons: Array<{ name: string; handle: AddonHandle }> = [];
  let realNode: RealNode | undefined;
  let bridgeForwards: Forward[] = [];
  const stopRealNode = async () => {
    await Promise.all(bridgeForwards.map((f) => f.close()));
    const problems = (await realNode?.stop()) ?? [];
    if (problems.length > 0) progress(`real node cleanup left: ${problems.join("; ")}`);
  };
  try {
    // etcd and Prometheus depend on nothing: start both at once.
    const etcd = launch(
      "etcd",
      join(binDir, "etcd"),
      etcdArgs({ dataDir: join(runDir, "etcd"), clientPort: ports.etcd, peerPort: ports["etcd-peer"] }),
    );
    const promConfig = join(runDir, "prometheus", "prometheus.yml");
    await writeFile(
      promConfig,
      prometheusConfig({
        scrapeIntervalSeconds: opts.scrapeIntervalSeconds ?? 2,
        sdDir,
        programsClientCert: pki.admin,
        ...(kubeletPorts
          ? {
              kubelet: {
                address: `${BRIDGE.hostIp}:${kubeletPorts.port}`,
                node: REAL_NODE_NAME,
                caFile: pki.ca.certFile,
                certFile: pki.admin.certFile,
                keyFile: pki.admin.keyFile,
              },
            }
          : {}),
      }),
    );
    const promInputs = {
      configFile: promConfig,
      dataDir: join(runDir, "prometheus", "data"),
      port: ports.prometheus,
    };
    const prometheus = launch(
      "prometheus",
      prometheusBin,
      backend === "victoriametrics" ? victoriaMetricsArgs(promInputs) : prometheusArgs(promInputs),
    );
    await Promise.all([
      healthy(etcd, {
        check: async () => {
          const res = await httpGet(`http://127.0.0.1:${ports.etcd}/health`);
          if (res.status === 200 && res.body.includes('"true"')) return true;
          throw new Error(`/health answered ${res.status} ${res.body.trim()}`);
        },
      }),
      healthy(prometheus, { check: okProbe(`${info.prometheusUrl}/-/ready`) }),
    ]);

    const apiserver = launch(
      "kube-apiserver",
      join(binDir, "kube-apiserver"),
      apiserverArgs({
        port: ports["kube-apiserver"],
        etcdClientPort: ports.etcd,
        pki,
        ...(opts.realNode ? { kubeletClient: pki.apiserverKubeletClient } : {}),
        aggregatorRouting: opts.aggregatorRouting ?? "service",
      }),
    );
    await healthy(apiserver, { check: okProbe(`${apiserverUrl}/readyz`, adminTls), intervalMs: 500 });

    const loopbackTls = { ca: caPem };
    const kcm = launch(
      "kube-controller-manager",
      join(binDir, "kube-controller-manager"),
      controllerManagerArgs({
        port: ports["kube-controller-manager"],
        kubeconfig: kcmKubeconfig,
        pki,
        controllers: [
          ...BASE_CONTROLLERS,
          ...(hpaController ? [HPA_CONTROLLER] : []),
          ...(opts.realNode ? ENDPOINT_CONTROLLERS : []),
        ],
        hpaFlags: opts.hpaFlags,
      }),
    );
    const scheduler = launch(
      "kube-scheduler",
      join(binDir, "kube-scheduler"),
      schedulerArgs({ port: ports["kube-scheduler"], kubeconfig: schedulerKubeconfig, pki }),
    );
    const kwokConfigFile = join(runDir, "kwok.yaml");
    await writeFile(kwokConfigFile, kwokConfig());
    const kwok = launch(
      "kwok",
      join(binDir, "kwok"),
      kwokArgs({ kubeconfig: kwokKubeconfig, configFile: kwokConfigFile, port: ports.kwok }),
    );
    await Promise.all([
      healthy(kcm, {
        check: okProbe(`https://127.0.0.1:${ports["kube-controller-manager"]}/healthz`, loopbackTls),
      }),
      healthy(scheduler, {
        check: okProbe(`https://127.0.0.1:${ports["kube-scheduler"]}/healthz`, loopbackTls),
      }),
      healthy(kwok, { check: okProbe(`http://127.0.0.1:${ports.kwok}/healthz`) }),
    ]);
    info.components = components.map((c) => ({ name: c.name, pid: c.pid, logFile: c.logFile }));

    const handle = connectCluster(info);
    const core = handle.kubeConfig().makeApiClient(CoreV1Api);
    for (const name of info.nodes) {
      try {
        await core.createNode({ body: kwokNode({ name, cpu: "32", memory: "256Gi", pods: 110 }) as V1Node });
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 409)) throw err;
      }
    }
    const watchdog = (what: string) => async () => {
      // A component dying while we wait for the cluster to settle is the real error.
      for (const c of components) {
        if (!c.running)
          throw new ComponentError(
            c.name,
            `exited (code ${String(c.exitCode)}) while waiting for ${what}`,
            c.logFile,
            c.logTail(),
          );
      }
    };
    await waitFor(
      `kwok nodes ${info.nodes.join(", ")} becoming Ready and schedulable (see ${kwok.logFile})`,
      timeouts.nodes,
      async () => {
        await watchdog("nodes")();
        const list = await core.listNode({});
        // Ready, and the not-ready taint admission adds to new nodes lifted, so pods schedule.
        const ready = list.items.filter(
          (n) =>
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
            !(n.spec?.taints ?? []).some((t) => t.effect === "NoSchedule"),
        );
        return info.nodes.every((name) => ready.some((n) => n.metadata?.name === name));
      },
    );
    progress(`nodes Ready after ${since()}`);
    // Pods are refused until a namespace's default ServiceAccount exists; aggregated servers
    // read their front-proxy CA from extension-apiserver-authentication.
    await waitFor(
      `the default ServiceAccount (see ${kcm.logFile})`,
      timeouts["kube-controller-manager"],
      async () => {
        await watchdog("the default ServiceAccount")();
        await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
        await core.readNamespacedConfigMap({
          name: "extension-apiserver-authentication",
          namespace: "kube-system",
        });
        return true;
      },
    );
    progress(`control plane ready after ${since()}`);

    if (opts.realNode && kubeletPorts) {
      realNode = await startRealNode({
        runDir,
        logsDir,
        apiserverUrl,
        ca: pki.ca,
        kubeletPort: kubeletPorts.port,
        healthzPort: kubeletPorts.healthz,
        ...(nodeBinaries ? { binaries: nodeBinaries } : {}),
        kubeConfig: handle.kubeConfig(),
        timeoutMs: timeouts["real-node"],
        progress,
      });
      info.realNode = realNode.info;
      // Its pods reach kube-apiserver as the `kubernetes` Service and Prometheus on the bridge.
      bridgeForwards = await Promise.all([
        forwardTcp(
          { host: KUBERNETES_SERVICE.ip, port: KUBERNETES_SERVICE.port },
          { host: "127.0.0.1", port: ports["kube-apiserver"] },
        ),
        forwardTcp(
          { host: BRIDGE.hostIp, port: ports.prometheus },
          { host: "127.0.0.1", port: ports.prometheus },
        ),
      ]);
      info.bridgePrometheusUrl = `http://${BRIDGE.hostIp}:${ports.prometheus}`;
      info.components.push(
        ...realNode.components.map((c) => ({ name: c.name, pid: c.pid, logFile: c.logFile })),
      );
      progress(`real node ${realNode.info.name} Ready after ${since()}`);
    }

    for (const addon of opts.addons ?? []) {
      const h = await addon.start(handle);
      addons.push({ name: addon.name, handle: h });
      progress(`${addon.name} started after ${since()}`);
    }

    let stopping: Promise<void> | undefined;
    return {
      ...handle,
      addons,
      stop() {
        stopping ??= (async () => {
          for (const a of [...addons].reverse()) {
            try {
              await a.handle.stop();
            } catch (err) {
              progress(`stopping ${a.name} failed: ${err instanceof Error ? err.message : String(err)}`);
            }
          }
          await stopRealNode();
          await stopComponents();
          // Data is throwaway; the logs stay for a look afterwards.
          await rm(join(runDir, "etcd"), { recursive: true, force: true });
          await rm(join(runDir, "prometheus", "data"), { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const a of [...addons].reverse()) await a.handle.stop().catch(() => undefined);
    await stopRealNode().catch(() => undefined);
    await stopComponents();
    throw err;
  }
}
