// `prom-hpa autoscaler`: flags → AutoscalerOptions, then run until SIGTERM/SIGINT.
import { Option, type Command } from "commander";
import { parseSelector } from "../kube/selector.js";
import { createLogger } from "../log/logger.js";
import { defaultControllerSettings } from "./algorithm/index.js";
import {
  DOWNSCALE_DELAY_ANNOTATION,
  DRY_RUN_DECISION_ANNOTATION,
  FALLBACK_AFTER_ANNOTATION,
  FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION,
  FALLBACK_REPLICAS_ANNOTATION,
  HISTORY_ANNOTATION,
  LAST_KNOWN_GOOD_ANNOTATION,
  MAX_METRIC_AGE_ANNOTATION,
  SYNC_PERIOD_ANNOTATION,
  UPSCALE_DELAY_ANNOTATION,
  parseOwnershipAnnotation,
} from "./controller/annotations.js";
import { formatDuration, parseDurationField } from "../kube/duration.js";
import { startAutoscaler, type AutoscalerOptions } from "./index.js";
import { DEFAULT_FALLBACK_AFTER, type ResilienceDefaults } from "./controller/resilience.js";
import { parseBindAddress } from "./server.js";

export interface AutoscalerFlags {
  kubeconfig?: string;
  syncPeriod: string;
  upscaleDelay: string;
  downscaleDelay: string;
  downscaleStabilization: string;
  tolerance: string;
  cpuInitializationPeriod: string;
  initialReadinessDelay: string;
  concurrentSyncs: string;
  hpaSelector?: string;
  namespaces?: string;
  ownershipAnnotation?: string;
  dryRun?: boolean;
  dryRunAnnotate?: boolean;
  /** undefined unless given: --scale-to-zero sets true, --no-scale-to-zero false */
  scaleToZero?: boolean;
  maxBackoff: string;
  maxMetricAge?: string;
  lastKnownGood?: string;
  fallbackAfter?: string;
  leaderElect?: boolean;
  leaderElectLeaseName: string;
  leaderElectLeaseNamespace: string;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
  leaderElectIdentity?: string;
  metricsBindAddress: string;
  skipPermissionCheck?: boolean;
}

const HELP_AFTER = `
Durations are Go durations: 30s, 3m, 1h30m, 0 (off).

Per-HPA overrides (annotations on the HorizontalPodAutoscaler):
  ${SYNC_PERIOD_ANNOTATION}: "30s"      sync this HPA every 30s instead of --sync-period (minimum 1s)
  ${UPSCALE_DELAY_ANNOTATION}: "3m"     legacy upscale delay for this HPA ("0" = off)
  ${DOWNSCALE_DELAY_ANNOTATION}: "5m"   legacy downscale delay for this HPA ("0" = off)
  ${MAX_METRIC_AGE_ANNOTATION}: "2m"    a value whose newest sample is older counts as failed ("0" = off)
  ${LAST_KNOWN_GOOD_ANNOTATION}: "5m"   a failed read uses the last good value up to 5m old, to scale up only
  ${FALLBACK_REPLICAS_ANNOTATION}: "4"  after fallback-after syncs with failed metrics, at least 4 replicas
  ${FALLBACK_AFTER_ANNOTATION}: "3"     how many such syncs in a row (default --fallback-after)
  ${FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION}: "true"  fallback-replicas may also scale down
A value that does not parse is ignored and reported as a Warning Event (reason InvalidAnnotation).

Written by the autoscaler:
  ${HISTORY_ANNOTATION}            recommendations and scale events, read by the next leader
                                            (not with --dry-run: a dry run keeps them in memory)
  ${DRY_RUN_DECISION_ANNOTATION}   only with --dry-run --dry-run-annotate: the would-be
                                            decision, written when it changes

The upscale/downscale delays are kube-controller-manager's 1.9–1.11 semantics: no scale in a
direction until that long after the last scale (status.lastScaleTime).`;

function duration(value: string, flag: string): number {
  return parseDurationField(value, flag);
}
function seconds(value: string, flag: string): number {
  return Math.round(duration(value, flag) / 1000);
}

function resilienceFromFlags(f: AutoscalerFlags): ResilienceDefaults {
  const after = (f.fallbackAfter ?? String(DEFAULT_FALLBACK_AFTER)).trim();
  if (!/^\d{1,9}$/.test(after) || Number(after) < 1)
    throw new Error(`--fallback-after: "${f.fallbackAfter}" is not a whole number of at least 1`);
  return {
    maxMetricAgeMs: duration(f.maxMetricAge ?? "0", "--max-metric-age") || undefined,
    lastKnownGoodMs: duration(f.lastKnownGood ?? "0", "--last-known-good") || undefined,
    fallbackAfter: Number(after),
  };
}

