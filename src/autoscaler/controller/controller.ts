// The control loop: a work queue of HPA keys, each synced every sync period (or its own, by
// annotation) by a bounded number of workers, whatever the last sync's outcome (requeue.ts). One sync reads
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
import { isOwned, type OwnershipAnnotation } from "./annotations.js";
import type { Clock } from "./clock.js";
import { ConsistencyStore } from "./consistency.js";
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
import { delayAfterSync, onUpdate, resyncPeriodMs } from "./requeue.js";
import {
  applyFallback,
  holdIfLastKnownGoodScalesDown,
  metricsFailed,
  prepareReadings,
  resolvePolicy,
  type GoodReading,
  type ResilienceDefaults,
} from "./resilience.js";
import { errorMessage } from "./error-message.js";
import { INVALID_ANNOTATION, INVALID_SPEC, type SyncWriter } from "./writer.js";
import { explain } from "../../explain/explain.js";
import {
  decisionKey,
  decisionRecord,
  LAST_DECISION_ANNOTATION,
  parseDecisionRecord,
  withLastRescale,
  type DecisionRecord,
} from "../../explain/record.js";

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
  /**
   * Ours, off unless above the sync period: back off between syncs of a failing HPA up to this
   * long. Upstream (and the default) syncs every HPA at its period whatever happened.
   */
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
  | { status: "skipped"; why: "gone" | "not-owned" }
  /** StaleControllerConsistencyHPA: the cache has not seen our last write yet; tried again next period */
  | { status: "deferred"; why: "stale-cache"; nextSyncMs: number };

