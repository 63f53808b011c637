import { describe, expect, it } from "vitest";
import {
  reconcile,
  withDefaults,
  type ControllerSettings,
  type HpaHistory,
  type ReconcileInput,
} from "../../../src/autoscaler/algorithm/index.js";
import { explain, type Explanation } from "../../../src/explain/explain.js";
import { renderExplanation } from "../../../src/explain/format.js";
import {
  horizontalPodAutoscalerSchema,
  type MetricResponse,
  type MetricSpec,
  type Pod,
} from "../../../src/kube/objects.js";
import {
  cpuUtilization,
  NOW,
  pod,
  podMetrics,
  podsAverage,
  podValues,
} from "../autoscaler/algorithm/replica-calculator.fixtures.js";

const empty: HpaHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function hpa(spec: Record<string, unknown>, status: Record<string, unknown> = {}) {
  return horizontalPodAutoscalerSchema.parse({
    metadata: { name: "web", namespace: "test-namespace" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      ...spec,
    },
    status: { currentReplicas: 3, desiredReplicas: 3, ...status },
  });
}

/** The specs are parsed already; they go in after the HPA's own parse. */
function withMetrics(h: ReturnType<typeof hpa>, metrics: MetricSpec[]) {
  return { ...h, spec: { ...h.spec, metrics } };
}

function run(o: {
  metrics: MetricSpec[];
  responses: MetricResponse[];
  pods?: Pod[];
  replicas?: number;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  history?: HpaHistory | null;
  settings?: Partial<ControllerSettings>;
}): { e: Explanation; input: ReconcileInput } {
  const pods = o.pods ?? [pod("web-0"), pod("web-1"), pod("web-2")];
  const input: ReconcileInput = {
    now: NOW,
    settings: withDefaults(o.settings),
    hpa: withMetrics(hpa({ ...o.spec }, o.status), o.metrics),
    scale: { replicas: o.replicas ?? pods.length, selector: "app=web" },
    pods,
    metricResponses: o.responses,
    history: o.history === undefined ? empty : o.history,
  };
  return { e: explain(input), input };
}

const step = (e: Explanation, name: string) => e.steps.find((s) => s.step === name);

