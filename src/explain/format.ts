// An explanation as text: one block per metric, then the steps from the metrics' proposal to
// the final size, then what would change it.
import type { Explanation, MetricExplanation, StepExplanation } from "./explain.js";

function metricLines(m: MetricExplanation): string[] {
  const head = `${m.winner ? "* " : "  "}${m.name}  target ${m.target}${m.current !== undefined ? `  current ${m.current}` : ""}`;
  const out = [head];
  if (!m.ok) {
    out.push(`    failed (${m.error?.reason ?? "?"}): ${m.error?.message ?? ""}`);
    return out;
  }
  if (m.values) {
    const list = (xs: { pod: string; value: string }[]) => xs.map((x) => `${x.pod}=${x.value}`).join(" ");
    out.push(
      `    values read: ${m.values.count} pods; highest ${list(m.values.highest)}; lowest ${list(m.values.lowest)}`,
    );
  }
  if (m.pods) {
    out.push(
      `    pods: ${m.pods.ready} ready, ${m.pods.unready.length} unready, ${m.pods.missing.length} missing, ${m.pods.ignored.length} ignored`,
    );
    for (const t of m.pods.treatment) out.push(`      ${t}`);
  }
  if (m.readyPods !== undefined) out.push(`    ready pods: ${m.readyPods}`);
  if (m.usageRatio !== undefined) {
    const adjusted =
      m.adjustedUsageRatio !== undefined
        ? `, ${m.adjustedUsageRatio} with missing/unready pods filled in`
        : "";
    const band =
      m.band === "within"
        ? `within the tolerance band [${m.tolerance.low}, ${m.tolerance.high}]: no change`
        : `${m.band ?? "?"} the tolerance band [${m.tolerance.low}, ${m.tolerance.high}]`;
    out.push(`    usage ratio ${m.usageRatio}${adjusted}; ${band}`);
  }
  out.push(`    proposes ${m.proposedReplicas ?? "?"} replicas${m.winner ? " (the largest: it wins)" : ""}`);
  return out;
}

function stepLines(s: StepExplanation): string[] {
  const arrow = s.from === s.to ? `${s.to}` : `${s.from} → ${s.to}`;
  const out = [`  ${s.step.padEnd(15)} ${arrow.padEnd(8)} ${s.text}`];
  for (const w of s.windows ?? []) {
    if (w.seconds === 0) continue;
    out.push(
      `${" ".repeat(26)}scale-${w.direction} window ${w.seconds}s: ${w.recommendations.map((r) => `${r.replicas}@-${r.ageSeconds}s`).join(" ")}`,
    );
  }
  for (const p of s.policies ?? []) {
    out.push(
      `${" ".repeat(26)}${p.limiting ? "* " : "  "}${p.type} ${p.value}${p.type === "Percent" ? "%" : ""} per ${p.periodSeconds}s allows ${p.allows}`,
    );
  }
  return out;
}

export function renderExplanation(e: Explanation): string {
  const lines: string[] = [];
  const time = new Date(e.time).toISOString().replace(".000Z", "Z");
  lines.push(
    `HPA ${e.namespace}/${e.name} at ${time}: ${e.currentReplicas ?? "?"} replicas → ${e.desiredReplicas}${e.scaled ? ` (${e.rescaleReason ?? ""})` : " (no change)"}; min ${e.minReplicas}, max ${e.maxReplicas}`,
  );
  if (e.metrics.length > 0) {
    lines.push("", "Metrics (* = the one that won):");
    for (const m of e.metrics) lines.push(...metricLines(m));
  }
  lines.push("", "Steps:");
  for (const s of e.steps) lines.push(...stepLines(s));
  if (e.whatWouldChange.length > 0) {
    lines.push("", "What would change the answer:");
    for (const w of e.whatWouldChange) lines.push(`  - ${w}`);
  }
  if (e.events.length > 0) {
    lines.push("", "Events:");
    for (const ev of e.events) lines.push(`  ${ev.type} ${ev.reason}: ${ev.message}`);
  }
  return lines.join("\n");
}
