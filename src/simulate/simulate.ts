// The simulation loop: the scenario's clock advances one sync period at a time; at each sync the
// step in force is turned into what the metrics APIs would answer for the pods that exist right
// then, and the pure `reconcile` decides, exactly as the autoscaler's loop would. A scale creates
// (or deletes) pods at once, as a Deployment with room to schedule would.
import {
  reconcile,
  type ControllerEvent,
  type ReconcileInput,
  type ReconcileResult,
  type HpaCondition,
  type HpaHistory,
} from "../autoscaler/algorithm/index.js";
import {
  epochMsToKubeTime,
  type ExternalMetricValueList,
  type HorizontalPodAutoscaler,
  type MetricResponse,
  type MetricStatus,
  type MetricValueList,
  type Pod,
  type PodMetricsList,
} from "../kube/objects.js";
import { Quantity } from "../kube/quantity.js";
import type { Level, Scenario, ScenarioMetric, SimulationSettings } from "./scenario.js";

/** t = 0 of every simulation: a fixed instant, so that runs are reproducible and no clock is read. */
export const SIMULATION_EPOCH_MS = Date.parse("2026-01-01T00:00:00Z");

export interface MetricReading {
  key: string;
  type: string;
  /** what the HPA status reports (e.g. "80%", "52428800", "15m"); undefined when the metric failed */
  current?: string;
  /** the spec's target in the same form */
  target: string;
}

export interface SyncRecord {
  /** ms since the start */
  t: number;
  /** index into scenario.steps */
  step: number;
  stepName?: string;
  /** replicas before the sync, and how many of those pods were Ready */
  replicas: number;
  readyReplicas: number;
  /** the size the sync chose (equal to replicas when nothing is written) */
  desiredReplicas: number;
  scaled: boolean;
  rescaleReason?: string;
  /** the size the legacy delays kept it from writing, and which delay */
  heldBack?: { replicas: number; by: "upscale delay" | "downscale delay" };
  metrics: MetricReading[];
  /** conditions whose status or reason changed at this sync (all of them at the first) */
  changedConditions: HpaCondition[];
  conditions: HpaCondition[];
  events: ControllerEvent[];
}

export interface Rescale {
  t: number;
  from: number;
  to: number;
  reason: string;
}

export interface SimulationResult {
  settings: SimulationSettings;
  durationMs: number;
  syncs: SyncRecord[];
  rescales: Rescale[];
  minReplicas: number;
  maxReplicas: number;
  finalReplicas: number;
}

interface SimPod {
  name: string;
  createdAt: number;
  readyAt: number;
}

function targetText(spec: ScenarioMetric["spec"]): {
  kind: "Utilization" | "Value" | "AverageValue";
  text: string;
} {
  const target =
    spec.resource?.target ??
    spec.containerResource?.target ??
    spec.pods?.target ??
    spec.object?.target ??
    spec.external?.target;
  if (!target) return { kind: "Value", text: "?" };
  if (target.type === "Utilization")
    return { kind: "Utilization", text: `${target.averageUtilization ?? "?"}%` };
  const q = target.type === "AverageValue" ? target.averageValue : target.value;
  return { kind: target.type, text: q ? q.toString() : "?" };
}

/** The current value from the status entry in the same form as the target (BinarySI targets read as Mi/Gi). */
function currentText(
  status: MetricStatus | undefined,
  kind: "Utilization" | "Value" | "AverageValue",
  binary: boolean,
): string | undefined {
  const current =
    status?.resource?.current ??
    status?.containerResource?.current ??
    status?.pods?.current ??
    status?.object?.current ??
    status?.external?.current;
  if (!current) return undefined;
  if (kind === "Utilization")
    return current.averageUtilization !== undefined ? `${current.averageUtilization}%` : undefined;
  const q =
    kind === "AverageValue"
      ? (current.averageValue ?? current.value)
      : (current.value ?? current.averageValue);
  if (!q) return undefined;
  return binary ? binaryText(q) : q.toString();
}

const BINARY_UNITS: [string, bigint][] = [
  ["Ti", 1024n ** 4n],
  ["Gi", 1024n ** 3n],
  ["Mi", 1024n ** 2n],
  ["Ki", 1024n],
];

/** e.g. 62914560 → "60Mi", 65011712 → "62Mi" (rounded to a tenth of a unit when not whole). */
function binaryText(q: Quantity): string {
  const milli = q.milliValue();
  for (const [unit, size] of BINARY_UNITS) {
    if (milli >= size * 1000n) {
      const tenths = (milli * 10n + (size * 1000n) / 2n) / (size * 1000n);
      return tenths % 10n === 0n ? `${tenths / 10n}${unit}` : `${Number(tenths) / 10}${unit}`;
    }
  }
  return q.toString();
}

/** n shares of total that differ by at most one milli-unit and add up to it. */
function split(total: bigint, n: number): bigint[] {
  if (n === 0) return [];
  const base = total / BigInt(n);
  const rest = Number(total % BigInt(n));
  return Array.from({ length: n }, (_, i) => base + (i < rest ? 1n : 0n));
}