describe("explain: per metric", () => {
  it("shows a ratio inside the tolerance band proposing the current size", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "10", "web-1": "11", "web-2": "10" })],
    });
    expect(e.metrics[0]).toMatchObject({
      usageRatio: 1.033,
      band: "within",
      proposedReplicas: 3,
      winner: true,
      tolerance: { low: 0.9, high: 1.1 },
    });
    expect(e.metrics[0]?.values).toEqual({
      count: 3,
      highest: [
        { pod: "web-1", value: "11" },
        { pod: "web-0", value: "10" },
        { pod: "web-2", value: "10" },
      ],
      lowest: [
        { pod: "web-2", value: "10" },
        { pod: "web-0", value: "10" },
        { pod: "web-1", value: "11" },
      ],
    });
    expect(e.desiredReplicas).toBe(3);
  });

  it("counts missing pods as using nothing when scaling up", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      pods: [pod("web-0"), pod("web-1"), pod("web-2"), pod("web-3")],
      responses: [podValues("qps", { "web-0": "30", "web-1": "30", "web-2": "30" })],
    });
    const m = e.metrics[0];
    expect(m?.pods).toMatchObject({ ready: 3, missing: ["web-3"] });
    expect(m?.pods?.treatment).toEqual(["1 missing: counted as using 0, since scaling up"]);
    expect(m).toMatchObject({ usageRatio: 3, adjustedUsageRatio: 2.25, band: "above", proposedReplicas: 9 });
  });

  it("counts missing pods at the target when scaling down", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      pods: [pod("web-0"), pod("web-1"), pod("web-2"), pod("web-3")],
      responses: [podValues("qps", { "web-0": "2", "web-1": "2", "web-2": "2" })],
    });
    const m = e.metrics[0];
    expect(m?.pods?.treatment).toEqual(["1 missing: counted as exactly on target, since scaling down"]);
    expect(m).toMatchObject({ usageRatio: 0.2, adjustedUsageRatio: 0.4, band: "below", proposedReplicas: 2 });
  });

  it("counts missing pods at their full request for a utilization target when scaling down", () => {
    const { e } = run({
      metrics: [cpuUtilization(50)],
      pods: [pod("web-0"), pod("web-1"), pod("web-2"), pod("web-3")],
      responses: [podMetrics({ "web-0": "100m", "web-1": "100m", "web-2": "100m" })],
    });
    expect(e.metrics[0]?.pods?.treatment).toEqual([
      "1 missing: counted as using 100% of their request (or the target, if higher), since scaling down",
    ]);
  });

  it("counts unready pods as using nothing on a scale-up and names ignored pods", () => {
    const { e } = run({
      metrics: [cpuUtilization(50)],
      pods: [
        pod("web-0"),
        pod("web-1"),
        pod("web-2", { phase: "Pending" }),
        pod("web-3", { phase: "Failed" }),
      ],
      responses: [podMetrics({ "web-0": "900m", "web-1": "900m" })],
    });
    const m = e.metrics[0];
    expect(m?.pods).toMatchObject({ ready: 2, unready: ["web-2"], ignored: ["web-3"] });
    expect(m?.pods?.treatment).toEqual([
      "1 ignored (being deleted, Failed or Succeeded): left out",
      "1 unready: counted as using 0 (scaling up with pods not yet ready)",
    ]);
    expect(m).toMatchObject({ usageRatio: 1.8, adjustedUsageRatio: 1.2, proposedReplicas: 4 });
  });

  it("leaves unready pods out when not scaling up", () => {
    const { e } = run({
      metrics: [cpuUtilization(50)],
      pods: [pod("web-0"), pod("web-1"), pod("web-2", { phase: "Pending" })],
      responses: [podMetrics({ "web-0": "100m", "web-1": "100m" })],
    });
    expect(e.metrics[0]?.pods?.treatment).toEqual(["1 unready: left out (not scaling up)"]);
  });

  it("reports a failed metric with its reason and no size computed", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [{ error: "the server is currently unable to handle the request" }],
    });
    expect(e.metrics[0]).toMatchObject({
      ok: false,
      name: "pods metric qps",
      error: { reason: "FailedGetPodsMetric" },
    });
    expect(step(e, "metrics")?.text).toMatch(
      /^no size computed, nothing changes: invalid metrics \(1 invalid out of 1\)/,
    );
    expect(e.whatWouldChange).toEqual(["the metrics answering again"]);
    expect(e.desiredReplicas).toBe(3);
  });

  it("marks the largest proposal the winner and finds the level that would move the size", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10"), podsAverage("latency", "10")],
      responses: [
        podValues("qps", { "web-0": "15", "web-1": "15", "web-2": "15" }),
        podValues("latency", { "web-0": "20", "web-1": "20", "web-2": "20" }),
      ],
    });
    expect(e.metrics.map((m) => [m.name, m.proposedReplicas, m.winner])).toEqual([
      ["pods metric qps", 5, false],
      ["pods metric latency", 6, true],
    ]);
    expect(e.desiredReplicas).toBe(6);
    // 6 replicas need an average above 20 (ratio > 2 over 3 pods): 7 from 20.001
    expect(e.metrics[1]?.thresholds?.above).toBe("20001m per pod");
    expect(e.whatWouldChange).toContain(
      "above 6 when pods metric latency reaches 20001m per pod (now 20 per pod)",
    );
  });
});

