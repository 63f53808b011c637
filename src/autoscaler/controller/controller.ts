// The control loop: a work queue of HPA keys, each synced every sync period (or its own, by
// annotation) by a bounded number of workers, with back-off after failed syncs. One sync reads
// the scale subresource, the pods (informer) and every metric, runs the pure algorithm, writes
// the scale, the status, Events and the history annotation. In dry-run it writes only Events
// (reason prefixed "DryRun"): nothing on the HPA, whose every write would make the built-in
// controller's next status update conflict; the history then lives in memory only, as upstream's
// does. `dryRunAnnotate` opts in to the would-be decision as an annotation, written on change.
import { kubeTimeToEpochMs, type HorizontalPodAutoscaler, type HorizontalPodAutoscalerStatus, type MetricResponse, type Pod } from "../../kube/objects.js";
import type { Logger } from "../../log/logger.js";
import {
  applyScaleResult as algorithmApplyScaleResult,
  reconcile as algorithmReconcile,
  storeScaleEvent,
  type ControllerEvent,
  type ControllerSettings,
  type HpaHistory,
  type ReconcileInput,
  type ReconcileResult,
} from "../algorithm/index.js";
import type { Telemetry } from "../telemetry.js";
import {
  DRY_RUN_DECISION_ANNOTATION,
  HISTORY_ANNOTATION,
  OVERRIDE_ANNOTATIONS,
  isOwned,
  readOverrides,
  type OwnershipAnnotation,
} from "./annotations.js";
import type { Clock } from "./clock.js";
import { parseHistory, serializeHistory } from "./history.js";
import type { CachedHpa, CurrentScale, EventObjectRef, EventRecorder, HpaLister, HpaWriter, MetricsClient, PodLister, ScaleClient } from "./ports.js";
import { WorkQueue } from "./queue.js";
import { parseSelector, selectorMatches, type ParsedSelector } from "../../kube/selector.js";
import { stableJson } from "./stable-json.js";

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
  /** the algorithm; replaceable in tests */
  reconcile?: (input: ReconcileInput) => ReconcileResult;
  applyScaleResult?: typeof algorithmApplyScaleResult;
}

export type SyncOutcome =
  | { status: "synced"; ok: boolean; errorReasons: string[]; nextSyncMs: number; result?: ReconcileResult }
  | { status: "skipped"; why: "gone" | "not-owned" };

interface Remembered {
  uid: string | undefined;
  /** null until the algorithm has started one (e.g. while the target's scale cannot be read) */
  history: HpaHistory | null;
  /** the history annotation as last written or read */
  persisted: string | undefined;
  /** the dry-run decision as last written or read (without its timestamp) */
  decision: string | undefined;
  /** dry-run: the target's replicas at the last sync, to notice the real scaler's changes */
  lastReplicas?: number | undefined;
  /** dry-run: status.lastScaleTime at the last sync, to tell a new one from a stale one */
  lastScaleTime?: number | undefined;
}

/** Reasons of our own failures (besides the algorithm's Warning events). */
export const FAILED_UPDATE_STATUS = "FailedUpdateStatus";
export const FAILED_PERSIST_HISTORY = "FailedPersistHistory";
export const INVALID_SPEC = "InvalidSpec";
export const INVALID_ANNOTATION = "InvalidAnnotation";

