// Replaying a recording through a candidate HPA (pure): the recording becomes a simulate
// scenario — one step per recorded step, the load model deciding each metric's level — and
// `simulate` runs it sync by sync through the same algorithm the autoscaler runs.
import type { HorizontalPodAutoscaler, ResourceList } from "../kube/objects.js";
import { Quantity } from "../kube/quantity.js";
import {
  metricKey,
  type Level,
  type Scenario,
  type ScenarioMetric,
  type SimulationSettings,
} from "../simulate/scenario.js";
import { simulate, type SimulationResult, type SyncRecord } from "../simulate/simulate.js";
import type { Recording } from "./read.js";

/**
 * demand: a per-pod metric's recorded value × the recorded replicas is the load, spread over the
 * simulated Ready pods (more replicas, lower per-pod value); per-pod: every Ready pod reports the
 * recorded per-pod value. Object and External values are replayed as recorded in both.
 */
export type LoadModel = "demand" | "per-pod";

export const LOAD_MODEL_TEXT: Record<LoadModel, string> = {
  demand:
    "demand: each Pods/Resource metric's recorded per-pod value × the recorded replicas is the load, spread evenly over the simulated Ready pods; Object/External values as recorded",
  "per-pod":
    "per-pod: every simulated Ready pod reports the recorded per-pod value; Object/External values as recorded",
};

export interface ReplayOptions {
  model: LoadModel;
  settings: SimulationSettings;
  /** how long a new pod stays not Ready */
  readyAfterMs: number;
  /** each pod's requests (Utilization targets need them) */
  requests: ResourceList;
}

export interface CandidateStats {
  replicaHours: number;
  /** seconds during which some metric was above its target */
  secondsAboveTarget: number;
  scaleEvents: number;
  peakReplicas: number;
  finalReplicas: number;
}

export interface SizeChange {
  /** epoch ms */
  time: number;
  from: number;
  to: number;
}

export interface CandidateReplay {
  name: string;
  stats: CandidateStats;
  changes: SizeChange[];
  result: SimulationResult;
  scenario: Scenario;
}

const PER_POD = new Set(["Resource", "ContainerResource", "Pods"]);

/** The recording as a simulate scenario for `hpa`, whose metrics must be the recording's, in order. */
export function toScenario(
  recording: Recording,
  hpa: HorizontalPodAutoscaler,
  o: Omit<ReplayOptions, "settings">,
): Scenario {
  const metrics: ScenarioMetric[] = recording.metrics.map((m) => ({
    key: metricKey(m.spec) ?? "",
    spec: m.spec,
  }));
  const container =
    recording.metrics.find((m) => m.spec.type === "ContainerResource")?.spec.containerResource?.container ??
    "app";
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const firstRecorded = recording.replicas.find((r) => r !== null) ?? null;
  return {
    hpa,
    metrics,
    initialReplicas: firstRecorded ?? minReplicas,
    containers: [{ name: container, requests: o.requests }],
    labels: { "replay.prom-hpa.io/target": hpa.spec.scaleTargetRef.name },
    metricWindowMs: 60_000,
    settings: {},
    steps: recording.times.map((t, i) => {
      const levels = new Map<string, Level>();
      recording.metrics.forEach((m, j) => {
        const key = metrics[j]?.key ?? "";
        const v = m.values[i];
        if (v === null || v === undefined) {
          levels.set(key, { kind: "error", message: "nothing recorded at this time" });
          return;
        }
        const milli = BigInt(Math.round(v * 1000));
        if (!PER_POD.has(m.spec.type)) levels.set(key, { kind: "total", milli });
        else if (o.model === "per-pod") levels.set(key, { kind: "perPod", milli });
        else {
          const replicas = recording.replicas[i] ?? m.podCounts?.[i] ?? 1;
          levels.set(key, { kind: "total", milli: milli * BigInt(replicas) });
        }
      });
      return {
        name: new Date(t).toISOString(),
        durationMs: recording.stepMs,
        levels,
        readyAfterMs: o.readyAfterMs,
      };
    }),
  };
}

/** current/target of a metric as the simulation reports it ("80%"/"60%", "15"/"10"); undefined when unknown. */
function ratio(current: string | undefined, target: string): number | undefined {
  if (current === undefined) return undefined;
  if (current.endsWith("%") && target.endsWith("%"))
    return Number(current.slice(0, -1)) / Number(target.slice(0, -1));
  const c = Quantity.parse(current);
  const t = Quantity.parse(target);
  if (!c.ok || !t.ok || t.value.isZero()) return undefined;
  return c.value.toNumber() / t.value.toNumber();
}

export function aboveTarget(s: SyncRecord): boolean {
  return s.metrics.some((m) => (ratio(m.current, m.target) ?? 0) > 1);
}

function stats(result: SimulationResult, periodMs: number): CandidateStats {
  let replicaMs = 0;
  let aboveMs = 0;
  for (const s of result.syncs) {
    replicaMs += (s.scaled ? s.desiredReplicas : s.replicas) * periodMs;
    if (aboveTarget(s)) aboveMs += periodMs;
  }
  return {
    replicaHours: Math.round((replicaMs / 3_600_000) * 1000) / 1000,
    secondsAboveTarget: Math.round(aboveMs / 1000),
    scaleEvents: result.rescales.length,
    peakReplicas: result.maxReplicas,
    finalReplicas: result.finalReplicas,
  };
}

export function replayCandidate(
  name: string,
  recording: Recording,
  hpa: HorizontalPodAutoscaler,
  o: ReplayOptions,
): CandidateReplay {
  const scenario = toScenario(recording, hpa, o);
  const result = simulate(scenario, o.settings);
  return {
    name,
    stats: stats(result, o.settings.syncPeriodMs),
    changes: result.rescales.map((r) => ({ time: recording.startMs + r.t, from: r.from, to: r.to })),
    result,
    scenario,
  };
}

/** The recorded sizes' changes and figures, for comparison with the candidates. */
export function recordedFigures(recording: Recording): {
  stats: Omit<CandidateStats, "secondsAboveTarget">;
  changes: SizeChange[];
} {
  const changes: SizeChange[] = [];
  let last: number | null = null;
  let replicaMs = 0;
  let peak = 0;
  recording.replicas.forEach((r, i) => {
    if (r === null) return;
    replicaMs += r * recording.stepMs;
    peak = Math.max(peak, r);
    if (last !== null && r !== last) changes.push({ time: recording.times[i] ?? 0, from: last, to: r });
    last = r;
  });
  return {
    stats: {
      replicaHours: Math.round((replicaMs / 3_600_000) * 1000) / 1000,
      scaleEvents: changes.length,
      peakReplicas: peak,
      finalReplicas: last ?? 0,
    },
    changes,
  };
}
