// How a simulation reads: a table with one row per sync, a one-line summary, or JSON.
import Table from "cli-table3";
import { formatDuration } from "../kube/duration.js";
import type { Scenario } from "./scenario.js";
import { SIMULATION_EPOCH_MS, type SimulationResult, type SyncRecord } from "./simulate.js";

/** What happened at a sync besides the numbers: Events first, then conditions that changed. */
function notes(s: SyncRecord): string {
  const lines = s.events.map((e) => `${e.reason}: ${e.message}`);
  if (s.heldBack) lines.push(`held back by the ${s.heldBack.by}: would scale to ${s.heldBack.replicas}`);
  for (const c of s.changedConditions) lines.push(`${c.type}=${c.status} ${c.reason ?? ""}`.trimEnd());
  return lines.join("\n");
}

const NOTES_WIDTH = 110;

export function renderTable(scenario: Scenario, result: SimulationResult): string {
  const table = new Table({
    head: [
      "t",
      "step",
      "replicas",
      "desired",
      ...scenario.metrics.map((m) => `${m.key} (now/target)`),
      "events / conditions changed",
    ],
    style: { head: [], border: [], compact: true },
    // long Event messages wrap inside the last column instead of widening the table
    wordWrap: true,
    wrapOnWordBoundary: true,
    colWidths: [...Array<null>(4 + scenario.metrics.length).fill(null), NOTES_WIDTH],
  });
  for (const s of result.syncs) {
    table.push([
      formatDuration(s.t),
      s.stepName ?? String(s.step),
      s.readyReplicas === s.replicas ? String(s.replicas) : `${s.replicas} (${s.readyReplicas} ready)`,
      String(s.desiredReplicas),
      ...s.metrics.map((m) => `${m.current ?? "<unknown>"}/${m.target}`),
      notes(s),
    ]);
  }
  return table.toString();
}

export function summaryLine(scenario: Scenario, result: SimulationResult): string {
  const name = `${scenario.hpa.metadata.namespace ?? "default"}/${scenario.hpa.metadata.name}`;
  const changes = result.rescales.map((r) => `${r.from}→${r.to} at ${formatDuration(r.t)}`).join(", ");
  const c = result.settings.controller;
  const settings = `sync ${formatDuration(result.settings.syncPeriodMs)}, upscale delay ${formatDuration(c.upscaleDelaySeconds * 1000)}, downscale delay ${formatDuration(c.downscaleDelaySeconds * 1000)}, stabilization ${formatDuration(c.downscaleStabilizationWindowSeconds * 1000)}, tolerance ${c.tolerance}`;
  return (
    `${name}: ${result.rescales.length} rescale${result.rescales.length === 1 ? "" : "s"} in ${formatDuration(result.durationMs)} (${result.syncs.length} syncs; ${settings})` +
    `${changes ? `: ${changes}` : ""}; replicas ${result.minReplicas}..${result.maxReplicas}, final ${result.finalReplicas}`
  );
}

/** Machine-readable: every sync with its metrics, conditions and Events; times both relative and absolute. */
export function toJson(scenario: Scenario, result: SimulationResult): unknown {
  const c = result.settings.controller;
  return {
    hpa: { namespace: scenario.hpa.metadata.namespace ?? "default", name: scenario.hpa.metadata.name },
    settings: {
      syncPeriodSeconds: result.settings.syncPeriodMs / 1000,
      upscaleDelaySeconds: c.upscaleDelaySeconds,
      downscaleDelaySeconds: c.downscaleDelaySeconds,
      downscaleStabilizationWindowSeconds: c.downscaleStabilizationWindowSeconds,
      tolerance: c.tolerance,
      cpuInitializationPeriodSeconds: c.cpuInitializationPeriodSeconds,
      delayOfInitialReadinessStatusSeconds: c.delayOfInitialReadinessStatusSeconds,
    },
    syncs: result.syncs.map((s) => ({
      t: formatDuration(s.t),
      seconds: s.t / 1000,
      time: new Date(SIMULATION_EPOCH_MS + s.t).toISOString(),
      step: s.step,
      ...(s.stepName !== undefined ? { stepName: s.stepName } : {}),
      replicas: s.replicas,
      readyReplicas: s.readyReplicas,
      desiredReplicas: s.desiredReplicas,
      scaled: s.scaled,
      ...(s.rescaleReason !== undefined ? { rescaleReason: s.rescaleReason } : {}),
      ...(s.heldBack ? { heldBack: s.heldBack } : {}),
      metrics: s.metrics,
      conditions: s.conditions,
      changedConditions: s.changedConditions.map((x) => x.type),
      events: s.events,
    })),
    rescales: result.rescales.map((r) => ({
      t: formatDuration(r.t),
      seconds: r.t / 1000,
      from: r.from,
      to: r.to,
      reason: r.reason,
    })),
    summary: {
      durationSeconds: result.durationMs / 1000,
      syncs: result.syncs.length,
      rescales: result.rescales.length,
      minReplicas: result.minReplicas,
      maxReplicas: result.maxReplicas,
      finalReplicas: result.finalReplicas,
      text: summaryLine(scenario, result),
    },
  };
}
