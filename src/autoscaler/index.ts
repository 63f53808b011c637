// `startAutoscaler`: the whole autoscaler in-process (the CLI, e2e tests and the demo use it).
// Order of start: API client → informers (caches synced) → health/metrics server → controller,
// directly or once this replica holds the lease. `stop()` is the graceful shutdown: stop the
// queue, finish in-flight syncs, release the lease, flush Events, stop the informers.
import type { ResilienceDefaults } from "./controller/resilience.js";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { KubeClient } from "../kube/client.js";
import { loadKubeConfig, type KubeConfig } from "../kube/config.js";
import { RESTMapper } from "../kube/mapper.js";
import { createLogger, type Logger } from "../log/logger.js";
import { ensurePermissions, type PermissionCheckSettings } from "../rbac/startup.js";
import { withDefaults, type ControllerSettings } from "./algorithm/index.js";
import { isOwned, parseOwnershipAnnotation } from "./controller/annotations.js";
import { systemClock, type Clock } from "./controller/clock.js";
import { HpaController } from "./controller/controller.js";
import { KubeEventRecorder } from "./api/events.js";
import { KubeHpaWriter } from "./api/hpa.js";
import { HpaInformer, PodInformer } from "./api/informers.js";
import { KubeLeaseStore } from "./api/lease.js";
import { KubeScaleClient } from "./api/scale.js";
import { ScaleTargetCache } from "./api/scale-targets.js";
import { LeaderElector } from "./leader/election.js";
import { ApiMetricsClient } from "./metrics/client.js";
import { startHealthServer } from "./server.js";
import { Telemetry } from "./telemetry.js";

export interface LeaderElectionOptions {
  leaseName?: string; // default "prom-hpa-autoscaler"
  leaseNamespace?: string; // default "kube-system"
  identity?: string; // default <hostname>_<uuid>
  leaseDurationMs?: number; // default 15s
  renewDeadlineMs?: number; // default 10s
  retryPeriodMs?: number; // default 2s
}

export interface AutoscalerOptions {
  /** a kubeconfig path, a loaded KubeConfig, or nothing for the default (KUBECONFIG, ~/.kube/config, in-cluster) */
  kubeconfig?: string | KubeConfig;
  /** default 15s */
  syncPeriodMs?: number;
  /** the algorithm's settings (tolerance, windows, legacy delays); missing fields take upstream's defaults */
  settings?: Partial<ControllerSettings>;
  /** default 5 */
  concurrentSyncs?: number;
  /** label selector on HPAs (server-side, in the informer) */
  hpaSelector?: string;
  /** namespaces to watch; empty/undefined = all */
  namespaces?: string[];
  /** "key" or "key=value": only HPAs with that annotation are ours */
  ownershipAnnotation?: string;
  /** compute and report (DryRun Events, /metrics) but write nothing: no scale, no HPA status, no annotation */
  dryRun?: boolean;
  /**
   * With dryRun: also write the would-be decision to the HPA's dry-run-decision annotation when
   * it changes. Each write makes the built-in HPA controller's next status update conflict now
   * and then (it uses a plain update); off by default.
   */
  dryRunAnnotate?: boolean;
  /** ours: back off between syncs of a failing HPA up to this long (default 0 = off, as upstream; effective only above the sync period) */
  maxBackoffMs?: number;
  /** max-metric-age, last-known-good and fallback defaults for every HPA (annotations override them); off when absent */
  resilience?: ResilienceDefaults;
  /** leader election on a Lease; off when undefined */
  leaderElection?: LeaderElectionOptions;
  /** /healthz, /readyz, /metrics; default "127.0.0.1:0" (any free port); null = no server */
  metricsBindAddress?: string | null;
  /**
   * HPAs asking the metrics APIs the same within this window share one answer, and many pod
   * selectors asking one namespace for the same per-pod metric share one read of the namespace
   * (default 1s; 0 = every sync reads its own)
   */
  metricsWindowMs?: number;
  /** parallel connections to the apiserver (default: 2 × concurrentSyncs + 4) */
  apiConnections?: number;
  log?: Logger;
  clock?: Clock;
  /**
   * Before anything else, ask (SelfSubjectAccessReview) for every permission the autoscaler
   * needs and refuse to start, naming each missing one, without them. The CLI turns it on;
   * off by default so in-process tests need not grant RBAC.
   */
  checkPermissions?: boolean | PermissionCheckSettings;
}

export interface AutoscalerHandle {
  /** the health/metrics server's base URL, e.g. http://127.0.0.1:40123 (undefined without a server) */
  readonly url: string | undefined;
  readonly telemetry: Telemetry;
  readonly controller: HpaController;
  readonly identity: string;
  isLeader(): boolean;
  isReady(): boolean;
  /** graceful shutdown */
  stop(): Promise<void>;
}

export const DEFAULT_SYNC_PERIOD_MS = 15_000;
export const DEFAULT_CONCURRENT_SYNCS = 5;
/** 0: no back-off; every HPA is synced at its period whatever happened, as upstream */
export const DEFAULT_MAX_BACKOFF_MS = 0;
export const DEFAULT_METRICS_WINDOW_MS = 1000;

