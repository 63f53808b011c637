// The compact record of a sync's explanation the autoscaler keeps per HPA: on its
// /debug/hpa/<ns>/<name> endpoint (every sync) and in the last-decision annotation (when the
// decision changed), so `prom-hpa explain --recorded` shows what the loop really saw.
import { z } from "zod";
import type { Explanation } from "./explain.js";

export const LAST_DECISION_ANNOTATION = "autoscaler.prom-hpa.io/last-decision";

const decisionCoreSchema = z.object({
  time: z.string(),
  currentReplicas: z.number().nullable(),
  desiredReplicas: z.number(),
  scaled: z.boolean(),
  reason: z.string().optional(),
  metrics: z.array(
    z.object({
      name: z.string(),
      target: z.string(),
      current: z.string().optional(),
      ratio: z.number().optional(),
      proposed: z.number().optional(),
      winner: z.boolean().optional(),
      error: z.string().optional(),
    }),
  ),
  steps: z.array(
    z.object({
      step: z.string(),
      from: z.number(),
      to: z.number(),
      text: z.string(),
      reason: z.string().optional(),
    }),
  ),
  whatWouldChange: z.array(z.string()),
  events: z.array(z.object({ type: z.string(), reason: z.string(), message: z.string() })),
});

export const decisionRecordSchema = decisionCoreSchema.extend({
  /** the last sync that scaled (what its SuccessfulRescale Event reports), when this one did not */
  lastRescale: decisionCoreSchema.optional(),
});

export type DecisionRecord = z.infer<typeof decisionRecordSchema>;

/** The record to keep after `next`: it carries the last rescale forward from `previous`. */
export function withLastRescale(next: DecisionRecord, previous: DecisionRecord | undefined): DecisionRecord {
  if (next.scaled) return next;
  const { lastRescale: _own, ...core } = previous ?? { lastRescale: undefined };
  const carried =
    previous === undefined ? undefined : previous.scaled ? (core as DecisionRecord) : previous.lastRescale;
  return carried === undefined ? next : { ...next, lastRescale: carried };
}

export function decisionRecord(e: Explanation): DecisionRecord {
  return {
    time: new Date(e.time).toISOString().replace(".000Z", "Z"),
    currentReplicas: e.currentReplicas,
    desiredReplicas: e.desiredReplicas,
    scaled: e.scaled,
    ...(e.rescaleReason !== undefined ? { reason: e.rescaleReason } : {}),
    metrics: e.metrics.map((m) => ({
      name: m.name,
      target: m.target,
      ...(m.current !== undefined ? { current: m.current } : {}),
      ...(m.adjustedUsageRatio !== undefined || m.usageRatio !== undefined
        ? { ratio: m.adjustedUsageRatio ?? m.usageRatio }
        : {}),
      ...(m.proposedReplicas !== undefined ? { proposed: m.proposedReplicas } : {}),
      ...(m.winner ? { winner: true } : {}),
      ...(m.error ? { error: `${m.error.reason}: ${m.error.message}` } : {}),
    })),
    steps: e.steps.map((s) => ({
      step: s.step,
      from: s.from,
      to: s.to,
      text: s.text,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
    })),
    whatWouldChange: e.whatWouldChange,
    events: e.events,
  };
}

/** What a decision is, without the sync's time and the values that move every sync: a new one is written when this changes. */
export function decisionKey(r: DecisionRecord): string {
  return JSON.stringify({
    currentReplicas: r.currentReplicas,
    desiredReplicas: r.desiredReplicas,
    scaled: r.scaled,
    reason: r.reason ?? null,
    steps: r.steps.map((s) => [s.step, s.from, s.to, s.reason ?? null]),
    failed: r.metrics.map((m) => m.error !== undefined),
  });
}

export function parseDecisionRecord(
  text: string,
): { ok: true; record: DecisionRecord } | { ok: false; error: string } {
  try {
    const parsed = decisionRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? { ok: true, record: parsed.data } : { ok: false, error: parsed.error.message };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function renderDecisionRecord(namespace: string, name: string, r: DecisionRecord): string {
  const lines = [
    `HPA ${namespace}/${name}, recorded by the autoscaler at ${r.time}: ${r.currentReplicas ?? "?"} replicas → ${r.desiredReplicas}${r.scaled ? ` (${r.reason ?? ""})` : " (no change)"}`,
  ];
  if (r.metrics.length > 0) {
    lines.push("", "Metrics (* = the one that won):");
    for (const m of r.metrics)
      lines.push(
        `${m.winner ? "* " : "  "}${m.name}  target ${m.target}${m.current !== undefined ? `  current ${m.current}` : ""}${m.ratio !== undefined ? `  ratio ${m.ratio}` : ""}${m.proposed !== undefined ? `  proposes ${m.proposed}` : ""}${m.error !== undefined ? `  failed: ${m.error}` : ""}`,
      );
  }
  lines.push("", "Steps:");
  for (const s of r.steps)
    lines.push(
      `  ${s.step.padEnd(15)} ${(s.from === s.to ? `${s.to}` : `${s.from} → ${s.to}`).padEnd(8)} ${s.text}`,
    );
  if (r.whatWouldChange.length > 0) {
    lines.push("", "What would change the answer:");
    for (const w of r.whatWouldChange) lines.push(`  - ${w}`);
  }
  if (r.events.length > 0) {
    lines.push("", "Events:");
    for (const ev of r.events) lines.push(`  ${ev.type} ${ev.reason}: ${ev.message}`);
  }
  if (r.lastRescale)
    lines.push(
      "",
      `The last rescale (${r.lastRescale.time}):`,
      "",
      renderDecisionRecord(namespace, name, r.lastRescale),
    );
  return lines.join("\n");
}