/** What each pod reports for a pod metric: Ready pods share the load, pods not Ready report zero. */
function perPodMilli(level: Level, pods: SimPod[], now: number): bigint[] {
  if (level.kind === "error") return [];
  const ready = pods.map((p) => p.readyAt <= now);
  // with no pod Ready yet, the load has nowhere else to go
  const serving = ready.some(Boolean) ? ready : pods.map(() => true);
  const shares = level.kind === "total" ? split(level.milli, serving.filter(Boolean).length) : [];
  let next = 0;
  return serving.map((serves) =>
    !serves ? 0n : level.kind === "perPod" ? level.milli : (shares[next++] ?? 0n),
  );
}

function metricResponse(
  scenario: Scenario,
  metric: ScenarioMetric,
  level: Level,
  pods: SimPod[],
  now: number,
): MetricResponse {
  if (level.kind === "error") return { error: level.message };
  const namespace = scenario.hpa.metadata.namespace ?? "default";
  const timestamp = epochMsToKubeTime(now);
  const windowSeconds = Math.round(scenario.metricWindowMs / 1000);
  const spec = metric.spec;
  if (spec.type === "Resource" || spec.type === "ContainerResource") {
    const resource = spec.resource?.name ?? spec.containerResource?.name ?? "";
    // the whole pod's usage sits in one container: the named one, or the first
    const busy = spec.containerResource?.container ?? scenario.containers[0]?.name;
    const values = perPodMilli(level, pods, now);
    const list: PodMetricsList = {
      apiVersion: "metrics.k8s.io/v1beta1",
      kind: "PodMetricsList",
      items: pods.map((p, i) => ({
        metadata: { name: p.name, namespace },
        timestamp,
        window: `${windowSeconds}s`,
        containers: scenario.containers.map((c) => ({
          name: c.name,
          usage: { [resource]: Quantity.fromMilli(c.name === busy ? (values[i] ?? 0n) : 0n) },
        })),
      })),
    };
    return list;
  }
  if (spec.type === "Pods") {
    const values = perPodMilli(level, pods, now);
    const list: MetricValueList = {
      apiVersion: "custom.metrics.k8s.io/v1beta2",
      kind: "MetricValueList",
      items: pods.map((p, i) => ({
        describedObject: { kind: "Pod", namespace, name: p.name, apiVersion: "/v1" },
        metric: { name: metric.key },
        timestamp,
        windowSeconds,
        value: Quantity.fromMilli(values[i] ?? 0n),
      })),
    };
    return list;
  }
  if (spec.type === "Object" && spec.object) {
    const d = spec.object.describedObject;
    const list: MetricValueList = {
      apiVersion: "custom.metrics.k8s.io/v1beta2",
      kind: "MetricValueList",
      items: [
        {
          describedObject: {
            kind: d.kind,
            name: d.name,
            namespace,
            ...(d.apiVersion !== undefined ? { apiVersion: d.apiVersion } : {}),
          },
          metric: { name: metric.key },
          timestamp,
          windowSeconds,
          value: Quantity.fromMilli(level.milli),
        },
      ],
    };
    return list;
  }
  const list: ExternalMetricValueList = {
    apiVersion: "external.metrics.k8s.io/v1beta1",
    kind: "ExternalMetricValueList",
    items: [
      {
        metricName: metric.key,
        metricLabels: {},
        timestamp,
        window: windowSeconds,
        value: Quantity.fromMilli(level.milli),
      },
    ],
  };
  return list;
}

function podObject(scenario: Scenario, p: SimPod, now: number): Pod {
  const ready = p.readyAt <= now;
  return {
    metadata: {
      name: p.name,
      namespace: scenario.hpa.metadata.namespace ?? "default",
      labels: { ...scenario.labels },
    },
    spec: {
      containers: scenario.containers.map((c) => ({ name: c.name, resources: { requests: c.requests } })),
    },
    status: {
      phase: "Running",
      startTime: epochMsToKubeTime(p.createdAt),
      conditions: [
        {
          type: "Ready",
          status: ready ? "True" : "False",
          lastTransitionTime: epochMsToKubeTime(ready ? p.readyAt : p.createdAt),
        },
      ],
    },
  };
}

/**
 * The delays gate the size after every other rule, so the same sync without them shows what they
 * held back (reconcile is pure: asking twice changes nothing).
 */
function heldBackBy(input: ReconcileInput, result: ReconcileResult): SyncRecord["heldBack"] {
  const { upscaleDelaySeconds, downscaleDelaySeconds } = input.settings;
  if (result.scaled || (upscaleDelaySeconds === 0 && downscaleDelaySeconds === 0) || "error" in input.scale)
    return undefined;
  const current = input.scale.replicas;
  const ungated = reconcile({
    ...input,
    settings: { ...input.settings, upscaleDelaySeconds: 0, downscaleDelaySeconds: 0 },
  });
  if (!ungated.scaled || ungated.desiredReplicas === current) return undefined;
  return {
    replicas: ungated.desiredReplicas,
    by: ungated.desiredReplicas > current ? "upscale delay" : "downscale delay",
  };
}