/** Flags → options; every bad value throws an Error naming its flag. */
export function optionsFromFlags(f: AutoscalerFlags): AutoscalerOptions {
  const syncPeriodMs = duration(f.syncPeriod, "--sync-period");
  if (syncPeriodMs < 1000) throw new Error(`--sync-period: "${f.syncPeriod}" is below the minimum of 1s`);
  const tolerance = Number(f.tolerance);
  if (f.tolerance.trim() === "" || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new Error(`--tolerance: "${f.tolerance}" is not a non-negative number (e.g. 0.1)`);
  }
  const concurrentSyncs = Number(f.concurrentSyncs);
  if (!Number.isInteger(concurrentSyncs) || concurrentSyncs < 1) {
    throw new Error(`--concurrent-syncs: "${f.concurrentSyncs}" is not a whole number of at least 1`);
  }
  if (f.hpaSelector !== undefined) {
    const parsed = parseSelector(f.hpaSelector);
    if (!parsed.ok)
      throw new Error(`--hpa-selector: invalid label selector "${f.hpaSelector}": ${parsed.error}`);
  }
  if (f.ownershipAnnotation !== undefined)
    parseOwnershipAnnotation(f.ownershipAnnotation, "--ownership-annotation");
  parseBindAddress(f.metricsBindAddress, "--metrics-bind-address");
  if (f.dryRunAnnotate === true && f.dryRun !== true)
    throw new Error(
      "--dry-run-annotate: only with --dry-run (an active autoscaler writes no decision annotation)",
    );
  const namespaces = (f.namespaces ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const ns of namespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns))
      throw new Error(`--namespaces: "${ns}" is not a namespace name`);
  }
  const opts: AutoscalerOptions = {
    syncPeriodMs,
    settings: {
      tolerance,
      upscaleDelaySeconds: seconds(f.upscaleDelay, "--upscale-delay"),
      downscaleDelaySeconds: seconds(f.downscaleDelay, "--downscale-delay"),
      downscaleStabilizationWindowSeconds: seconds(f.downscaleStabilization, "--downscale-stabilization"),
      cpuInitializationPeriodSeconds: seconds(f.cpuInitializationPeriod, "--cpu-initialization-period"),
      delayOfInitialReadinessStatusSeconds: seconds(f.initialReadinessDelay, "--initial-readiness-delay"),
      // HPAScaleToZero is on by default since Kubernetes 1.37 (beta)
      scaleToZero: f.scaleToZero !== false,
    },
    concurrentSyncs,
    namespaces,
    dryRun: f.dryRun === true,
    ...(f.dryRunAnnotate === true ? { dryRunAnnotate: true } : {}),
    maxBackoffMs: duration(f.maxBackoff, "--max-backoff"),
    resilience: resilienceFromFlags(f),
    metricsBindAddress: f.metricsBindAddress,
  };
  if (f.kubeconfig !== undefined) opts.kubeconfig = f.kubeconfig;
  if (f.hpaSelector !== undefined) opts.hpaSelector = f.hpaSelector;
  if (f.ownershipAnnotation !== undefined) opts.ownershipAnnotation = f.ownershipAnnotation;
  if (f.leaderElect === true) {
    const leaseDurationMs = duration(f.leaderElectLeaseDuration, "--leader-elect-lease-duration");
    const renewDeadlineMs = duration(f.leaderElectRenewDeadline, "--leader-elect-renew-deadline");
    const retryPeriodMs = duration(f.leaderElectRetryPeriod, "--leader-elect-retry-period");
    if (!(leaseDurationMs > renewDeadlineMs))
      throw new Error("--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline");
    if (!(renewDeadlineMs > retryPeriodMs))
      throw new Error("--leader-elect-renew-deadline must be greater than --leader-elect-retry-period");
    opts.leaderElection = {
      leaseName: f.leaderElectLeaseName,
      leaseNamespace: f.leaderElectLeaseNamespace,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      ...(f.leaderElectIdentity !== undefined ? { identity: f.leaderElectIdentity } : {}),
    };
  }
  return opts;
}

