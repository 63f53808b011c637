// The replay's chart, drawn with the load test's chart: per candidate, the recorded load (per-pod
// value × recorded replicas), the candidate's metric, and recorded vs simulated replicas.
import { renderChartSvg, type Sample } from "../chart/svg.js";
import type { ReplayReport } from "./format.js";
import type { CandidateReplay } from "./replay.js";
import type { Recording } from "./read.js";

/** The candidate's first metric as the simulation saw it, as a number (percent for Utilization). */
function metricNumber(c: CandidateReplay, syncIndex: number): number | null {
  const current = c.result.syncs[syncIndex]?.metrics[0]?.current;
  if (current === undefined) return null;
  const n = Number.parseFloat(current);
  return Number.isFinite(n) ? n : null;
}

function candidateSvg(recording: Recording, c: CandidateReplay): string {
  const first = recording.metrics[0];
  const samples: Sample[] = c.result.syncs.map((s, i) => {
    // the recorded step in force at this sync
    const step = Math.min(recording.times.length - 1, Math.floor(s.t / recording.stepMs));
    const perPod = first?.values[step] ?? null;
    const recordedReplicas = recording.replicas[step] ?? null;
    return {
      t: s.t / 1000,
      rps: perPod !== null && first?.podCounts ? perPod * (recordedReplicas ?? 0) : (perPod ?? 0),
      metric: metricNumber(c, i),
      currentReplicas: recordedReplicas,
      desiredReplicas: s.scaled ? s.desiredReplicas : s.replicas,
    };
  });
  return renderChartSvg(
    { samples, phases: [] },
    {
      title: `replay: ${c.name}`,
      loadName: first?.podCounts ? "recorded load (per pod × replicas)" : "recorded value",
      metricName: `${c.scenario.metrics[0]?.key ?? "metric"} (simulated)`,
      currentName: "recorded replicas",
      desiredName: "simulated replicas",
    },
  );
}

/** One chart per candidate, stacked in one SVG document. */
export function replaySvg(r: ReplayReport): string {
  const charts = r.candidates.map((c) => candidateSvg(r.recording, c));
  if (charts.length === 1) return charts[0] ?? "";
  const height = (svg: string) => Number(/height="(\d+)"/.exec(svg)?.[1] ?? "0");
  let y = 0;
  const parts = charts.map((svg) => {
    const part = `<g transform="translate(0 ${y})">${svg.replace(/^<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "")}</g>`;
    y += height(svg);
    return part;
  });
  const width = /width="(\d+)"/.exec(charts[0] ?? "")?.[1] ?? "960";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12">\n${parts.join("\n")}\n</svg>\n`;
}