export function dryRunEvent(e: ControllerEvent): ControllerEvent {
  return { ...e, reason: e.reason === "SuccessfulRescale" ? "DryRunRescale" : `DryRun${e.reason}` };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class HpaController {
  private queue: WorkQueue;
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly memory = new Map<string, Remembered>();
  private readonly failures = new Map<string, number>();
  private readonly reconcile: (input: ReconcileInput) => ReconcileResult;
  private readonly applyScaleResult: typeof algorithmApplyScaleResult;
  private inFlight = 0;
  /** key → the selector the last sync read metrics with (metrics of the next sync start early with it) */
  private readonly metricSelectors = new Map<string, string>();
  /** namespace → HPA name → the scale selector its last sync saw (upstream's hpaSelectors) */
  private readonly selectors = new Map<string, Map<string, { text: string; parsed: ParsedSelector | null }>>();

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.clock);
    this.reconcile = o.reconcile ?? algorithmReconcile;
    this.applyScaleResult = o.applyScaleResult ?? algorithmApplyScaleResult;
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
    this.memory.clear();
    this.failures.clear();
    this.metricSelectors.clear();
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
    this.memory.delete(key);
    this.metricSelectors.delete(key);
    this.failures.delete(key);
    const [namespace = "", name = ""] = key.split("/");
    this.selectors.get(namespace)?.delete(name);
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
        outcome = { status: "synced", ok: false, errorReasons: ["InternalError"], nextSyncMs: this.o.syncPeriodMs };
      } finally {
        this.inFlight--;
      }
      if (outcome.status === "synced") queue.addAfter(key, this.nextDelay(key, outcome.ok, outcome.nextSyncMs));
      else {
        this.memory.delete(key);
        this.failures.delete(key);
        this.metricSelectors.delete(key);
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
      if (!isOwned(cached.hpa.metadata.annotations, this.o.ownership)) return { status: "skipped", why: "not-owned" };
      return await this.syncHpa(key, cached.hpa);
    } finally {
      this.o.telemetry.syncDuration.observe((performance.now() - started) / 1000);
    }
  }

  private emit(ref: EventObjectRef, e: ControllerEvent): void {
    this.o.events.record(ref, this.o.dryRun ? dryRunEvent(e) : e);
  }

  private async syncUnparsable(c: Extract<CachedHpa, { ok: false }>): Promise<SyncOutcome> {
    const raw = c.raw as { metadata?: { uid?: string; resourceVersion?: string } } | null;
    const ref: EventObjectRef = { namespace: c.namespace, name: c.name, uid: raw?.metadata?.uid, resourceVersion: raw?.metadata?.resourceVersion };
    const message = `the HPA spec could not be read: ${c.error.replace(/\s+/g, " ").slice(0, 500)}`;
    this.o.log.warn({ hpa: `${c.namespace}/${c.name}`, err: c.error }, "invalid HPA");
    this.emit(ref, { type: "Warning", reason: INVALID_SPEC, message });
    this.o.telemetry.errors.inc({ reason: INVALID_SPEC });
    this.o.telemetry.syncs.inc({ result: "error" });
    if (!this.o.dryRun) {
      const now = new Date(Math.floor(this.o.clock.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
      try {
        await this.o.writer.patchStatusConditions(c.namespace, c.name, [
          { type: "ScalingActive", status: "False", reason: INVALID_SPEC, message, lastTransitionTime: now },
        ]);
      } catch (err) {
        this.o.log.warn({ hpa: `${c.namespace}/${c.name}`, err: errorMessage(err) }, "could not set the InvalidSpec condition");
      }
    }
    return { status: "synced", ok: false, errorReasons: [INVALID_SPEC], nextSyncMs: this.o.syncPeriodMs };
  }

  /**
   * Remember this HPA's selector and return the other HPAs of the namespace whose last-seen
   * selector also selects one of its pods: only those can make the selection ambiguous, so the
   * algorithm gets a short list instead of every HPA of the namespace.
   */
  private trackSelector(namespace: string, name: string, text: string, pods: Pod[]): { name: string; selector: string }[] {
    let ns = this.selectors.get(namespace);
    if (ns === undefined) this.selectors.set(namespace, (ns = new Map()));
    const known = ns.get(name);
    if (known === undefined || known.text !== text) {
      const r = parseSelector(text);
      ns.set(name, { text, parsed: r.ok && text !== "" ? r.selector : null });
    }
    const out: { name: string; selector: string }[] = [];
    if (pods.length === 0) return out;
    for (const [other, sel] of ns) {
      if (other === name || sel.parsed === null) continue;
      const parsed = sel.parsed;
      if (pods.some((p) => selectorMatches(parsed, p.metadata.labels))) out.push({ name: other, selector: sel.text });
    }
    return out;
  }

  private async syncHpa(key: string, hpa: HorizontalPodAutoscaler): Promise<SyncOutcome> {
    const { o } = this;
    const namespace = hpa.metadata.namespace ?? "default";
    const ref: EventObjectRef = { namespace, name: hpa.metadata.name, uid: hpa.metadata.uid, resourceVersion: hpa.metadata.resourceVersion };
    const errorReasons: string[] = [];
    const annotations = hpa.metadata.annotations ?? {};

    const overrides = readOverrides(annotations);
    for (const problem of overrides.problems) {
      this.emit(ref, { type: "Warning", reason: INVALID_ANNOTATION, message: problem });
      errorReasons.push(INVALID_ANNOTATION);
    }
    const settings: ControllerSettings = {
      ...o.settings,
      upscaleDelaySeconds: overrides.upscaleDelaySeconds ?? o.settings.upscaleDelaySeconds,
      downscaleDelaySeconds: overrides.downscaleDelaySeconds ?? o.settings.downscaleDelaySeconds,
    };
    const nextSyncMs = overrides.syncPeriodMs ?? o.syncPeriodMs;
    const now = o.clock.now();

    // Metrics are read with the scale's selector. To save a round trip per sync, they are read
    // alongside the scale with the selector the last sync saw, and read again in the (rare) case
    // that the scale now reports another selector or autoscaling no longer needs them.
    const specMetrics = hpa.spec.metrics ?? [];
    const readMetrics = (sel: string) => Promise.all(specMetrics.map((m) => o.metrics.read(namespace, m, sel)));
    const lastSelector = this.metricSelectors.get(key);
    const early = lastSelector !== undefined ? { selector: lastSelector, responses: readMetrics(lastSelector) } : undefined;

    // the target's scale
    let current: CurrentScale | undefined;
    let scaleInput: ReconcileInput["scale"];
    try {
      current = await o.scales.getScale(namespace, hpa.spec.scaleTargetRef);
      scaleInput = { replicas: current.replicas, selector: current.selector };
    } catch (err) {
      scaleInput = { error: errorMessage(err) };
    }

    // pods and metrics, only when the algorithm may look at them: upstream computes metrics for a
    // target inside [minReplicas, maxReplicas], and for one at zero only with scale-to-zero
    let pods: Pod[] = [];
    let metricResponses: MetricResponse[];
    const minReplicas = hpa.spec.minReplicas ?? 1;
    const r = current?.replicas;
    const computes =
      r !== undefined && (r === 0 ? settings.scaleToZero === true || minReplicas === 0 : r <= hpa.spec.maxReplicas && r >= minReplicas);
    if (current !== undefined && computes) {
      const sel = current.selector;
      pods = o.pods.list(namespace, sel);
      metricResponses = early !== undefined && early.selector === sel ? await early.responses : await readMetrics(sel);
      this.metricSelectors.set(key, sel);
    } else {
      if (early !== undefined) await early.responses; // never rejects; do not leave it dangling
      this.metricSelectors.delete(key);
      metricResponses = specMetrics.map(() => ({ error: "not read: the algorithm does not need metrics for this target state" }));
    }

    // history: ours from the last sync, else what the last leader saved on the HPA (a dry-run
    // shadow keeps its own in memory and re-learns after a restart: it never scales)
    let mem = this.memory.get(key);
    if (mem !== undefined && mem.uid !== hpa.metadata.uid) mem = undefined;
    const persistedText = o.dryRun ? undefined : annotations[HISTORY_ANNOTATION];
    let history = mem?.history ?? parseHistory(persistedText, now);
    if (o.dryRun && history !== null && current !== undefined && mem?.lastReplicas !== undefined && mem.lastReplicas !== current.replicas) {
      // Shadow mode: the scale events that limit behavior policies are the real scaler's, not
      // ours (we never scale); record the change we observe, at its lastScaleTime when that is
      // new. The built-in writes its status after scaling and loses that write on a conflict, so
      // an unchanged lastScaleTime is the previous scale's: dating this one then would open the
      // next policy period too early. Now is at most a sync period late, which only holds longer.
      const lastScale = kubeTimeToEpochMs(hpa.status?.lastScaleTime);
      const at = lastScale !== undefined && lastScale <= now && lastScale !== mem.lastScaleTime ? lastScale : now;
      history = storeScaleEvent(hpa.spec.behavior, history, at, mem.lastReplicas, current.replicas, settings);
    }

    const otherHpaSelectors = current !== undefined ? this.trackSelector(namespace, hpa.metadata.name, current.selector, pods) : [];
    const input: ReconcileInput = { now, settings, hpa, scale: scaleInput, pods, metricResponses, history, otherHpaSelectors };
    let result = this.reconcile(input);

    if (result.scaled && current !== undefined && !o.dryRun) {
      try {
        await o.scales.updateScale(current, result.desiredReplicas);
        result = this.applyScaleResult(input, result, { ok: true });
      } catch (err) {
        result = this.applyScaleResult(input, result, { ok: false, error: errorMessage(err) });
        o.log.warn({ hpa: key, desiredReplicas: result.desiredReplicas, err: errorMessage(err) }, "could not update the scale");
      }
    }

    if (o.dryRun && result.scaled && result.history !== null) {
      // a would-be scale is not a scale event: keep the observed ones only
      result = { ...result, history: { ...result.history, scaleUpEvents: history?.scaleUpEvents ?? [], scaleDownEvents: history?.scaleDownEvents ?? [] } };
    }

    for (const e of result.events) {
      this.emit(ref, e);
      if (e.type === "Warning") errorReasons.push(e.reason);
    }

    // the status first: a status PUT carries the HPA's metadata, so it must not follow our annotation patch
    if (!o.dryRun && !statusEqual(hpa.status, result.status)) {
      try {
        await o.writer.updateStatus(hpa, result.status);
      } catch (err) {
        errorReasons.push(FAILED_UPDATE_STATUS);
        o.log.warn({ hpa: key, err: errorMessage(err) }, "could not update the HPA status");
      }
    }

    // remember; active: save the history to its annotation when the compacted form changed (the
    // next leader reads it); dry-run: memory only, plus the decision annotation if opted in
    const remembered: Remembered = mem ?? { uid: hpa.metadata.uid, history: null, persisted: persistedText, decision: undefined };
    if (result.history !== null) remembered.history = result.history;
    if (current !== undefined) remembered.lastReplicas = current.replicas;
    remembered.lastScaleTime = kubeTimeToEpochMs(hpa.status?.lastScaleTime);
    this.memory.set(key, remembered);
    const patch: Record<string, string | null> = {};
    const nextHistory = o.dryRun || remembered.history === null ? undefined : serializeHistory(remembered.history, now);
    if (nextHistory !== undefined && nextHistory !== remembered.persisted) patch[HISTORY_ANNOTATION] = nextHistory;
    const currentReplicas = "error" in scaleInput ? undefined : scaleInput.replicas;
    if (o.dryRun && o.dryRunAnnotate === true) {
      const decision = stableJson({
        currentReplicas: currentReplicas ?? null,
        desiredReplicas: result.desiredReplicas,
        wouldScale: result.scaled,
        reason: result.rescaleReason ?? null,
      });
      const previous = remembered.decision ?? decisionWithoutTime(annotations[DRY_RUN_DECISION_ANNOTATION]);
      if (decision !== previous) {
        patch[DRY_RUN_DECISION_ANNOTATION] = JSON.stringify({ ...(JSON.parse(decision) as object), time: new Date(now).toISOString() });
        remembered.decision = decision;
      }
    }
    if (Object.keys(patch).length > 0) {
      try {
        await o.writer.patchAnnotations(namespace, hpa.metadata.name, patch);
        if (nextHistory !== undefined && patch[HISTORY_ANNOTATION] !== undefined) remembered.persisted = nextHistory;
      } catch (err) {
        remembered.decision = undefined;
        errorReasons.push(FAILED_PERSIST_HISTORY);
        o.log.warn({ hpa: key, annotations: Object.keys(patch), err: errorMessage(err) }, "could not save the annotations");
      }
    }

    // telemetry
    const t = o.telemetry;
    for (const r of errorReasons) t.errors.inc({ reason: r });
    t.syncs.inc({ result: errorReasons.length === 0 ? "success" : "error" });
    t.desiredReplicas.set({ namespace, name: hpa.metadata.name }, result.desiredReplicas);
    if (currentReplicas !== undefined) t.currentReplicas.set({ namespace, name: hpa.metadata.name }, currentReplicas);
    const direction =
      currentReplicas === undefined || result.desiredReplicas === currentReplicas ? "none" : result.desiredReplicas > currentReplicas ? "up" : "down";
    const reason = result.scaled ? (result.rescaleReason ?? "Unknown") : holdReason(result.status);
    t.decisions.inc({ direction: result.scaled ? direction : "none", reason });

    return { status: "synced", ok: errorReasons.length === 0, errorReasons, nextSyncMs, result };
  }
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

function decisionWithoutTime(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const { time: _time, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return stableJson(rest);
  } catch {
    return undefined;
  }
}

function statusEqual(a: HorizontalPodAutoscalerStatus | undefined, b: HorizontalPodAutoscalerStatus): boolean {
  return stableJson(normalizeStatus(a ?? {})) === stableJson(normalizeStatus(b));
}

/** Null and missing fields are the same to the API. */
function normalizeStatus(s: HorizontalPodAutoscalerStatus): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v === null ? undefined : v)));
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
    stableJson(Object.fromEntries(Object.entries(x ?? {}).filter(([k]) => k !== HISTORY_ANNOTATION && k !== DRY_RUN_DECISION_ANNOTATION)));
  return strip(a.annotations) !== strip(b.annotations);
}
