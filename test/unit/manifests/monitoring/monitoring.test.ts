import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { AdapterMetrics } from "../../../../src/adapter/server/metrics.js";
import { Telemetry } from "../../../../src/autoscaler/telemetry.js";
import { alertRules } from "../../../../src/manifests/monitoring/alerts.js";
import {
  ADAPTER_PANELS,
  AUTOSCALER_PANELS,
  buildDashboard,
  expandQuery,
} from "../../../../src/manifests/monitoring/dashboard.js";
import { diffMonitoring } from "../../../../src/manifests/monitoring/render.js";

const run = promisify(execFile);
const monitoringDir = fileURLToPath(new URL("../../../../manifests/monitoring", import.meta.url));

/** Metric names a query selects, from Prometheus' own grammar; throws on a syntax error. */
function selectedMetrics(query: string): string[] {
  const names: string[] = [];
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.isError) throw new Error(`syntax error at ${n.from} in ${query}`);
      if (n.name === "Identifier" && n.node.parent?.name === "VectorSelector")
        names.push(query.slice(n.from, n.to));
    },
  });
  return names;
}

/** Every series name the two programs expose (histograms as their _bucket, _sum and _count). */
async function exportedSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of [new AdapterMetrics().registry, new Telemetry({ dryRun: false }).registry]) {
    for (const m of await registry.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === "histogram")
        for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
    }
  }
  return names;
}

/** What others export that the alerts read: Prometheus, kube-apiserver, kube-state-metrics. */
const FOREIGN = new Set([
  "up",
  "aggregator_unavailable_apiservice",
  "kube_horizontalpodautoscaler_spec_max_replicas",
  "kube_horizontalpodautoscaler_status_condition",
]);

describe("manifests/monitoring", () => {
  it("equals what the code renders (run `npm run monitoring` after changing src/manifests/monitoring)", async () => {
    expect(await diffMonitoring(monitoringDir)).toEqual([]);
  });

  it("dashboard panels read only metrics the adapter and the autoscaler export", async () => {
    const exported = await exportedSeriesNames();
    const used = [...ADAPTER_PANELS, ...AUTOSCALER_PANELS].flatMap((p) =>
      p.queries.flatMap((q) =>
        selectedMetrics(expandQuery(q.expr, { rateInterval: "1m", namespace: ".*", hpa: ".*" })),
      ),
    );
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
    // every exported program metric but the process defaults and the auth cache is on the dashboard
    expect(new Set(used)).toContain("prom_hpa_adapter_prometheus_coalesced_total");
    expect(new Set(used)).toContain("prom_hpa_autoscaler_is_leader");
  });

  it("the dashboard has one timeseries panel per panel spec, with unique ids, under two rows", () => {
    const panels = buildDashboard().panels ?? [];
    expect(panels.filter((p) => p.type === "row").map((p) => p.title)).toEqual(["Adapter", "Autoscaler"]);
    expect(panels.filter((p) => p.type === "timeseries")).toHaveLength(
      ADAPTER_PANELS.length + AUTOSCALER_PANELS.length,
    );
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("alert rules read our metrics or the named foreign ones only", async () => {
    const exported = await exportedSeriesNames();
    const used = alertRules().flatMap((r) => selectedMetrics(r.expr));
    expect(used.filter((n) => !exported.has(n) && !FOREIGN.has(n))).toEqual([]);
  });

  it("alerts.rules.yaml passes `promtool check rules`", async () => {
    const { stdout } = await run("promtool", ["check", "rules", `${monitoringDir}/alerts.rules.yaml`]);
    expect(stdout).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it("alerts.test.yaml passes `promtool test rules`, with a test for every alert", async () => {
    const { stdout } = await run("promtool", ["test", "rules", `${monitoringDir}/alerts.test.yaml`]);
    expect(stdout).toContain("SUCCESS");
    const tests = await readFile(`${monitoringDir}/alerts.test.yaml`, "utf8");
    const tested = new Set([...tests.matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(
      alertRules()
        .map((r) => r.alert)
        .filter((a) => !tested.has(a)),
    ).toEqual([]);
  });
});