export function registerAutoscalerCommand(program: Command): void {
  const d = defaultControllerSettings;
  program
    .command("autoscaler")
    .description("run the HPA control loop on autoscaling/v2 HorizontalPodAutoscalers")
    .option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
    .option("--sync-period <duration>", "how often each HPA is synced", "15s")
    .option(
      "--upscale-delay <duration>",
      "legacy (1.9–1.11) delay after any scale before scaling up; 0 = off",
      "0",
    )
    .option(
      "--downscale-delay <duration>",
      "legacy (1.9–1.11) delay after any scale before scaling down; 0 = off",
      "0",
    )
    .option(
      "--downscale-stabilization <duration>",
      "downscale stabilization window for HPAs without behavior",
      formatDuration(d.downscaleStabilizationWindowSeconds * 1000),
    )
    .option(
      "--tolerance <ratio>",
      "minimum change of the metric/target ratio before scaling",
      String(d.tolerance),
    )
    .option(
      "--cpu-initialization-period <duration>",
      "period after pod start when CPU samples may be skipped",
      formatDuration(d.cpuInitializationPeriodSeconds * 1000),
    )
    .option(
      "--initial-readiness-delay <duration>",
      "period after pod start during which readiness changes are treated as initial",
      formatDuration(d.delayOfInitialReadinessStatusSeconds * 1000),
    )
    .option("--concurrent-syncs <n>", "HPAs synced in parallel", "5")
    .option(
      "--hpa-selector <selector>",
      "only HPAs whose labels match this selector, e.g. autoscaler=prom-hpa",
    )
    .option("--namespaces <list>", "comma-separated namespaces to watch (default: all)")
    .option(
      "--ownership-annotation <key[=value]>",
      "only HPAs carrying this annotation (with this value, if given)",
    )
    .option(
      "--dry-run",
      "compute and report (Events with DryRun reasons, /metrics) but write nothing: no scale, no status, no annotation on the HPA; safe beside the built-in HPA controller",
    )
    .option(
      "--dry-run-annotate",
      "with --dry-run, also write the would-be decision to an annotation on the HPA when it changes; each write makes the built-in HPA controller's next status update conflict now and then (FailedUpdateStatus)",
    )
    .option(
      "--scale-to-zero",
      "upstream's HPAScaleToZero (on by default, as in Kubernetes 1.37): minReplicas 0 with Object/External metrics scales to zero and back",
    )
    .option(
      "--no-scale-to-zero",
      "turn HPAScaleToZero off: a target at zero replicas is left alone (ScalingDisabled)",
    )
    .option(
      "--max-backoff <duration>",
      "back off between syncs of an HPA whose syncs fail, doubling its period up to this long; 0 (default) = resync every period whatever happened, as kube-controller-manager",
      "0",
    )
    .option(
      "--max-metric-age <duration>",
      "a metric value whose newest sample is older than this counts as failed (needs an adapter answering sample times); 0 = off",
      "0",
    )
    .option(
      "--last-known-good <duration>",
      "when a metric read fails, use its last good value up to this old, to scale up only; 0 = off",
      "0",
    )
    .option(
      "--fallback-after <n>",
      `syncs in a row with failed metrics before an HPA's ${FALLBACK_REPLICAS_ANNOTATION} applies`,
      String(DEFAULT_FALLBACK_AFTER),
    )
    .option("--leader-elect", "run with leader election on a coordination.k8s.io/v1 Lease")
    .option("--leader-elect-lease-name <name>", "name of the Lease", "prom-hpa-autoscaler")
    .option("--leader-elect-lease-namespace <ns>", "namespace of the Lease", "kube-system")
    .option(
      "--leader-elect-lease-duration <duration>",
      "how long a standby waits after the last renewal before taking over",
      "15s",
    )
    .option(
      "--leader-elect-renew-deadline <duration>",
      "how long the leader keeps trying to renew before stepping down",
      "10s",
    )
    .option("--leader-elect-retry-period <duration>", "time between lease attempts", "2s")
    .option("--leader-elect-identity <id>", "this replica's identity in the Lease (default: hostname_uuid)")
    .addOption(
      new Option("--metrics-bind-address <addr>", "address of /healthz, /readyz and /metrics").default(
        ":8080",
      ),
    )
    .option(
      "--skip-permission-check",
      "start without first checking (SelfSubjectAccessReview) that every permission the autoscaler needs is granted",
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: AutoscalerFlags) => {
      const options = optionsFromFlags(flags);
      const log = createLogger("autoscaler");
      const handle = await startAutoscaler({
        ...options,
        log,
        checkPermissions: flags.skipPermissionCheck !== true,
      });
      await new Promise<void>((resolve) => {
        let signalled = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (signalled) {
            log.warn({ signal: sig }, "second signal: exiting now");
            process.exit(1);
          }
          signalled = true;
          log.info({ signal: sig }, "shutting down");
          handle.stop().then(resolve, (err: unknown) => {
            log.error({ err: err instanceof Error ? err.message : String(err) }, "shutdown failed");
            resolve();
          });
          // should anything still hold the event loop after a clean stop, do not hang on it
          setTimeout(() => process.exit(0), 25_000).unref();
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      });
    });
}
