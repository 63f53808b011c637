// Small fakes at the autoscaler's client boundary (see src/autoscaler/controller/ports.ts).
import {
  horizontalPodAutoscalerSchema,
  type CrossVersionObjectReference,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerStatus,
  type MetricResponse,
  type MetricSpec,
  type Pod,
} from "../../../src/kube/objects.js";
import type {
  ControllerEvent,
  ReconcileInput,
  ReconcileResult,
} from "../../../src/autoscaler/algorithm/index.js";
import type {
  CachedHpa,
  CurrentScale,
  EventObjectRef,
  EventRecorder,
  HpaLister,
  HpaWriter,
  MetricsClient,
  PodLister,
  ScaleClient,
} from "../../../src/autoscaler/controller/ports.js";
import { FakeClock } from "../../../src/autoscaler/controller/clock.js";
import { HpaController, type ControllerOptions } from "../../../src/autoscaler/controller/controller.js";
import { readSyncInputs, type SyncInputs } from "../../../src/autoscaler/controller/read.js";
import { Telemetry } from "../../../src/autoscaler/telemetry.js";
import { silentLogger } from "../../../src/log/logger.js";
import { defaultControllerSettings } from "../../../src/autoscaler/algorithm/settings.js";

export function makeHpa(
  name: string,
  opts: {
    namespace?: string;
    annotations?: Record<string, string>;
    uid?: string;
    generation?: number;
    status?: HorizontalPodAutoscalerStatus;
  } = {},
): HorizontalPodAutoscaler {
  return horizontalPodAutoscalerSchema.parse({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name,
      namespace: opts.namespace ?? "default",
      uid: opts.uid ?? `uid-${name}`,
      resourceVersion: "1",
      generation: opts.generation ?? 1,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
        },
      ],
    },
    status: opts.status ?? { currentReplicas: 1, desiredReplicas: 1 },
  });
}

export class FakeHpas implements HpaLister {
  readonly items = new Map<string, CachedHpa>();
  set(hpa: HorizontalPodAutoscaler): void {
    this.items.set(`${hpa.metadata.namespace}/${hpa.metadata.name}`, { ok: true, hpa });
  }
  get(namespace: string, name: string): CachedHpa | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
  keys(): string[] {
    return [...this.items.keys()];
  }
}

export class FakePods implements PodLister {
  /** pods per namespace; list() returns those whose `app` label equals the selector's value */
  readonly pods: Pod[] = [];
  list(namespace: string, selector: string): Pod[] {
    const app = /^app=(.*)$/.exec(selector)?.[1];
    return this.pods.filter((p) => p.metadata.namespace === namespace && p.metadata.labels?.app === app);
  }
}

export class FakeScales implements ScaleClient {
  readonly replicas = new Map<string, number>();
  readonly updates: { name: string; replicas: number }[] = [];
  gets = 0;
  getError: string | undefined;
  updateError: string | undefined;
  /** resolves after this many ms of fake time, to test concurrency */
  delay: ((ms: number) => Promise<void>) | undefined;
  /** target name → scale selector (default app=<target name>) */
  readonly selectors = new Map<string, string>();
  async getScale(_namespace: string, target: CrossVersionObjectReference): Promise<CurrentScale> {
    this.gets++;
    if (this.delay) await this.delay(100);
    if (this.getError !== undefined) throw new Error(this.getError);
    return {
      replicas: this.replicas.get(target.name) ?? 1,
      selector: this.selectors.get(target.name) ?? `app=${target.name}`,
      handle: target.name,
    };
  }
  async updateScale(current: CurrentScale, replicas: number): Promise<void> {
    if (this.updateError !== undefined) throw new Error(this.updateError);
    this.updates.push({ name: current.handle as string, replicas });
    this.replicas.set(current.handle as string, replicas);
  }
}

export class FakeMetrics implements MetricsClient {
  readonly calls: { namespace: string; type: string; selector: string }[] = [];
  async read(namespace: string, metric: MetricSpec, podSelector: string): Promise<MetricResponse> {
    this.calls.push({ namespace, type: metric.type, selector: podSelector });
    return { kind: "PodMetricsList", items: [] };
  }
}

export class FakeWriter implements HpaWriter {
  readonly statuses: { name: string; status: HorizontalPodAutoscalerStatus }[] = [];
  readonly annotationPatches: { name: string; annotations: Record<string, string | null> }[] = [];
  readonly conditionPatches: { name: string; conditions: unknown[] }[] = [];
  statusError: string | undefined;
  constructor(private readonly hpas?: FakeHpas) {}
  async updateStatus(hpa: HorizontalPodAutoscaler, status: HorizontalPodAutoscalerStatus): Promise<void> {
    if (this.statusError !== undefined) throw new Error(this.statusError);
    this.statuses.push({ name: hpa.metadata.name, status });
    // like the informer would: the cache sees the written status
    if (this.hpas) this.hpas.set({ ...hpa, status });
  }
  async patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    this.annotationPatches.push({ name, annotations });
    const cached = this.hpas?.get(namespace, name);
    if (this.hpas && cached?.ok) {
      const merged: Record<string, string> = { ...(cached.hpa.metadata.annotations ?? {}) };
      for (const [k, v] of Object.entries(annotations)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      this.hpas.set({ ...cached.hpa, metadata: { ...cached.hpa.metadata, annotations: merged } });
    }
  }
  async patchStatusConditions(_namespace: string, name: string, conditions: unknown[]): Promise<void> {
    this.conditionPatches.push({ name, conditions });
  }
}

