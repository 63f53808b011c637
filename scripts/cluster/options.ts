// `cluster:up` flags → the serialisable options the background supervisor starts the cluster
// with. Pure, so every flag's validation is unit-tested.
import { z } from "zod";
import type { HpaControllerFlags } from "./render.js";
import type { PortName } from "./handle.js";
import { PROMETHEUS_BACKENDS, isPrometheusBackend, type PrometheusBackend } from "./backends.js";

export interface UpOptions {
  hpaController: boolean;
  hpaFlags?: HpaControllerFlags;
  nodes: number;
  ports: Partial<Record<PortName, number>>;
  scrapeIntervalSeconds: number;
  /** What answers the Prometheus HTTP API; absent: Debian's Prometheus. */
  prometheus?: PrometheusBackend;
  addons: string[];
  /** A real node (containerd + kubelet) beside the kwok nodes. */
  realNode: boolean;
  /** How the aggregator reaches APIService backends (startCluster's `aggregatorRouting`). */
  aggregatorRouting: "service" | "endpoints";
  /** Run the sample workload for the pods of `<namespace>/<label selector>`. */
  pods?: { namespace: string; labelSelector: string; burnMs: number };
}

/** What commander hands over: strings (or undefined) for every flag, booleans for switches. */
export interface RawUpFlags {
  hpaController?: boolean;
  hpaSyncPeriod?: string;
  hpaTolerance?: string;
  hpaDownscaleStabilization?: string;
  hpaCpuInitializationPeriod?: string;
  hpaInitialReadinessDelay?: string;
  nodes?: string;
  apiserverPort?: string;
  prometheusPort?: string;
  scrapeInterval?: string;
  prometheus?: string;
  with?: string;
  pods?: string;
  burnMs?: string;
  realNode?: boolean;
  aggregatorRouting?: string;
}

function num(
  flag: string,
  raw: string | undefined,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const min = opts.min ?? 0;
  if (
    raw.trim() === "" ||
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    n < min ||
    (opts.max !== undefined && n > opts.max)
  ) {
    const kind = opts.integer ? "an integer" : "a number";
    throw new Error(
      `--${flag} must be ${kind} >= ${min}${opts.max !== undefined ? ` and <= ${opts.max}` : ""}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Seconds, either bare ("30") or with a unit ("30s", "2m"), as kube flags are written. */
export function parseSeconds(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(raw.trim());
  if (!m?.[1])
    throw new Error(`--${flag} must be a duration like 30, 30s, 2m or 1h, got ${JSON.stringify(raw)}`);
  const factor = m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1;
  return Number(m[1]) * factor;
}

const selectorTarget = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/.+$/);

export function parseUpFlags(raw: RawUpFlags): UpOptions {
  const hpaFlags: HpaControllerFlags = {};
  const set = <K extends keyof HpaControllerFlags>(k: K, v: number | undefined) => {
    if (v !== undefined) hpaFlags[k] = v;
  };
  set("syncPeriodSeconds", parseSeconds("hpa-sync-period", raw.hpaSyncPeriod));
  set("tolerance", num("hpa-tolerance", raw.hpaTolerance));
  set(
    "downscaleStabilizationSeconds",
    parseSeconds("hpa-downscale-stabilization", raw.hpaDownscaleStabilization),
  );
  set(
    "cpuInitializationPeriodSeconds",
    parseSeconds("hpa-cpu-initialization-period", raw.hpaCpuInitializationPeriod),
  );
  set(
    "initialReadinessDelaySeconds",
    parseSeconds("hpa-initial-readiness-delay", raw.hpaInitialReadinessDelay),
  );
  const hpaController = raw.hpaController ?? false;
  if (!hpaController && Object.keys(hpaFlags).length > 0) {
    throw new Error(
      "--hpa-* flags need --hpa-controller (kube-controller-manager's HPA controller is off by default)",
    );
  }
  if (hpaFlags.syncPeriodSeconds === 0) throw new Error("--hpa-sync-period must be more than 0");

  const ports: Partial<Record<PortName, number>> = {};
  const apiserverPort = num("apiserver-port", raw.apiserverPort, { integer: true, min: 1, max: 65535 });
  if (apiserverPort !== undefined) ports["kube-apiserver"] = apiserverPort;
  const prometheusPort = num("prometheus-port", raw.prometheusPort, { integer: true, min: 1, max: 65535 });
  if (prometheusPort !== undefined) ports.prometheus = prometheusPort;

  if (raw.prometheus !== undefined && !isPrometheusBackend(raw.prometheus)) {
    throw new Error(
      `--prometheus must be one of ${PROMETHEUS_BACKENDS.join(", ")}, got ${JSON.stringify(raw.prometheus)}`,
    );
  }

  let pods: UpOptions["pods"];
  if (raw.pods !== undefined) {
    if (!selectorTarget.safeParse(raw.pods).success) {
      throw new Error(
        `--pods must be <namespace>/<label selector>, e.g. default/app=hello-world, got ${JSON.stringify(raw.pods)}`,
      );
    }
    const slash = raw.pods.indexOf("/");
    pods = {
      namespace: raw.pods.slice(0, slash),
      labelSelector: raw.pods.slice(slash + 1),
      burnMs: num("burn-ms", raw.burnMs, { min: 0, max: 10_000 }) ?? 20,
    };
  } else if (raw.burnMs !== undefined) {
    throw new Error("--burn-ms needs --pods");
  }

  const aggregatorRouting = raw.aggregatorRouting ?? "service";
  if (aggregatorRouting !== "service" && aggregatorRouting !== "endpoints")
    throw new Error(
      `--aggregator-routing must be service or endpoints, got ${JSON.stringify(aggregatorRouting)}`,
    );

  return {
    hpaController,
    ...(Object.keys(hpaFlags).length > 0 ? { hpaFlags } : {}),
    nodes: num("nodes", raw.nodes, { integer: true, min: 1, max: 100 }) ?? 2,
    ports,
    scrapeIntervalSeconds:
      num("scrape-interval", raw.scrapeInterval, { integer: true, min: 1, max: 60 }) ?? 2,
    ...(raw.prometheus !== undefined ? { prometheus: raw.prometheus } : {}),
    addons:
      raw.with === undefined
        ? []
        : raw.with
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
    realNode: raw.realNode ?? false,
    aggregatorRouting,
    ...(pods ? { pods } : {}),
  };
}

/** The lines `cluster:up` ends with; the two exports each stand on a line of their own. */
export function readyLines(i: {
  runDir: string;
  seconds: number;
  apiserverUrl: string;
  prometheusUrl: string;
  infoFile: string;
  logs: Array<{ name: string; logFile: string }>;
  extra: string[];
  kubeconfigPath: string;
  binDir: string;
}): string[] {
  const width = Math.max(...i.logs.map((l) => l.name.length), 10);
  return [
    `cluster is up after ${i.seconds.toFixed(1)}s (stop it with: npm run cluster:down)`,
    `  run folder     ${i.runDir}`,
    `  kube-apiserver ${i.apiserverUrl}`,
    `  prometheus     ${i.prometheusUrl}`,
    `  cluster info   ${i.infoFile} (PROM_HPA_E2E_CLUSTER=<this file> makes e2e tests reuse this cluster)`,
    "  logs:",
    ...i.logs.map((l) => `    ${l.name.padEnd(width)} ${l.logFile}`),
    ...i.extra.map((l) => `  ${l}`),
    `export KUBECONFIG=${i.kubeconfigPath}`,
    `export PATH=${i.binDir}:$PATH`,
  ];
}
