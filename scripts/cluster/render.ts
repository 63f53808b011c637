// Pure rendering of every component's command line and config file from plain inputs, so
// what the harness starts is unit-tested without starting anything.
import { stringify } from "yaml";
import type { PkiFiles } from "./pki.js";

export const SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";
/** The first address of the Service range: the `kubernetes` Service's ClusterIP. */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
// kwok hands out pod IPs from this address upwards.
export const POD_CIDR = "10.244.0.1/16";
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
/** Nodes carrying this annotation are the ones kwok plays the kubelet for. */
export const KWOK_NODE_ANNOTATION = { key: "kwok.x-k8s.io/node", value: "fake" } as const;

// ---------------------------------------------------------------------------------------------
// etcd

export interface EtcdInputs {
  dataDir: string;
  clientPort: number;
  peerPort: number;
}

export function etcdArgs(i: EtcdInputs): string[] {
  const client = `http://127.0.0.1:${i.clientPort}`;
  const peer = `http://127.0.0.1:${i.peerPort}`;
  return [
    "--name=local",
    `--data-dir=${i.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=local=${peer}`,
    // A throwaway single member: durability buys nothing here and fsync costs seconds on a busy disk.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

// ---------------------------------------------------------------------------------------------
// kube-apiserver

export interface ApiserverInputs {
  port: number;
  etcdClientPort: number;
  pki: PkiFiles;
  /** With a real kubelet: the client certificate kube-apiserver presents to it (logs, exec). */
  kubeletClient?: { certFile: string; keyFile: string };
  /**
   * How the aggregator reaches an APIService's Service: "service" dials the Service (here an
   * ExternalName to 127.0.0.1); "endpoints" dials a ready pod IP from its EndpointSlices, as
   * `--enable-aggregator-routing=true` does on clusters without kube-proxy. Default "service".
   */
  aggregatorRouting?: "service" | "endpoints";
}

export function apiserverArgs(i: ApiserverInputs): string[] {
  const p = i.pki;
  return [
    `--etcd-servers=http://127.0.0.1:${i.etcdClientPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${i.port}`,
    `--tls-cert-file=${p.apiserver.certFile}`,
    `--tls-private-key-file=${p.apiserver.keyFile}`,
    `--client-ca-file=${p.ca.certFile}`,
    "--authorization-mode=Node,RBAC",
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${p.serviceAccountPubFile}`,
    `--service-account-signing-key-file=${p.serviceAccountKeyFile}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    // The aggregation layer, configured as kubeadm configures it on a production cluster.
    `--requestheader-client-ca-file=${p.frontProxyCa.certFile}`,
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${p.frontProxyClient.certFile}`,
    `--proxy-client-key-file=${p.frontProxyClient.keyFile}`,
    // Aggregated servers on 127.0.0.1 sit behind ExternalName Services, which endpoint routing
    // refuses; pods on a real node are reached by their IP on the bridge (no kube-proxy here).
    `--enable-aggregator-routing=${i.aggregatorRouting === "endpoints"}`,
    // 127.0.0.1 cannot be an Endpoints address, so the `kubernetes` Service gets none.
    "--endpoint-reconciler-type=none",
    "--allow-privileged=true",
    "--profiling=false",
    ...(i.kubeletClient
      ? [
          `--kubelet-client-certificate=${i.kubeletClient.certFile}`,
          `--kubelet-client-key=${i.kubeletClient.keyFile}`,
          `--kubelet-certificate-authority=${p.ca.certFile}`,
          // A node name would go to DNS, and off this machine; its InternalIP is on the bridge.
          "--kubelet-preferred-address-types=InternalIP",
        ]
      : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// kube-controller-manager

/** kube-controller-manager's own HPA controller settings, in seconds (flags of the same names). */
export interface HpaControllerFlags {
  /** --horizontal-pod-autoscaler-sync-period (upstream default 15s). */
  syncPeriodSeconds?: number;
  /** --horizontal-pod-autoscaler-tolerance (upstream default 0.1). */
  tolerance?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (upstream default 5m). */
  downscaleStabilizationSeconds?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (upstream default 5m). */
  cpuInitializationPeriodSeconds?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (upstream default 30s). */
  initialReadinessDelaySeconds?: number;
  /** --concurrent-horizontal-pod-autoscaler-syncs (upstream default 5). */
  concurrentSyncs?: number;
  /** --kube-api-qps and --kube-api-burst of the whole controller-manager (upstream 20 and 30). */
  kubeApiQps?: number;
  kubeApiBurst?: number;
  /** klog's -v (4 logs every sync's outcome: "Decided not to scale", read by the cluster differential) */
  logVerbosity?: number;
}

export const BASE_CONTROLLERS = [
  "deployment-controller",
  "replicaset-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "namespace-controller",
  "garbage-collector-controller",
  // Publishes kube-root-ca.crt into every namespace, which service-account volumes reference.
  "root-ca-certificate-publisher-controller",
  // Lifts the not-ready taint that admission puts on every new Node once kwok reports it Ready.
  "node-lifecycle-controller",
] as const;
export const HPA_CONTROLLER = "horizontal-pod-autoscaler-controller";
/** With a real node: Services of its pods get EndpointSlices, which the aggregator routes to. */
export const ENDPOINT_CONTROLLERS = ["endpoints-controller", "endpointslice-controller"] as const;

export interface ControllerManagerInputs {
  port: number;
  kubeconfig: string;
  pki: PkiFiles;
  /** Which controllers run; `BASE_CONTROLLERS` plus the HPA controller when it is on. */
  controllers: readonly string[];
  hpaFlags?: HpaControllerFlags;
}

function seconds(field: string, value: number): string {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`hpaFlags.${field} must be a number of seconds >= 0, got ${String(value)}`);
  return `${value}s`;
}

export function hpaFlagArgs(flags: HpaControllerFlags = {}): string[] {
  const out: string[] = [];
  if (flags.logVerbosity !== undefined) {
    if (!Number.isInteger(flags.logVerbosity) || flags.logVerbosity < 0)
      throw new Error(`hpaFlags.logVerbosity must be a whole number >= 0, got ${String(flags.logVerbosity)}`);
    out.push(`--v=${flags.logVerbosity}`);
  }
  const prefix = "--horizontal-pod-autoscaler-";
  if (flags.syncPeriodSeconds !== undefined) {
    if (flags.syncPeriodSeconds <= 0)
      throw new Error(`hpaFlags.syncPeriodSeconds must be > 0, got ${flags.syncPeriodSeconds}`);
    out.push(`${prefix}sync-period=${seconds("syncPeriodSeconds", flags.syncPeriodSeconds)}`);
  }
  if (flags.tolerance !== undefined) {
    if (!Number.isFinite(flags.tolerance) || flags.tolerance < 0)
      throw new Error(`hpaFlags.tolerance must be a number >= 0, got ${String(flags.tolerance)}`);
    out.push(`${prefix}tolerance=${flags.tolerance}`);
  }
  if (flags.downscaleStabilizationSeconds !== undefined) {
    out.push(
      `${prefix}downscale-stabilization=${seconds("downscaleStabilizationSeconds", flags.downscaleStabilizationSeconds)}`,
    );
  }
  if (flags.cpuInitializationPeriodSeconds !== undefined) {
    out.push(
      `${prefix}cpu-initialization-period=${seconds("cpuInitializationPeriodSeconds", flags.cpuInitializationPeriodSeconds)}`,
    );
  }
  if (flags.initialReadinessDelaySeconds !== undefined) {
    out.push(
      `${prefix}initial-readiness-delay=${seconds("initialReadinessDelaySeconds", flags.initialReadinessDelaySeconds)}`,
    );
  }
  const whole = (field: string, v: number | undefined, flag: string) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`hpaFlags.${field} must be a whole number >= 1, got ${v}`);
    out.push(`--${flag}=${v}`);
  };
  whole("concurrentSyncs", flags.concurrentSyncs, "concurrent-horizontal-pod-autoscaler-syncs");
  whole("kubeApiQps", flags.kubeApiQps, "kube-api-qps");
  whole("kubeApiBurst", flags.kubeApiBurst, "kube-api-burst");
  return out;
}

export function controllerManagerArgs(i: ControllerManagerInputs): string[] {
  const p = i.pki;
  const hpaOn = i.controllers.includes(HPA_CONTROLLER);
  if (!hpaOn && i.hpaFlags !== undefined && Object.keys(i.hpaFlags).length > 0) {
    throw new Error("hpaFlags are set but the HPA controller is off; turn hpaController on or drop hpaFlags");
  }
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--authentication-kubeconfig=${i.kubeconfig}`,
    `--authorization-kubeconfig=${i.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${i.port}`,
    `--tls-cert-file=${p.loopbackServing.certFile}`,
    `--tls-private-key-file=${p.loopbackServing.keyFile}`,
    `--controllers=${i.controllers.join(",")}`,
    // Each controller acts as its own service account (kube-system:horizontal-pod-autoscaler
    // for the HPA controller), so RBAC for the metrics APIs is exercised as in production.
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${p.serviceAccountKeyFile}`,
    `--root-ca-file=${p.ca.certFile}`,
    // One instance per role; a second HPA-only instance may run beside the main one.
    "--leader-elect=false",
    "--profiling=false",
    ...(hpaOn ? hpaFlagArgs(i.hpaFlags) : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// kube-scheduler

export interface SchedulerInputs {
  port: number;
  kubeconfig: string;
  pki: PkiFiles;
}

export function schedulerArgs(i: SchedulerInputs): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--authentication-kubeconfig=${i.kubeconfig}`,
    `--authorization-kubeconfig=${i.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${i.port}`,
    `--tls-cert-file=${i.pki.loopbackServing.certFile}`,
    `--tls-private-key-file=${i.pki.loopbackServing.keyFile}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
}

// ---------------------------------------------------------------------------------------------
// kwok

export interface KwokInputs {
  kubeconfig: string;
  configFile: string;
  port: number;
}

export function kwokArgs(i: KwokInputs): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    // An explicit config file keeps a person's ~/.kwok/kwok.yaml out of the run.
    `--config=${i.configFile}`,
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
    `--cidr=${POD_CIDR}`,
    "--node-ip=10.240.0.1",
    `--server-address=127.0.0.1:${i.port}`,
    // Heartbeat through node Leases, as kwokctl runs it: without them kwok's status heartbeat
    // (every 20-45s) can miss the node-lifecycle controller's grace period, which then marks
    // the nodes NotReady and every pod Ready=False for good (and the HPA ignores their CPU).
    "--node-lease-duration-seconds=40",
  ];
}

/**
 * kwok's configuration file. It declares no Stage objects on purpose: kwok then plays the
 * default node stages (initialize + heartbeat) and pod stages (ready, complete, delete) that
 * ship embedded in its module, which is exactly the lifecycle the harness needs (nodes Ready,
 * scheduled pods Running with an IP, deleted pods gone).
 */
export function kwokConfig(): string {
  return stringify({
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokConfiguration",
    options: {},
  });
}

export interface NodeSpec {
  name: string;
  cpu: string;
  memory: string;
  pods: number;
}

/** A Node object kwok will manage (selected by its annotation). */
export function kwokNode(n: NodeSpec): Record<string, unknown> {
  const resources = { cpu: n.cpu, memory: n.memory, pods: String(n.pods) };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      annotations: {
        [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value,
        "node.alpha.kubernetes.io/ttl": "0",
      },
      labels: {
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/agent": "",
        type: "kwok",
      },
    },
    spec: {},
    status: { allocatable: resources, capacity: resources },
  };
}

// ---------------------------------------------------------------------------------------------
// Prometheus

export interface PrometheusInputs {
  configFile: string;
  dataDir: string;
  port: number;
}

export function prometheusArgs(i: PrometheusInputs): string[] {
  return [
    `--config.file=${i.configFile}`,
    `--storage.tsdb.path=${i.dataDir}`,
    `--web.listen-address=127.0.0.1:${i.port}`,
    "--storage.tsdb.retention.time=1d",
    // Lets tests and the demo reload the config without a restart.
    "--web.enable-lifecycle",
    "--log.level=warn",
  ];
}

/**
 * VictoriaMetrics single-node in Prometheus' place: it scrapes the same config with its own
 * promscrape and answers the Prometheus HTTP API on the same port.
 */
export function victoriaMetricsArgs(i: PrometheusInputs): string[] {
  return [
    `-promscrape.config=${i.configFile}`,
    // The config is Prometheus' own: VM has no rules (evaluation_interval) and polls file_sd
    // files on its own timer (refresh_interval), so it skips those two fields.
    "-promscrape.config.strictParse=false",
    `-storageDataPath=${i.dataDir}`,
    `-httpListenAddr=127.0.0.1:${i.port}`,
    "-retentionPeriod=1d",
    // The file_sd target lists are re-read on this timer.
    "-promscrape.fileSDCheckInterval=2s",
    // By default the newest 30s are hidden from queries (for late samples in clusters); tests
    // read what was just scraped, as from Prometheus.
    "-search.latencyOffset=0s",
    "-loggerLevel=WARN",
  ];
}

export interface PrometheusConfigInputs {
  scrapeIntervalSeconds: number;
  /** Folder the pod runners write their file_sd target lists into. */
  sdDir: string;
  /**
   * Client certificate for scraping our programs' /metrics (the adapter's needs an
   * authenticated, authorized client); without it there is no `prom-hpa` job.
   */
  programsClientCert?: { certFile: string; keyFile: string };
  /** A real kubelet to scrape, as on a user's cluster: its cAdvisor and resource endpoints. */
  kubelet?: { address: string; node: string; caFile: string; certFile: string; keyFile: string };
}

/** Scrape jobs of a real kubelet. */
export const KUBELET_JOBS = { cadvisor: "kubelet-cadvisor", resource: "kubelet-resource" } as const;

/**
 * The file_sd file names per job: pod runners write `<sdDir>/<job>-<runner id>.json`; tests
 * list the adapter and autoscaler they start in `<sdDir>/prom-hpa-<id>.json` (each target's
 * `job` and `__scheme__` labels say which program it is and whether it serves https).
 */
export const SD_JOBS = { pods: "pods", cadvisor: "cadvisor", programs: "prom-hpa" } as const;

/** Rule files a test drops into the sd folder; Prometheus loads them on POST /-/reload. */
export const RULE_FILES_GLOB = "rules-*.yaml";

export function prometheusConfig(i: PrometheusConfigInputs): string {
  if (!Number.isInteger(i.scrapeIntervalSeconds) || i.scrapeIntervalSeconds < 1) {
    throw new Error(
      `scrapeIntervalSeconds must be a whole number of seconds >= 1, got ${String(i.scrapeIntervalSeconds)}`,
    );
  }
  const interval = `${i.scrapeIntervalSeconds}s`;
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [
      {
        // The sample workload processes, one per Running pod; their target labels carry
        // namespace, pod and container, as Kubernetes service discovery would.
        job_name: SD_JOBS.pods,
        file_sd_configs: [{ files: [`${i.sdDir}/${SD_JOBS.pods}-*.json`], refresh_interval: "5s" }],
      },
      {
        // The per-pod cAdvisor-named series; their labels come from the exposition itself,
        // as a kubelet's /metrics/cadvisor endpoint is scraped on a real cluster.
        job_name: SD_JOBS.cadvisor,
        honor_labels: true,
        file_sd_configs: [{ files: [`${i.sdDir}/${SD_JOBS.cadvisor}-*.json`], refresh_interval: "5s" }],
      },
      ...(i.programsClientCert === undefined
        ? []
        : [
            {
              // The adapter and autoscaler a test runs in-process; honor_labels keeps the
              // autoscaler's per-HPA `namespace`, as the ServiceMonitor does.
              job_name: SD_JOBS.programs,
              honor_labels: true,
              tls_config: {
                cert_file: i.programsClientCert.certFile,
                key_file: i.programsClientCert.keyFile,
                // Serving certificates name a Service, not the loopback address scraped.
                insecure_skip_verify: true,
              },
              file_sd_configs: [{ files: [`${i.sdDir}/${SD_JOBS.programs}-*.json`], refresh_interval: "5s" }],
            },
          ]),
      ...(i.kubelet
        ? [
            [KUBELET_JOBS.cadvisor, "/metrics/cadvisor"],
            [KUBELET_JOBS.resource, "/metrics/resource"],
          ].map(([job, path]) => ({
            job_name: job,
            scheme: "https",
            metrics_path: path,
            // The series carry their own namespace/pod/container labels.
            honor_labels: true,
            tls_config: {
              ca_file: i.kubelet?.caFile,
              cert_file: i.kubelet?.certFile,
              key_file: i.kubelet?.keyFile,
            },
            static_configs: [{ targets: [i.kubelet?.address], labels: { node: i.kubelet?.node } }],
          }))
        : []),
    ],
    rule_files: [`${i.sdDir}/${RULE_FILES_GLOB}`],
  });
}

// ---------------------------------------------------------------------------------------------
// kubeconfig

export interface KubeconfigInputs {
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  user: string;
  clusterName?: string;
}

export function kubeconfig(i: KubeconfigInputs): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const cluster = i.clusterName ?? "prom-hpa-local";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster, cluster: { server: i.server, "certificate-authority-data": b64(i.caPem) } }],
    users: [
      { name: i.user, user: { "client-certificate-data": b64(i.certPem), "client-key-data": b64(i.keyPem) } },
    ],
    contexts: [{ name: cluster, context: { cluster, user: i.user } }],
    "current-context": cluster,
    preferences: {},
  });
}
