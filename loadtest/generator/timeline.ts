// The timeline a run records: one sample every sampleInterval, written as timeline.json
// (`{"samples": [{"t", "rps", "metric", "currentReplicas", "desiredReplicas"}, ...]}`).
import type { Segment } from "./schedule.js";

export interface Sample {
  /** Seconds since the scenario started. */
  t: number;
  /** Responses per second since the previous sample. */
  rps: number;
  /** The metric the HPA sees, in its own unit; null when it could not be read. */
  metric: number | null;
  currentReplicas: number | null;
  desiredReplicas: number | null;
}

export interface PhaseSpan {
  /** Index of the phase in the scenario. */
  index: number;
  name: string;
  type: string;
  start: number;
  end: number;
  /** The phase's rate as written: "1→30", "40", "max", "0". */
  targetRps: string;
}

export interface Timeline {
  samples: Sample[];
  /** Which phase ran when (extra to the samples; the chart shades them). */
  phases: PhaseSpan[];
  /** What the metric column is, e.g. `pods/cpu_system` (extra; the chart's axis title). */
  metricName?: string;
}

export function phaseSpans(segments: readonly Segment[]): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const s of segments) {
    const last = spans[spans.length - 1];
    if (last !== undefined && last.index === s.phase) last.end = s.start + s.duration;
    else
      spans.push({
        index: s.phase,
        name: s.phaseName,
        type: s.type,
        start: s.start,
        end: s.start + s.duration,
        targetRps: s.targetRps,
      });
  }
  return spans;
}

/** JSON with the sample fields in their documented order, rounded for reading. */
export function renderTimelineJson(timeline: Timeline): string {
  const samples = timeline.samples.map((s) => ({
    t: round(s.t, 3),
    rps: round(s.rps, 2),
    metric: s.metric === null ? null : round(s.metric, 6),
    currentReplicas: s.currentReplicas,
    desiredReplicas: s.desiredReplicas,
  }));
  return `${JSON.stringify(
    {
      samples,
      phases: timeline.phases,
      ...(timeline.metricName !== undefined ? { metricName: timeline.metricName } : {}),
    },
    null,
    2,
  )}\n`;
}

export interface PhaseSummary {
  phase: string;
  type: string;
  seconds: number;
  /** The rate the scenario asked for: "10→40", "40", "max", "0". */
  targetRps: string;
  meanRps: number;
  metricMean: number | null;
  metricMax: number | null;
  replicasMin: number | null;
  replicasMax: number | null;
  replicasEnd: number | null;
}

/** One row per phase, from the samples taken while it ran. */
export function summarize(timeline: Timeline): PhaseSummary[] {
  return timeline.phases.map((span) => {
    // A sample describes the interval since the previous one: it belongs to the phase that
    // ran in that interval's middle (robust to samples landing a hair either side of a boundary).
    const inPhase = timeline.samples.filter((s, i) => {
      const prev = timeline.samples[i - 1];
      if (prev === undefined) return false;
      const middle = (prev.t + s.t) / 2;
      return middle >= span.start && middle < span.end;
    });
    const metrics = inPhase.map((s) => s.metric).filter((m): m is number => m !== null);
    const replicas = inPhase.map((s) => s.currentReplicas).filter((r): r is number => r !== null);
    return {
      phase: span.name,
      type: span.type,
      seconds: round(span.end - span.start, 1),
      targetRps: span.targetRps,
      meanRps: round(mean(inPhase.map((s) => s.rps)) ?? 0, 1),
      metricMean: metrics.length > 0 ? round(mean(metrics) ?? 0, 4) : null,
      metricMax: metrics.length > 0 ? round(Math.max(...metrics), 4) : null,
      replicasMin: replicas.length > 0 ? Math.min(...replicas) : null,
      replicasMax: replicas.length > 0 ? Math.max(...replicas) : null,
      replicasEnd: replicas.length > 0 ? (replicas[replicas.length - 1] ?? null) : null,
    };
  });
}

function mean(xs: number[]): number | undefined {
  return xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