describe("explain: the steps after the metrics", () => {
  it("names the behavior policy that limited a scale-up", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "30", "web-1": "30", "web-2": "30" })],
      spec: {
        behavior: {
          scaleUp: {
            policies: [
              { type: "Pods", value: 2, periodSeconds: 60 },
              { type: "Percent", value: 50, periodSeconds: 60 },
            ],
          },
        },
      },
    });
    const s = step(e, "policies");
    expect(s).toMatchObject({ from: 9, to: 5, reason: "ScaleUpLimit", selectPolicy: "Max", limit: 5 });
    expect(s?.policies?.map((p) => [p.type, p.allows, p.limiting])).toEqual([
      ["Pods", 5, true],
      ["Percent", 5, true],
    ]);
    expect(s?.text).toMatch(/^limited to 5 by the Pods 2 per 60s and Percent 50% per 60s policies/);
    expect(e.whatWouldChange[0]).toBe(
      "the Pods 2 per 60s / Percent 50% per 60s policy allows a further step in 60s, when recent scale events leave its period",
    );
    expect(e.desiredReplicas).toBe(5);
  });

  it("shows the max(2×current, 4) limit without behavior", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "100", "web-1": "100", "web-2": "100" })],
      spec: { maxReplicas: 50 },
    });
    expect(step(e, "scale-up limit")).toMatchObject({ from: 30, to: 6, reason: "ScaleUpLimit", limit: 6 });
    expect(e.desiredReplicas).toBe(6);
  });

  it("shows the downscale stabilization window's recommendations and the one chosen", () => {
    const history: HpaHistory = {
      recommendations: [
        { timestamp: NOW - 120_000, replicas: 5 },
        { timestamp: NOW - 60_000, replicas: 4 },
      ],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "3", "web-1": "3", "web-2": "3" })],
      replicas: 3,
      history,
    });
    const s = step(e, "stabilization");
    expect(s).toMatchObject({ from: 1, to: 5, reason: "ScaleDownStabilized" });
    expect(s?.windows?.[0]?.recommendations).toEqual([
      { ageSeconds: 120, replicas: 5 },
      { ageSeconds: 60, replicas: 4 },
      { ageSeconds: 0, replicas: 1 },
    ]);
    expect(e.whatWouldChange[0]).toMatch(/^the recommendation 1 goes through in 240s/);
  });

  it("caps at maxReplicas and says no metric level goes higher", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "30", "web-1": "30", "web-2": "30" })],
      spec: { maxReplicas: 5 },
    });
    expect(step(e, "min/max")).toMatchObject({ from: 9, to: 5, reason: "TooManyReplicas" });
    expect(e.whatWouldChange).toContain("maxReplicas (5) caps it: no metric level takes it higher");
  });

  it("raises to minReplicas", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "1", "web-1": "1", "web-2": "1" })],
      spec: { minReplicas: 2 },
      history: { ...empty, recommendations: [] },
    });
    expect(step(e, "min/max")).toMatchObject({ from: 1, to: 2, reason: "TooFewReplicas" });
    expect(e.desiredReplicas).toBe(2);
  });

  it("shows a legacy upscale delay holding a scale-up back", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [podValues("qps", { "web-0": "20", "web-1": "20", "web-2": "20" })],
      status: { lastScaleTime: iso(NOW - 60_000) },
      settings: { upscaleDelaySeconds: 180 },
    });
    expect(step(e, "legacy delay")).toMatchObject({ from: 6, to: 3, reason: "BackoffUpscale" });
    expect(e.whatWouldChange).toContain("the upscale delay ends in 120s");
    expect(e).toMatchObject({ scaled: false, desiredReplicas: 3 });
  });

  it("explains a target above maxReplicas without reading metrics", () => {
    const { e } = run({
      metrics: [podsAverage("qps", "10")],
      responses: [{ error: "not read" }],
      replicas: 12,
      spec: { maxReplicas: 10 },
    });
    expect(e.steps[0]).toMatchObject({ step: "target state", from: 12, to: 10 });
    expect(e.metrics).toEqual([]);
  });
});

describe("explain agrees with reconcile", () => {
  const cases: [string, Parameters<typeof run>[0]][] = [
    [
      "scale-up",
      {
        metrics: [podsAverage("qps", "10")],
        responses: [podValues("qps", { "web-0": "30", "web-1": "30", "web-2": "30" })],
      },
    ],
    [
      "hold",
      {
        metrics: [podsAverage("qps", "10")],
        responses: [podValues("qps", { "web-0": "10", "web-1": "10", "web-2": "10" })],
      },
    ],
    [
      "scale-down",
      {
        metrics: [cpuUtilization(50)],
        responses: [podMetrics({ "web-0": "100m", "web-1": "100m", "web-2": "100m" })],
      },
    ],
  ];
  for (const [name, o] of cases) {
    it(`ends on the size reconcile chose (${name})`, () => {
      const { e, input } = run(o);
      const r = reconcile(input);
      expect(e.steps.at(-1)?.to).toBe(r.desiredReplicas);
      expect(e.desiredReplicas).toBe(r.desiredReplicas);
      // the step before the final one lands on the same size when it scales
      if (r.scaled) expect(e.steps.at(-2)?.to).toBe(r.desiredReplicas);
      expect(renderExplanation(e)).toContain(`→ ${r.desiredReplicas}`);
    });
  }
});
