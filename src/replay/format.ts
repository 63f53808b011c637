// How a replay reads: the candidates side by side with the recorded run, each one's sequence of
// sizes, or the same as JSON.
import Table from "cli-table3";
import { formatDuration } from "../kube/duration.js";
import type { Recording } from "./read.js";
import {
  LOAD_MODEL_TEXT,
  recordedFigures,
  type CandidateReplay,
  type LoadModel,
  type SizeChange,
} from "./replay.js";

const clock = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

export function changesText(changes: readonly SizeChange[]): string {
  return changes.length === 0
    ? "(no change)"
    : changes.map((c) => `${c.from}→${c.to} at ${clock(c.time)}`).join(", ");
}

export interface ReplayReport {
  recording: Recording;
  model: LoadModel;
  syncPeriodMs: number;
  candidates: CandidateReplay[];
}

export function renderReplayTable(r: ReplayReport): string {
  const recorded = recordedFigures(r.recording);
  const first = r.recording.times[0] ?? 0;
  const last = r.recording.times.at(-1) ?? first;
  const lines = [
    `window ${clock(first)} – ${clock(last)}, step ${formatDuration(r.recording.stepMs)}, sync period ${formatDuration(r.syncPeriodMs)}`,
    `load model: ${LOAD_MODEL_TEXT[r.model]}`,
    `recorded replicas: ${r.recording.replicasSource}`,
    "",
  ];
  const table = new Table({
    head: ["", "replica-hours", "time above target", "scale events", "peak replicas", "final replicas"],
    style: { head: [], border: [], compact: true },
  });
  table.push([
    "recorded",
    String(recorded.stats.replicaHours),
    "",
    String(recorded.stats.scaleEvents),
    String(recorded.stats.peakReplicas),
    String(recorded.stats.finalReplicas),
  ]);
  for (const c of r.candidates) {
    table.push([
      c.name,
      String(c.stats.replicaHours),
      formatDuration(c.stats.secondsAboveTarget * 1000),
      String(c.stats.scaleEvents),
      String(c.stats.peakReplicas),
      String(c.stats.finalReplicas),
    ]);
  }
  lines.push(table.toString(), "", `recorded sizes: ${changesText(recorded.changes)}`);
  for (const c of r.candidates) lines.push(`${c.name} sizes: ${changesText(c.changes)}`);
  return lines.join("\n");
}

export function replayJson(r: ReplayReport): unknown {
  const recorded = recordedFigures(r.recording);
  return {
    window: {
      start: clock(r.recording.times[0] ?? 0),
      end: clock(r.recording.times.at(-1) ?? 0),
      stepSeconds: r.recording.stepMs / 1000,
    },
    syncPeriodSeconds: r.syncPeriodMs / 1000,
    model: r.model,
    modelText: LOAD_MODEL_TEXT[r.model],
    replicasSource: r.recording.replicasSource,
    queries: r.recording.metrics.map((m) => m.query),
    recorded: {
      ...recorded.stats,
      changes: recorded.changes.map((c) => ({ ...c, time: clock(c.time) })),
      replicas: r.recording.times.map((t, i) => ({
        time: clock(t),
        replicas: r.recording.replicas[i] ?? null,
      })),
    },
    candidates: r.candidates.map((c) => ({
      name: c.name,
      ...c.stats,
      changes: c.changes.map((x) => ({ ...x, time: clock(x.time) })),
      syncs: c.result.syncs.map((s) => ({
        time: clock(r.recording.startMs + s.t),
        replicas: s.replicas,
        desiredReplicas: s.desiredReplicas,
        scaled: s.scaled,
        metrics: s.metrics.map((m) => ({ key: m.key, current: m.current ?? null, target: m.target })),
        ...(s.rescaleReason !== undefined ? { reason: s.rescaleReason } : {}),
      })),
    })),
  };
}