const conditionChanged = (before: HpaCondition[], c: HpaCondition): boolean => {
  const prev = before.find((b) => b.type === c.type);
  return !prev || prev.status !== c.status || prev.reason !== c.reason;
};

/** Run the scenario to its end; pure: the same scenario and settings give the same result. */
export function simulate(scenario: Scenario, settings: SimulationSettings): SimulationResult {
  const durationMs = scenario.steps.reduce((sum, s) => sum + s.durationMs, 0);
  const selector = Object.entries(scenario.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const base = scenario.hpa.spec.scaleTargetRef.name;
  let podSeq = 0;
  // the pods that exist before the simulation have long been Ready
  let pods: SimPod[] = Array.from({ length: scenario.initialReplicas }, () => ({
    name: `${base}-${podSeq++}`,
    createdAt: SIMULATION_EPOCH_MS - 3_600_000,
    readyAt: SIMULATION_EPOCH_MS - 3_600_000,
  }));
  let hpa: HorizontalPodAutoscaler = scenario.hpa;
  let history: HpaHistory | null = null;
  const syncs: SyncRecord[] = [];
  const rescales: Rescale[] = [];
  let minSeen = pods.length;
  let maxSeen = pods.length;

  let stepIndex = 0;
  let stepEnd = scenario.steps[0]?.durationMs ?? 0;
  for (let t = 0; t < durationMs; t += settings.syncPeriodMs) {
    while (t >= stepEnd && stepIndex < scenario.steps.length - 1) {
      stepIndex++;
      stepEnd += scenario.steps[stepIndex]?.durationMs ?? 0;
    }
    const step = scenario.steps[stepIndex];
    if (!step) break;
    const now = SIMULATION_EPOCH_MS + t;
    const replicas = pods.length;
    const metricResponses = scenario.metrics.map((m) =>
      metricResponse(scenario, m, step.levels.get(m.key) ?? { kind: "total", milli: 0n }, pods, now),
    );
    const input: ReconcileInput = {
      now,
      settings: settings.controller,
      hpa,
      scale: { replicas, selector },
      pods: pods.map((p) => podObject(scenario, p, now)),
      metricResponses,
      history,
    };
    const result = reconcile(input);
    const heldBack = heldBackBy(input, result);
    const before = (hpa.status?.conditions ?? []) as HpaCondition[];
    const conditions = (result.status.conditions ?? []) as HpaCondition[];
    syncs.push({
      t,
      step: stepIndex,
      ...(step.name !== undefined ? { stepName: step.name } : {}),
      replicas,
      readyReplicas: pods.filter((p) => p.readyAt <= now).length,
      desiredReplicas: result.desiredReplicas,
      scaled: result.scaled,
      ...(result.rescaleReason !== undefined ? { rescaleReason: result.rescaleReason } : {}),
      ...(heldBack ? { heldBack } : {}),
      metrics: scenario.metrics.map((m, i) => {
        const target = targetText(m.spec);
        const binary =
          (
            m.spec.resource?.target ??
            m.spec.containerResource?.target ??
            m.spec.pods?.target ??
            m.spec.object?.target ??
            m.spec.external?.target
          )?.averageValue?.format === "BinarySI";
        const current = currentText(result.status.currentMetrics?.[i] ?? undefined, target.kind, binary);
        return {
          key: m.key,
          type: m.spec.type,
          ...(current !== undefined ? { current } : {}),
          target: target.text,
        };
      }),
      changedConditions: conditions.filter((c) => conditionChanged(before, c)),
      conditions,
      events: result.events,
    });

    hpa = { ...hpa, status: result.status };
    history = result.history;
    if (result.scaled && result.desiredReplicas !== replicas) {
      rescales.push({ t, from: replicas, to: result.desiredReplicas, reason: result.rescaleReason ?? "" });
      if (result.desiredReplicas > replicas) {
        const readyAt = now + step.readyAfterMs;
        for (let n = replicas; n < result.desiredReplicas; n++)
          pods.push({ name: `${base}-${podSeq++}`, createdAt: now, readyAt });
      } else {
        // as a ReplicaSet does: pods not Ready go first, then the newest
        const doomed = [...pods]
          .sort((a, b) => Number(a.readyAt <= now) - Number(b.readyAt <= now) || b.createdAt - a.createdAt)
          .slice(0, replicas - result.desiredReplicas);
        pods = pods.filter((p) => !doomed.includes(p));
      }
      minSeen = Math.min(minSeen, pods.length);
      maxSeen = Math.max(maxSeen, pods.length);
    }
  }
  return {
    settings,
    durationMs,
    syncs,
    rescales,
    minReplicas: minSeen,
    maxReplicas: maxSeen,
    finalReplicas: pods.length,
  };
}