export class FakeEvents implements EventRecorder {
  readonly recorded: { name: string; event: ControllerEvent }[] = [];
  record(hpa: EventObjectRef, event: ControllerEvent): void {
    this.recorded.push({ name: hpa.name, event });
  }
  reasons(name?: string): string[] {
    return this.recorded.filter((r) => name === undefined || r.name === name).map((r) => r.event.reason);
  }
}

/**
 * A stand-in for the algorithm that makes the loop's behaviour easy to see: the desired count
 * comes from `desired` (default: unchanged); it records one recommendation per sync.
 */
export function fakeReconcile(
  desired: (input: ReconcileInput) => number = (i) => ("error" in i.scale ? 0 : i.scale.replicas),
) {
  const inputs: ReconcileInput[] = [];
  const fn = (input: ReconcileInput): ReconcileResult => {
    inputs.push(input);
    if ("error" in input.scale) {
      return {
        desiredReplicas: 0,
        scaled: false,
        status: {
          ...input.hpa.status,
          conditions: [
            { type: "AbleToScale", status: "False", reason: "FailedGetScale", message: input.scale.error },
          ],
        },
        events: [{ type: "Warning", reason: "FailedGetScale", message: input.scale.error }],
        history: input.history,
      };
    }
    const current = input.scale.replicas;
    const want = desired(input);
    const history = input.history ?? { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    const next = {
      ...history,
      recommendations: [...history.recommendations, { timestamp: input.now, replicas: want }],
    };
    const scaled = want !== current;
    return {
      desiredReplicas: want,
      scaled,
      ...(scaled
        ? {
            rescaleReason:
              want > current
                ? "cpu resource utilization (percentage of request) above target"
                : "All metrics below target",
          }
        : {}),
      status: {
        currentReplicas: current,
        desiredReplicas: want,
        conditions: [
          {
            type: "AbleToScale",
            status: "True",
            reason: scaled ? "SucceededRescale" : "ReadyForNewScale",
            message: "",
          },
        ],
      },
      events: scaled
        ? [{ type: "Normal", reason: "SuccessfulRescale", message: `New size: ${want}; reason: x` }]
        : [],
      history: next,
    };
  };
  return { fn, inputs };
}

export function makeController(over: Partial<ControllerOptions> = {}) {
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const hpas = new FakeHpas();
  const scales = new FakeScales();
  const metrics = new FakeMetrics();
  const writer = new FakeWriter(hpas);
  const events = new FakeEvents();
  const telemetry = new Telemetry({ dryRun: over.dryRun ?? false });
  const rec = fakeReconcile();
  const pods = new FakePods();
  const options: ControllerOptions = {
    clock,
    log: silentLogger,
    telemetry,
    hpas,
    pods,
    scales,
    metrics,
    writer,
    events,
    settings: { ...defaultControllerSettings },
    syncPeriodMs: 15_000,
    concurrentSyncs: 5,
    dryRun: false,
    maxBackoffMs: 120_000,
    reconcile: rec.fn,
    applyScaleResult: (_input, result, outcome) =>
      outcome.ok
        ? result
        : {
            ...result,
            events: [
              {
                type: "Warning",
                reason: "FailedRescale",
                message: `New size: ${result.desiredReplicas}; error: ${outcome.error}`,
              },
            ],
          },
    ...over,
  };
  const controller = new HpaController(options);
  return { controller, clock, hpas, scales, metrics, writer, events, telemetry, rec, options, pods };
}

/** The read phase over fakes: the HPA's target at `replicas` (or unreadable with `scaleError`). */
export async function readInputs(
  hpa: HorizontalPodAutoscaler,
  opts: { now: number; replicas?: number; scaleError?: string },
): Promise<SyncInputs> {
  const scales = new FakeScales();
  scales.replicas.set(hpa.spec.scaleTargetRef.name, opts.replicas ?? 1);
  scales.getError = opts.scaleError;
  return readSyncInputs(
    { scales, pods: new FakePods(), metrics: new FakeMetrics(), overlapping: () => [] },
    hpa,
    { now: opts.now, settings: { ...defaultControllerSettings }, syncPeriodMs: 15_000 },
  );
}
