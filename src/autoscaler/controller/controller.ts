// The control loop: a work queue of HPA keys, each synced every sync period (or its own, by
// annotation) by a bounded number of workers, with back-off after failed syncs. One sync reads
// (read.ts: the scale subresource, the pods, every metric), computes (the pure algorithm) and
// writes through the writer picked at construction: active-writer.ts scales and writes the HPA,
// dry-run-writer.ts only reports what it would have done.
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus } from "../../kube/objects.js";
import type { Logger } from "../../log/logger.js";
import {
  applyScaleResult as algorithmApplyScaleResult,
  reconcile as algorithmReconcile,
  type ControllerSettings,
  type ReconcileInput,
  type ReconcileResult,
} from "../algorithm/index.js";
import type { Telemetry } from "../telemetry.js";
import { ActiveWriter } from "./active-writer.js";
import {
  DRY_RUN_DECISION_ANNOTATION,
  HISTORY_ANNOTATION,
  OVERRIDE_ANNOTATIONS,
  isOwned,
  type OwnershipAnnotation,
} from "./annotations.js";
import type { Clock } from "./clock.js";
import { DryRunWriter } from "./dry-run-writer.js";
import { HpaSelectors } from "./hpa-selectors.js";
import type {
  CachedHpa,
  EventObjectRef,
  EventRecorder,
  HpaLister,
  HpaWriter,
  MetricsClient,
  PodLister,
  ScaleClient,
} from "./ports.js";
import { WorkQueue } from "./queue.js";
import { readSyncInputs, type SyncInputs, type SyncReaders } from "./read.js";
import {
  applyFallback,
  holdIfLastKnownGoodScalesDown,
  metricsFailed,
  prepareReadings,
  resolvePolicy,
  type GoodReading,
  type ResilienceDefaults,
} from "./resilience.js";
import { stableJson } from "./stable-json.js";
import { errorMessage } from "./error-message.js";
import { INVALID_ANNOTATION, INVALID_SPEC, type SyncWriter } from "./writer.js";

export interface ControllerOptions {
  clock: Clock;
  log: Logger;
  telemetry: Telemetry;
  hpas: HpaLister;
  pods: PodLister;
  scales: ScaleClient;
  metrics: MetricsClient;
  writer: HpaWriter;
  events: EventRecorder;
  settings: ControllerSettings;
  syncPeriodMs: number;
  concurrentSyncs: number;
  dryRun: boolean;
  /**
   * dry-run only: also write the would-be decision to an annotation on the HPA when it changes.
   * Each write bumps the HPA's resourceVersion, so the built-in controller's next status update
   * (a plain update) conflicts now and then; off by default.
   */
  dryRunAnnotate?: boolean;
  /** the longest wait between syncs of a failing HPA (never shorter than its sync period) */
  maxBackoffMs: number;
  ownership?: OwnershipAnnotation | undefined;
  /** max-metric-age, last-known-good and fallback defaults (annotations override them); all off when absent */
  resilience?: ResilienceDefaults | undefined;
  /** the algorithm; replaceable in tests */
  reconcile?: (input: ReconcileInput) => ReconcileResult;
  applyScaleResult?: typeof algorithmApplyScaleResult;
}

export type SyncOutcome =
  | { status: "synced"; ok: boolean; errorReasons: string[]; nextSyncMs: number; result?: ReconcileResult }
  | { status: "skipped"; why: "gone" | "not-owned" };