export async function startAutoscaler(options: AutoscalerOptions = {}): Promise<AutoscalerHandle> {
  const log = options.log ?? createLogger("autoscaler");
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const concurrentSyncs = options.concurrentSyncs ?? DEFAULT_CONCURRENT_SYNCS;
  const ownership =
    options.ownershipAnnotation !== undefined
      ? parseOwnershipAnnotation(options.ownershipAnnotation, "ownershipAnnotation")
      : undefined;
  const namespaces = options.namespaces ?? [];

  let kc: KubeConfig;
  if (typeof options.kubeconfig === "object") kc = options.kubeconfig;
  else {
    const loaded = await loadKubeConfig(options.kubeconfig);
    if (!loaded.ok) throw loaded.error;
    kc = loaded.value;
  }
  if (options.checkPermissions !== undefined && options.checkPermissions !== false) {
    await ensurePermissions(kc, "autoscaler", {
      ...(typeof options.checkPermissions === "object" ? options.checkPermissions : {}),
      logger: log,
      dryRun,
      dryRunAnnotate: dryRun && options.dryRunAnnotate === true,
      leaderElection: options.leaderElection !== undefined,
      ...(options.leaderElection
        ? { namespace: options.leaderElection.leaseNamespace ?? "kube-system" }
        : {}),
    });
  }
  const client = await KubeClient.fromKubeConfig(kc, {
    connections: options.apiConnections ?? 2 * concurrentSyncs + 4,
    userAgent: "prom-hpa-autoscaler",
  });
  if (!client.ok) throw client.error;
  const http = client.value;
  const discovery = new RESTMapper({ client: http, logger: log });
  const telemetry = new Telemetry({ dryRun, defaultMetrics: true });
  const events = new KubeEventRecorder(http, clock, log);

  // the informer's handlers are wired before the controller exists
  const late: { controller?: HpaController } = {};
  const hpaInformer = new HpaInformer(
    http,
    { namespaces, labelSelector: options.hpaSelector },
    {
      changed: (key, before, after) => late.controller?.onHpaChanged(key, before, after),
      deleted: (key) => late.controller?.onHpaDeleted(key),
    },
    log,
  );
  const podInformer = new PodInformer(http, namespaces, log);
  const scales = new ScaleTargetCache({
    client: http,
    namespaces,
    fallback: new KubeScaleClient(http, discovery),
    log,
  });
  const metrics = new ApiMetricsClient(http, discovery, {
    windowMs: options.metricsWindowMs ?? DEFAULT_METRICS_WINDOW_MS,
    now: () => clock.now(),
    podNames: (namespace, selector) => podInformer.names(namespace, selector),
  });
  const ctl = new HpaController({
    clock,
    log,
    telemetry,
    hpas: hpaInformer,
    pods: podInformer,
    scales,
    metrics,
    writer: new KubeHpaWriter(http),
    events,
    settings: withDefaults(options.settings),
    syncPeriodMs: options.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS,
    concurrentSyncs,
    dryRun,
    dryRunAnnotate: dryRun && options.dryRunAnnotate === true,
    maxBackoffMs: options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
    ownership,
    resilience: options.resilience,
  });
  late.controller = ctl;

  let synced = false;
  let stopping = false;
  const server =
    options.metricsBindAddress === null
      ? undefined
      : await startHealthServer({
          bindAddress: options.metricsBindAddress ?? "127.0.0.1:0",
          registry: telemetry.registry,
          ready: () => synced && !stopping,
          healthy: () => !stopping,
          lastDecision: (namespace, name) => ctl.lastDecision(namespace, name),
        });

  try {
    scales.start();
    await Promise.all([hpaInformer.start(), podInformer.start(), scales.waitForSync(10_000)]);
  } catch (err) {
    await scales.stop();
    await server?.close();
    await http.close();
    throw err;
  }
  synced = true;
  const gaugeTimer = setInterval(() => {
    let owned = 0;
    for (const key of hpaInformer.keys()) {
      const slash = key.indexOf("/");
      const c = hpaInformer.get(key.slice(0, slash), key.slice(slash + 1));
      if (c !== undefined && (!c.ok || isOwned(c.hpa.metadata.annotations, ownership))) owned++;
    }
    telemetry.hpas.set(owned);
    telemetry.queueDepth.set(ctl.queued);
  }, 5000);
  gaugeTimer.unref();

  const identity = options.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;
  let elector: LeaderElector | undefined;
  if (options.leaderElection !== undefined) {
    const le = options.leaderElection;
    elector = new LeaderElector({
      store: new KubeLeaseStore(
        http,
        le.leaseNamespace ?? "kube-system",
        le.leaseName ?? "prom-hpa-autoscaler",
      ),
      identity,
      leaseDurationMs: le.leaseDurationMs ?? 15_000,
      renewDeadlineMs: le.renewDeadlineMs ?? 10_000,
      retryPeriodMs: le.retryPeriodMs ?? 2_000,
      clock,
      log,
      onStartedLeading: () => {
        telemetry.leader.set(1);
        ctl.start();
      },
      onStoppedLeading: async () => {
        telemetry.leader.set(0);
        await ctl.stop();
      },
      onNewLeader: (who) => log.info({ leader: who, me: identity }, "leader observed"),
    });
    telemetry.leader.set(0);
    elector.start();
  } else {
    telemetry.leader.set(1);
    ctl.start();
  }
  log.info(
    {
      identity,
      dryRun,
      url: server ? `http://${server.host}:${server.port}` : undefined,
      leaderElection: elector !== undefined,
    },
    "autoscaler started",
  );

  let stopped: Promise<void> | undefined;
  return {
    url: server
      ? `http://${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`
      : undefined,
    telemetry,
    controller: ctl,
    identity,
    isLeader: () => (elector ? elector.isLeader : ctl.isRunning),
    isReady: () => synced && !stopping,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        clearInterval(gaugeTimer);
        if (elector) await elector.stop();
        else await ctl.stop();
        await events.flush();
        await Promise.all([hpaInformer.stop(), podInformer.stop(), scales.stop()]);
        await server?.close();
        await http.close();
        log.info({ identity }, "autoscaler stopped");
      })()),
  };
}

export type { ControllerSettings } from "./algorithm/index.js";
export { parseDurationField, formatDuration } from "../kube/duration.js";
export * from "./controller/annotations.js";
