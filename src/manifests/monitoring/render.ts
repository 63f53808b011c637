// Renders manifests/monitoring/ from code (`npm run monitoring`) and compares the files on disk
// with what the code renders (`--check`, and the unit test).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { prometheusRule, ruleGroups } from "./alerts.js";
import { renderDashboard } from "./dashboard.js";
import { autoscalerMetricsService, serviceMonitors } from "./servicemonitor.js";

export const MONITORING_DIR = "manifests/monitoring";

const HEADER =
  "# Rendered by `npm run monitoring` from src/manifests/monitoring/: edit the code, not this file.\n";

function yaml(objects: unknown[]): string {
  return (
    HEADER +
    objects
      .map((o) => stringify(o, { lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false }))
      .join("---\n")
  );
}

/** File name (under manifests/monitoring/) → content. alerts.test.yaml is written by hand. */
export function renderMonitoring(): Map<string, string> {
  return new Map([
    ["dashboard.json", renderDashboard()],
    ["alerts.rules.yaml", yaml([{ groups: ruleGroups() }])],
    ["prometheusrule.yaml", yaml([prometheusRule()])],
    ["servicemonitor.yaml", yaml(serviceMonitors())],
    ["autoscaler-metrics-service.yaml", yaml([autoscalerMetricsService()])],
  ]);
}

/** The rendered files that are missing or differ on disk under `dir`. */
export async function diffMonitoring(dir: string, rendered = renderMonitoring()): Promise<string[]> {
  const out: string[] = [];
  for (const [name, content] of rendered) {
    const actual = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (actual !== content) out.push(actual === undefined ? `${name}: missing` : `${name}: differs`);
  }
  return out;
}

export async function writeMonitoring(dir: string, rendered = renderMonitoring()): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of rendered) await writeFile(join(dir, name), content);
  return [...rendered.keys()];
}