export class HpaController {
  private queue: WorkQueue;
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly failures = new Map<string, number>();
  private readonly reconcile: (input: ReconcileInput) => ReconcileResult;
  private inFlight = 0;
  /** key → the selector the last sync read metrics with (metrics of the next sync start early with it) */
  private readonly metricSelectors = new Map<string, string>();
  private readonly selectors = new HpaSelectors();
  /** key → the last good answer per metric spec (last-known-good); memory only, so a new leader starts without */
  private readonly goodReadings = new Map<string, Map<string, GoodReading>>();
  /** key → syncs in a row whose metrics failed (fallback-replicas) */
  private readonly metricFailures = new Map<string, number>();
  private readonly readers: SyncReaders;
  /** where a sync's result goes: the cluster, or (dry-run) Events and memory only */
  private readonly out: SyncWriter;

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.clock);
    this.reconcile = o.reconcile ?? algorithmReconcile;
    this.readers = {
      scales: o.scales,
      pods: o.pods,
      metrics: o.metrics,
      overlapping: (namespace, name, pods) => this.selectors.overlapping(namespace, name, pods),
    };
    this.out = o.dryRun
      ? new DryRunWriter({
          log: o.log,
          hpas: o.writer,
          events: o.events,
          annotate: o.dryRunAnnotate === true,
        })
      : new ActiveWriter({
          log: o.log,
          scales: o.scales,
          hpas: o.writer,
          events: o.events,
          applyScaleResult: o.applyScaleResult ?? algorithmApplyScaleResult,
        });
  }

  get isRunning(): boolean {
    return this.running;
  }
  /** keys waiting for their next sync or being synced */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * Start syncing every known HPA (as the leader). History is read afresh from the annotations,
   * since another replica may have led meanwhile.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.out.forgetAll();
    this.failures.clear();
    this.metricSelectors.clear();
    this.goodReadings.clear();
    this.metricFailures.clear();
    this.queue = new WorkQueue(this.o.clock);
    for (const key of this.o.hpas.keys()) this.queue.add(key);
    const n = Math.max(1, this.o.concurrentSyncs);
    this.workers = Array.from({ length: n }, () => this.worker(this.queue));
    this.o.log.info({ hpas: this.queue.size, workers: n, dryRun: this.o.dryRun }, "controller started");
  }

  /** Stop handing out syncs and wait for the ones in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.queue.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
    this.o.log.info("controller stopped");
  }

  /** Informer: an HPA appeared or changed. Sync at once when something we act on changed. */
  onHpaChanged(key: string, before: CachedHpa | undefined, after: CachedHpa): void {
    if (!this.running) return;
    if (before === undefined || relevantChange(before, after)) this.queue.add(key);
  }

  onHpaDeleted(key: string): void {
    this.out.forget(key);
    this.metricSelectors.delete(key);
    this.failures.delete(key);
    this.goodReadings.delete(key);
    this.metricFailures.delete(key);
    const [namespace = "", name = ""] = key.split("/");
    this.selectors.forget(namespace, name);
    this.o.telemetry.forgetHpa(namespace, name);
    if (this.running) this.queue.remove(key);
  }

  private async worker(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.o.telemetry.queueDepth.set(queue.length);
      this.inFlight++;
      let outcome: SyncOutcome;
      try {
        outcome = await this.syncKey(key);
      } catch (err) {
        // a bug, not a cluster problem: log it and keep the HPA on its schedule
        this.o.log.error({ hpa: key, err: errorMessage(err) }, "sync crashed");
        this.o.telemetry.errors.inc({ reason: "InternalError" });
        outcome = {
          status: "synced",
          ok: false,
          errorReasons: ["InternalError"],
          nextSyncMs: this.o.syncPeriodMs,
        };
      } finally {
        this.inFlight--;
      }
      if (outcome.status === "synced")
        queue.addAfter(key, this.nextDelay(key, outcome.ok, outcome.nextSyncMs));
      else {
        this.out.forget(key);
        this.failures.delete(key);
        this.metricSelectors.delete(key);
        this.goodReadings.delete(key);
        this.metricFailures.delete(key);
      }
      queue.done(key);
    }
  }

  private nextDelay(key: string, ok: boolean, periodMs: number): number {
    if (ok) {
      this.failures.delete(key);
      return periodMs;
    }
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(periodMs * 2 ** (n - 1), Math.max(periodMs, this.o.maxBackoffMs));
  }

  /** One sync of one HPA. Public for tests; the workers call it. */
  async syncKey(key: string): Promise<SyncOutcome> {
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cached = this.o.hpas.get(namespace, name);
    if (cached === undefined) return { status: "skipped", why: "gone" };
    const started = performance.now();
    try {
      if (!cached.ok) return await this.syncUnparsable(cached);
      if (!isOwned(cached.hpa.metadata.annotations, this.o.ownership))
        return { status: "skipped", why: "not-owned" };
      return await this.syncHpa(key, cached.hpa);
    } finally {
      this.o.telemetry.syncDuration.observe((performance.now() - started) / 1000);
    }
  }

  private async syncUnparsable(c: Extract<CachedHpa, { ok: false }>): Promise<SyncOutcome> {
    const raw = c.raw as { metadata?: { uid?: string; resourceVersion?: string } } | null;
    const ref: EventObjectRef = {
      namespace: c.namespace,
      name: c.name,
      uid: raw?.metadata?.uid,
      resourceVersion: raw?.metadata?.resourceVersion,
    };
    const message = `the HPA spec could not be read: ${c.error.replace(/\s+/g, " ").slice(0, 500)}`;
    this.o.log.warn({ hpa: `${c.namespace}/${c.name}`, err: c.error }, "invalid HPA");
    this.out.event(ref, { type: "Warning", reason: INVALID_SPEC, message });
    this.o.telemetry.errors.inc({ reason: INVALID_SPEC });
    this.o.telemetry.syncs.inc({ result: "error" });
    await this.out.invalidSpec(c.namespace, c.name, message, this.o.clock.now());
    return { status: "synced", ok: false, errorReasons: [INVALID_SPEC], nextSyncMs: this.o.syncPeriodMs };
  }

  private async syncHpa(key: string, hpa: HorizontalPodAutoscaler): Promise<SyncOutcome> {
    const { o, out } = this;
    // read
    const inputs = await readSyncInputs(this.readers, hpa, {
      now: o.clock.now(),
      settings: o.settings,
      syncPeriodMs: o.syncPeriodMs,
      metricsSelectorHint: this.metricSelectors.get(key),
    });
    const { namespace, current, now } = inputs;
    if (inputs.metricsSelector !== undefined) this.metricSelectors.set(key, inputs.metricsSelector);
    else this.metricSelectors.delete(key);
    if (current !== undefined) this.selectors.remember(namespace, hpa.metadata.name, current.selector);

    // stale samples fail; remembered good readings stand in for failed ones (resilience.ts)
    const policy = resolvePolicy(o.resilience ?? {}, inputs.overrides);
    const read = inputs.metricsSelector !== undefined;
    const prepared = prepareReadings({
      specs: hpa.spec.metrics ?? [],
      responses: inputs.metricResponses,
      read,
      remembered: this.goodReadings.get(key),
      policy,
      now,
    });
    if (prepared.remembered.size > 0) this.goodReadings.set(key, prepared.remembered);
    else this.goodReadings.delete(key);

    // compute
    const input: ReconcileInput = {
      now,
      settings: inputs.settings,
      hpa,
      scale: inputs.scale,
      pods: inputs.pods,
      metricResponses: prepared.responses,
      history: out.history(key, inputs),
      otherHpaSelectors: inputs.otherHpaSelectors,
    };
    let computed = holdIfLastKnownGoodScalesDown(input, this.reconcile(input), prepared.substitutions);
    const failedBefore = this.metricFailures.get(key) ?? 0;
    const failedSyncs = !read ? failedBefore : metricsFailed(computed, prepared) ? failedBefore + 1 : 0;
    if (failedSyncs > 0) this.metricFailures.set(key, failedSyncs);
    else this.metricFailures.delete(key);
    computed = applyFallback(input, computed, failedSyncs, policy.fallback, inputs.settings);

    // write: the annotations' problems first, then the result
    const errorReasons: string[] = [];
    for (const problem of inputs.overrides.problems) {
      out.event(inputs.ref, { type: "Warning", reason: INVALID_ANNOTATION, message: problem });
      errorReasons.push(INVALID_ANNOTATION);
    }
    const { result, errorReasons: failed } = await out.write(key, inputs, input, computed);
    errorReasons.push(...failed);

    observeSync(o.telemetry, inputs, result, errorReasons);
    return {
      status: "synced",
      ok: errorReasons.length === 0,
      errorReasons,
      nextSyncMs: inputs.nextSyncMs,
      result,
    };
  }
}

