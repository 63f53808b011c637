import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../../src/adapter/config/index.js";
import type { PrometheusClient } from "../../../src/adapter/prometheus/client.js";
import { horizontalPodAutoscalerSchema } from "../../../src/kube/objects.js";
import { readRecording, stepTimes, type Recording } from "../../../src/replay/read.js";
import { recordedFigures, replayCandidate } from "../../../src/replay/replay.js";
import { replaySvg } from "../../../src/replay/svg.js";
import { renderReplayTable } from "../../../src/replay/format.js";
import { resolveSettings } from "../../../src/simulate/scenario.js";

const hpa = horizontalPodAutoscalerSchema.parse({
  metadata: { name: "web", namespace: "shop" },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [
      {
        type: "Pods",
        pods: { metric: { name: "e2e_load" }, target: { type: "AverageValue", averageValue: "10" } },
      },
    ],
  },
});

const START = Date.parse("2026-01-01T00:00:00Z");
/** 2 pods at 10 each for 2 minutes, then 2 pods at 30 each (a demand of 60) for 3 minutes. */
function recording(): Recording {
  const times = Array.from({ length: 10 }, (_, i) => START + i * 30_000);
  return {
    namespace: "shop",
    startMs: START,
    stepMs: 30_000,
    times,
    replicas: times.map(() => 2),
    replicasSource: "test",
    metrics: [
      {
        spec: hpa.spec.metrics![0]!,
        query: "q",
        values: times.map((_, i) => (i < 4 ? 10 : 30)),
        podCounts: times.map(() => 2),
      },
    ],
  };
}

describe("replay", () => {
  const settings = resolveSettings({}, {});
  it("spreads the recorded demand over the simulated replicas (demand model)", () => {
    const c = replayCandidate("web", recording(), hpa, {
      model: "demand",
      settings,
      readyAfterMs: 0,
      requests: {},
    });
    // 60 over 2 pods is 30 per pod: 6 wanted, 4 allowed (max(2×2, 4)); 15 each then asks for 6, which see 10 each and stay
    expect(c.changes).toEqual([
      { time: START + 120_000, from: 2, to: 4 },
      { time: START + 135_000, from: 4, to: 6 },
    ]);
    expect(c.stats).toMatchObject({
      scaleEvents: 2,
      peakReplicas: 6,
      finalReplicas: 6,
      secondsAboveTarget: 30,
    });
  });
  it("keeps scaling on an unchanged per-pod value (per-pod model)", () => {
    const c = replayCandidate("web", recording(), hpa, {
      model: "per-pod",
      settings,
      readyAfterMs: 0,
      requests: {},
    });
    expect(c.changes.map((x) => x.to)).toEqual([4, 8, 10]);
  });
  it("reports the recorded sizes' figures and draws a chart", () => {
    const r = recording();
    expect(recordedFigures(r).stats).toEqual({
      replicaHours: 0.167,
      scaleEvents: 0,
      peakReplicas: 2,
      finalReplicas: 2,
    });
    const c = replayCandidate("web", r, hpa, { model: "demand", settings, readyAfterMs: 0, requests: {} });
    const report = { recording: r, model: "demand" as const, syncPeriodMs: 15_000, candidates: [c] };
    expect(replaySvg(report)).toContain("simulated replicas");
    expect(renderReplayTable(report)).toContain(
      "web sizes: 2→4 at 2026-01-01T00:02:00Z, 4→6 at 2026-01-01T00:02:15Z",
    );
  });
});

describe("readRecording", () => {
  it("renders the adapter rule's query for the workload's pods and averages per step", async () => {
    const config = parseConfig(`rules:
- seriesQuery: 'e2e_load{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: "namespace"}, pod: {resource: "pod"}}}
  name: {matches: "^e2e_load$", as: "e2e_load"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`);
    if (!config.ok) throw new Error("config");
    const queries: string[] = [];
    const client: PrometheusClient = {
      series: (match) =>
        Promise.resolve({
          ok: true,
          value: match[0]?.startsWith("e2e_load")
            ? [{ __name__: "e2e_load", namespace: "shop", pod: "web-abc12-x1" }]
            : [
                { namespace: "shop", pod: "web-abc12-x1" },
                { namespace: "shop", pod: "web-abc12-x2" },
              ],
        }),
      query: (expr) => {
        queries.push(expr);
        const t = (START + 30_000) / 1000;
        const result = expr.includes("kube_deployment_status_replicas")
          ? []
          : [
              { metric: { pod: "web-abc12-x1" }, values: [[t, "10"]] },
              { metric: { pod: "web-abc12-x2" }, values: [[t, "20"]] },
            ];
        return Promise.resolve({ ok: true, value: { resultType: "matrix", result } });
      },
      lastCall: () => ({ ok: true }),
      close: () => Promise.resolve(),
    };
    const r = await readRecording(client, config.config, hpa, {
      startMs: START,
      endMs: START + 60_000,
      stepMs: 30_000,
    });
    expect(queries[0]).toBe(
      '(sum(e2e_load{namespace="shop",pod=~"web-abc12-x1|web-abc12-x2"}) by (pod))[60s:30s]',
    );
    expect(r.times).toEqual([START + 30_000, START + 60_000]);
    expect(r.metrics[0]?.values).toEqual([15, null]);
    expect(r.replicas).toEqual([2, null]);
    expect(r.replicasSource).toMatch(/^the pods with a value of /);
  });
  it("uses the default rules without a config", () => {
    expect(defaultConfig().resourceRules).toBeDefined();
    expect(stepTimes({ startMs: START, endMs: START + 90_000, stepMs: 30_000 })).toHaveLength(3);
  });
});