export class HpaController {
  private queue: WorkQueue;
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly failures = new Map<string, number>();
  /** key → the explanation of the last sync, and the decision last written to the annotation */
  private readonly decisions = new Map<string, { record: DecisionRecord; written: string | undefined }>();
  private readonly reconcile: (input: ReconcileInput) => ReconcileResult;
  private inFlight = 0;
  /** key → the selector the last sync read metrics with (metrics of the next sync start early with it) */
  private readonly metricSelectors = new Map<string, string>();
  private readonly selectors = new HpaSelectors();
  private readonly consistency = new ConsistencyStore();
  /** o.writer, each write remembered by the consistency store */
  private readonly hpaWriter: HpaWriter;
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
      // upstream's validateAndParseSelector: record the selector, then match; a deleted HPA matches nothing
      overlapping: (namespace, name, pods, selector) =>
        this.selectors.putIfPresent(namespace, name, selector)
          ? this.selectors.overlapping(namespace, name, pods)
          : [],
    };
    // every write to an HPA is remembered, so its next sync waits until the cache has seen it
    const hpas = o.writer;
    const wroteAt = (
      namespace: string,
      name: string,
      w: { uid?: string | undefined; resourceVersion?: string | undefined } | void,
    ) => {
      if (w) this.consistency.wroteAt(`${namespace}/${name}`, w.uid, w.resourceVersion);
    };
    const writer: HpaWriter = {
      updateStatus: async (hpa, status) => {
        const w = await hpas.updateStatus(hpa, status);
        wroteAt(hpa.metadata.namespace ?? "default", hpa.metadata.name, w);
        return w;
      },
      patchAnnotations: async (namespace, name, annotations) => {
        const w = await hpas.patchAnnotations(namespace, name, annotations);
        wroteAt(namespace, name, w);
        return w;
      },
      patchStatusConditions: (namespace, name, conditions) =>
        hpas.patchStatusConditions(namespace, name, conditions),
    };
    this.hpaWriter = writer;
    this.out = o.dryRun
      ? new DryRunWriter({
          log: o.log,
          hpas: writer,
          events: o.events,
          annotate: o.dryRunAnnotate === true,
        })
      : new ActiveWriter({
          log: o.log,
          scales: o.scales,
          hpas: writer,
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
    this.selectors.clear();
    this.consistency.clearAll();
    this.goodReadings.clear();
    this.metricFailures.clear();
    this.queue = new WorkQueue(this.o.clock);
    for (const key of this.o.hpas.keys()) this.enqueue(key);
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

  /**
   * Informer: an HPA appeared or changed. A new one, or a spec change, is synced at once; any
   * other update (a status write, an annotation) waits for the HPA's period (upstream's updateHPA).
   */
  onHpaChanged(key: string, before: CachedHpa | undefined, after: CachedHpa): void {
    if (!this.running) return;
    if (before === undefined || onUpdate(before, after, this.o.settings.hpaGeneration) === "now")
      this.enqueue(key);
    else this.queue.addAfter(key, resyncPeriodMs(after, this.o.syncPeriodMs));
  }

  /** upstream's enqueueHPA: register the HPA's selector (selecting nothing yet), sync it now */
  private enqueue(key: string): void {
    const slash = key.indexOf("/");
    this.selectors.register(key.slice(0, slash), key.slice(slash + 1));
    this.queue.add(key);
  }

  onHpaDeleted(key: string): void {
    this.decisions.delete(key);
    this.out.forget(key);
    this.metricSelectors.delete(key);
    this.failures.delete(key);
    this.consistency.clear(key);
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
      else if (outcome.status === "deferred") queue.addAfter(key, outcome.nextSyncMs);
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
    const n = ok ? 0 : (this.failures.get(key) ?? 0) + 1;
    if (n === 0) this.failures.delete(key);
    else this.failures.set(key, n);
    return delayAfterSync(periodMs, n, this.o.maxBackoffMs);
  }

  /** One sync of one HPA. Public for tests; the workers call it. */
  async syncKey(key: string): Promise<SyncOutcome> {
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const stale = this.consistency.ensureReady(key, this.o.hpas.lastSyncResourceVersion?.(namespace));
    const cached = this.o.hpas.get(namespace, name);
    if (cached === undefined) {
      this.consistency.clear(key);
      return { status: "skipped", why: "gone" };
    }
    if (stale !== undefined) {
      this.o.log.debug({ hpa: key, ...stale }, "the HPA cache has not seen our last write yet");
      return {
        status: "deferred",
        why: "stale-cache",
        nextSyncMs: resyncPeriodMs(cached, this.o.syncPeriodMs),
      };
    }
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

  lastDecision(namespace: string, name: string): DecisionRecord | undefined {
    return this.decisions.get(`${namespace}/${name}`)?.record;
  }

  /**
   * Keep the explanation of this sync (for /debug/hpa) and, when active and the decision changed,
   * write it to the last-decision annotation. Explaining never fails a sync.
   */
  private async recordDecision(key: string, input: ReconcileInput, result: ReconcileResult): Promise<void> {
    let record: DecisionRecord;
    try {
      record = decisionRecord(explain(input, result));
    } catch (err) {
      this.o.log.warn({ hpa: key, err: errorMessage(err) }, "could not explain the sync");
      return;
    }
    const known = this.decisions.get(key);
    const written = known?.written ?? input.hpa.metadata.annotations?.[LAST_DECISION_ANNOTATION];
    const previous = known?.record ?? (written === undefined ? undefined : parseDecision(written));
    record = withLastRescale(record, previous);
    const entry = { record, written };
    this.decisions.set(key, entry);
    if (this.o.dryRun) return;
    const previousKey = written === undefined ? undefined : decisionKeyOf(written);
    if (previousKey === decisionKey(record)) return;
    const text = JSON.stringify(record);
    try {
      // Through the remembering writer: the next sync waits until the cache holds this patch too,
      // so its status write is not made on an older copy (which would conflict, unretried).
      await this.hpaWriter.patchAnnotations(
        input.hpa.metadata.namespace ?? "default",
        input.hpa.metadata.name,
        { [LAST_DECISION_ANNOTATION]: text },
      );
      entry.written = text;
    } catch (err) {
      this.o.log.warn(
        { hpa: key, annotations: [LAST_DECISION_ANNOTATION], err: errorMessage(err) },
        "could not save the annotations",
      );
    }
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
    const { now } = inputs;
    if (inputs.metricsSelector !== undefined) this.metricSelectors.set(key, inputs.metricsSelector);
    else this.metricSelectors.delete(key);

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

    await this.recordDecision(key, input, result);

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
function parseDecision(text: string): DecisionRecord | undefined {
  const parsed = parseDecisionRecord(text);
  return parsed.ok ? parsed.record : undefined;
}

function decisionKeyOf(text: string): string | undefined {
  const parsed = parseDecision(text);
  return parsed === undefined ? undefined : decisionKey(parsed);
}
