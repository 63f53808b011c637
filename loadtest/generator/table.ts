// The short table printed at the end of a run: one row per phase.
import Table from "cli-table3";
import type { PhaseSummary } from "./timeline.js";

const show = (v: number | null): string => (v === null ? "-" : String(v));

export function renderSummaryTable(rows: readonly PhaseSummary[], metricName = "metric"): string {
  const table = new Table({
    head: [
      "phase",
      "time",
      "target rps",
      "mean rps",
      `${metricName} mean`,
      `${metricName} max`,
      "replicas min..max",
      "replicas end",
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows) {
    table.push([
      r.phase,
      `${r.seconds}s`,
      r.targetRps,
      String(r.meanRps),
      show(r.metricMean),
      show(r.metricMax),
      r.replicasMin === null ? "-" : `${r.replicasMin}..${r.replicasMax}`,
      show(r.replicasEnd),
    ]);
  }
  return table.toString();
}