function observeSync(
  t: Telemetry,
  inputs: SyncInputs,
  result: ReconcileResult,
  errorReasons: string[],
): void {
  const hpa = { namespace: inputs.namespace, name: inputs.hpa.metadata.name };
  const currentReplicas = inputs.current?.replicas;
  for (const r of errorReasons) t.errors.inc({ reason: r });
  t.syncs.inc({ result: errorReasons.length === 0 ? "success" : "error" });
  t.desiredReplicas.set(hpa, result.desiredReplicas);
  if (currentReplicas !== undefined) t.currentReplicas.set(hpa, currentReplicas);
  const direction =
    currentReplicas === undefined || result.desiredReplicas === currentReplicas
      ? "none"
      : result.desiredReplicas > currentReplicas
        ? "up"
        : "down";
  const reason = result.scaled ? (result.rescaleReason ?? "Unknown") : holdReason(result.status);
  t.decisions.inc({ direction: result.scaled ? direction : "none", reason });
}

/** Why a sync left the size alone, from the conditions: a failure first, then a limit, then AbleToScale's reason. */
function holdReason(status: HorizontalPodAutoscalerStatus): string {
  const c = (type: string) => status.conditions?.find((x) => x.type === type);
  const able = c("AbleToScale");
  const active = c("ScalingActive");
  const limited = c("ScalingLimited");
  if (able?.status === "False") return able.reason ?? "Unknown";
  if (active?.status === "False") return active.reason ?? "Unknown";
  if (limited?.status === "True") return limited.reason ?? "Unknown";
  return able?.reason ?? "Unknown";
}

function relevantChange(before: CachedHpa, after: CachedHpa): boolean {
  if (before.ok !== after.ok) return true;
  if (!before.ok || !after.ok) return true;
  const a = before.hpa.metadata;
  const b = after.hpa.metadata;
  if (a.uid !== b.uid || a.generation !== b.generation) return true;
  for (const k of OVERRIDE_ANNOTATIONS) if (a.annotations?.[k] !== b.annotations?.[k]) return true;
  // ownership by annotation may have changed; any non-history annotation change counts
  const strip = (x: Record<string, string> | null | undefined) =>
    stableJson(
      Object.fromEntries(
        Object.entries(x ?? {}).filter(
          ([k]) => k !== HISTORY_ANNOTATION && k !== DRY_RUN_DECISION_ANNOTATION,
        ),
      ),
    );
  return strip(a.annotations) !== strip(b.annotations);
}
