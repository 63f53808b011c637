// The text form of a rules check: one block per rule, warnings marked, a summary last.
import type { CheckReport } from "./check.js";

export function formatReport(report: CheckReport, samples: ReadonlyMap<string, string> = new Map()): string {
  const lines: string[] = [];
  for (const r of report.rules) {
    lines.push(`${r.path}  seriesQuery ${r.seriesQuery}`);
    lines.push(`  series matched: ${r.seriesMatched}`);
    for (const s of r.seriesExamples) lines.push(`    ${s}`);
    if (r.seriesMatched > r.seriesExamples.length)
      lines.push(`    … and ${r.seriesMatched - r.seriesExamples.length} more`);
    lines.push(`  metrics: ${r.metrics.length === 0 ? "none" : r.metrics.join(", ")}`);
    if (r.exampleQuery !== undefined) lines.push(`  query: ${r.exampleQuery}`);
    if (r.exampleQueryError !== undefined) lines.push(`  query: cannot render: ${r.exampleQueryError}`);
    const sample = samples.get(r.path);
    if (sample !== undefined) lines.push(`  answer: ${sample}`);
    for (const w of r.warnings) lines.push(`  WARNING: ${w}`);
    lines.push("");
  }
  const n = report.rules.length;
  lines.push(
    `${n} rule${n === 1 ? "" : "s"}, ${report.seriesTotal} series matched, ${report.warningCount} warning${report.warningCount === 1 ? "" : "s"}`,
  );
  return lines.join("\n") + "\n";
}
