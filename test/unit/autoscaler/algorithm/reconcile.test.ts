import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  horizontalPodAutoscalerSchema,
  metricResponseSchema,
  podSchema,
  type HorizontalPodAutoscaler,
  type MetricResponse,
} from "../../../../src/kube/objects.js";
import {
  applyScaleResult,
  reconcile,
  type ReconcileInput,
} from "../../../../src/autoscaler/algorithm/index.js";
import {
  withDefaults,
  type ControllerSettings,
  type HpaHistory,
} from "../../../../src/autoscaler/algorithm/settings.js";

const now = Date.parse("2026-01-01T00:00:00Z");
const ago = (seconds: number) => now - seconds * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function pods(n: number) {
  return Array.from({ length: n }, (_, i) =>
    podSchema.parse({
      metadata: { name: `web-${i}`, namespace: "shop", labels: { app: "web" } },
      spec: { containers: [{ name: "app", resources: { requests: { cpu: "500m" } } }] },
      status: {
        phase: "Running",
        startTime: "2025-12-31T00:00:00Z",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2025-12-31T00:00:00Z" }],
      },
    }),
  );
}

/** A Pods metric answer: every pod reports `value`. */
function podsMetric(name: string, n: number, value: string): MetricResponse {
  return metricResponseSchema.parse({
    kind: "MetricValueList",
    apiVersion: "custom.metrics.k8s.io/v1beta2",
    items: Array.from({ length: n }, (_, i) => ({
      describedObject: { kind: "Pod", namespace: "shop", name: `web-${i}` },
      metric: { name },
      timestamp: iso(now),
      value,
    })),
  });
}

function hpa(
  spec: Record<string, unknown> = {},
  status: Record<string, unknown> = {},
): HorizontalPodAutoscaler {
  return horizontalPodAutoscalerSchema.parse({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "shop" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Pods",
          pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "10" } },
        },
      ],
      ...spec,
    },
    status: { currentReplicas: 3, desiredReplicas: 3, ...status },
  });
}

const emptyHistory: HpaHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

function input(
  over: Partial<Omit<ReconcileInput, "settings">> & { settings?: Partial<ControllerSettings> } = {},
): ReconcileInput {
  return {
    now,
    hpa: hpa(),
    scale: { replicas: 3, selector: "app=web" },
    pods: pods(3),
    metricResponses: [podsMetric("qps", 3, "20")],
    history: emptyHistory,
    ...over,
    settings: withDefaults(over.settings),
  };
}

const condition = (r: { status: { conditions?: unknown } }, type: string) =>
  (
    (r.status.conditions ?? []) as {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string | null;
    }[]
  ).find((c) => c.type === type);

describe("reconcile: a scale-up", () => {
  const result = reconcile(input());
  it("writes the calculator's size and says which metric asked for it", () => {
    expect(result).toMatchObject({
      desiredReplicas: 6,
      scaled: true,
      rescaleReason: "pods metric qps above target",
    });
    expect(result.events).toEqual([
      {
        type: "Normal",
        reason: "SuccessfulRescale",
        message: "New size: 6; reason: pods metric qps above target",
      },
    ]);
  });
  it("sets the new status with lastScaleTime now and upstream's conditions", () => {
    expect(result.status).toMatchObject({
      currentReplicas: 3,
      desiredReplicas: 6,
      lastScaleTime: "2026-01-01T00:00:00Z",
    });
    expect(condition(result, "AbleToScale")).toMatchObject({
      status: "True",
      reason: "SucceededRescale",
      message: "the HPA controller was able to update the target scale to 6",
    });
    expect(condition(result, "ScalingActive")).toMatchObject({
      status: "True",
      reason: "ValidMetricFound",
      message: "the HPA was able to successfully calculate a replica count from pods metric qps",
    });
    expect(condition(result, "ScalingLimited")).toMatchObject({
      status: "False",
      reason: "DesiredWithinRange",
    });
    expect(result.status.currentMetrics).toHaveLength(1);
    expect(result.status.currentMetrics?.[0]?.type).toBe("Pods");
  });
  it("records the recommendation in the history", () => {
    expect(result.history?.recommendations).toEqual([{ timestamp: now, replicas: 6 }]);
  });
});

describe("reconcile: several metrics", () => {
  const twoMetrics = hpa({
    metrics: [
      {
        type: "Pods",
        pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "10" } },
      },
      {
        type: "Pods",
        pods: { metric: { name: "latency" }, target: { type: "AverageValue", averageValue: "10" } },
      },
    ],
  });
  it("takes the largest proposal and names that metric in the reason", () => {
    const r = reconcile(
      input({
        hpa: twoMetrics,
        metricResponses: [podsMetric("qps", 3, "15"), podsMetric("latency", 3, "20")],
      }),
    );
    expect(r).toMatchObject({
      desiredReplicas: 6,
      scaled: true,
      rescaleReason: "pods metric latency above target",
    });
  });
  it("still scales up on the valid metric when another failed", () => {
    const r = reconcile(
      input({ hpa: twoMetrics, metricResponses: [podsMetric("qps", 3, "20"), { error: "boom" }] }),
    );
    expect(r).toMatchObject({ desiredReplicas: 6, scaled: true });
    expect(condition(r, "ScalingActive")?.reason).toBe("ValidMetricFound");
    expect(r.events.map((e) => e.reason)).toEqual(["FailedGetPodsMetric", "SuccessfulRescale"]);
  });
  it("never scales down when a metric failed", () => {
    const r = reconcile(
      input({ hpa: twoMetrics, metricResponses: [podsMetric("qps", 3, "1"), { error: "boom" }] }),
    );
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: false });
    expect(condition(r, "ScalingActive")).toMatchObject({ status: "False", reason: "FailedGetPodsMetric" });
    expect(r.events.map((e) => e.reason)).toEqual(["FailedGetPodsMetric", "FailedComputeMetricsReplicas"]);
    expect(r.events[1]?.message).toMatch(
      /^invalid metrics \(1 invalid out of 2\), first error is: failed to get pods metric value: /,
    );
  });
});

describe("reconcile: scale-down", () => {
  it("reports All metrics below target", () => {
    const r = reconcile(input({ metricResponses: [podsMetric("qps", 3, "5")] }));
    expect(r).toMatchObject({ desiredReplicas: 2, scaled: true, rescaleReason: "All metrics below target" });
  });
  it("is held by the current size on a controller's first sync of the HPA", () => {
    const r = reconcile(input({ metricResponses: [podsMetric("qps", 3, "5")], history: null }));
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: false });
    expect(condition(r, "AbleToScale")?.reason).toBe("ScaleDownStabilized");
    expect(r.history?.recommendations).toEqual([
      { timestamp: now, replicas: 3 },
      { timestamp: now, replicas: 2 },
    ]);
  });
});

describe("reconcile: without reading metrics", () => {
  it("does not autoscale a target scaled to zero", () => {
    const r = reconcile(input({ scale: { replicas: 0, selector: "app=web" } }));
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: false, events: [] });
    expect(condition(r, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "ScalingDisabled",
      message: "scaling is disabled since the replica count of the target is zero",
    });
  });
  it("brings a target above maxReplicas down to it", () => {
    const r = reconcile(input({ scale: { replicas: 12, selector: "app=web" } }));
    expect(r).toMatchObject({
      desiredReplicas: 10,
      scaled: true,
      rescaleReason: "Current number of replicas above Spec.MaxReplicas",
    });
  });
  it("brings a target below minReplicas up to it", () => {
    const r = reconcile(input({ hpa: hpa({ minReplicas: 4 }), scale: { replicas: 2, selector: "app=web" } }));
    expect(r).toMatchObject({
      desiredReplicas: 4,
      scaled: true,
      rescaleReason: "Current number of replicas below Spec.MinReplicas",
    });
  });
  it("scales down to zero when minReplicas is 0 and the metrics ask for it", () => {
    const r = reconcile(
      input({ hpa: hpa({ minReplicas: 0 }), metricResponses: [podsMetric("qps", 3, "0")] }),
    );
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: true });
  });
});

describe("reconcile: failures", () => {
  it("reports a scale that cannot be read and keeps the history untouched", () => {
    const r = reconcile(input({ scale: { error: 'deployments.apps "web" not found' }, history: null }));
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: false, history: null });
    expect(r.events).toEqual([
      { type: "Warning", reason: "FailedGetScale", message: 'deployments.apps "web" not found' },
    ]);
    expect(condition(r, "AbleToScale")).toMatchObject({
      status: "False",
      reason: "FailedGetScale",
      message:
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found',
    });
  });
  it("requires a selector on the scale", () => {
    const r = reconcile(input({ scale: { replicas: 3, selector: "" } }));
    expect(r.scaled).toBe(false);
    expect(r.events.map((e) => [e.reason, e.message])).toEqual([
      ["SelectorRequired", "selector is required"],
      ["FailedComputeMetricsReplicas", "selector is required"],
    ]);
    expect(condition(r, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "InvalidSelector",
      message: "the HPA target's scale is missing a selector",
    });
  });
  it("keeps the previous desiredReplicas in the status when no metric is usable", () => {
    const r = reconcile(
      input({ hpa: hpa({}, { desiredReplicas: 5 }), metricResponses: [{ error: "boom" }] }),
    );
    expect(r.status).toMatchObject({ currentReplicas: 3, desiredReplicas: 5 });
    expect(r.status.currentMetrics).toEqual([{ type: "" }]);
  });
  it("turns a failed scale write into FailedRescale, keeping lastScaleTime and forgetting the scale event", () => {
    const withBehavior = input({ hpa: hpa({ behavior: {} }, { lastScaleTime: "2025-12-31T12:00:00Z" }) });
    const r = applyScaleResult(withBehavior, reconcile(withBehavior), { ok: false, error: "conflict" });
    expect(r.scaled).toBe(false);
    expect(r.events).toEqual([
      {
        type: "Warning",
        reason: "FailedRescale",
        message: "New size: 6; reason: pods metric qps above target; error: conflict",
      },
    ]);
    expect(condition(r, "AbleToScale")).toMatchObject({
      status: "False",
      reason: "FailedUpdateScale",
      message: "the HPA controller was unable to update the target scale: conflict",
    });
    expect(r.status).toMatchObject({ desiredReplicas: 3, lastScaleTime: "2025-12-31T12:00:00Z" });
    expect(r.history?.scaleUpEvents).toEqual([]);
  });
  it("leaves a successful write as it was", () => {
    const i = input();
    const r = reconcile(i);
    expect(applyScaleResult(i, r, { ok: true })).toBe(r);
  });
});

describe("reconcile: behavior", () => {
  it("remembers the scale event the rate policies need", () => {
    const r = reconcile(
      input({
        hpa: hpa({ behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } } }),
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 5, scaled: true });
    expect(condition(r, "ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleUpLimit" });
    expect(r.history?.scaleUpEvents).toEqual([{ timestamp: now, replicaChange: 2, outdated: false }]);
  });
  it("uses the per-HPA tolerance of the direction", () => {
    // 11 against 10 is inside the default 10% tolerance but outside a 5% scale-up tolerance
    const tight = hpa({ behavior: { scaleUp: { tolerance: "50m" } } });
    expect(reconcile(input({ metricResponses: [podsMetric("qps", 3, "11")] })).scaled).toBe(false);
    expect(reconcile(input({ hpa: tight, metricResponses: [podsMetric("qps", 3, "11")] }))).toMatchObject({
      scaled: true,
      desiredReplicas: 4,
    });
  });
});

describe("reconcile: legacy delays", () => {
  const recentlyScaled = (secondsAgo: number, spec: Record<string, unknown> = {}) =>
    hpa(spec, { lastScaleTime: iso(ago(secondsAgo)) });
  const delays = { upscaleDelaySeconds: 180, downscaleDelaySeconds: 300 };
  it("hold a scale-up inside the upscale delay and say so in AbleToScale", () => {
    const r = reconcile(input({ hpa: recentlyScaled(60), settings: delays }));
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: false, events: [] });
    expect(condition(r, "AbleToScale")).toMatchObject({ status: "False", reason: "BackoffBoth" });
    // the recommendation is still remembered, as upstream remembers it on every sync
    expect(r.history?.recommendations).toEqual([{ timestamp: now, replicas: 6 }]);
  });
  it("let a scale-up through once the upscale delay passed, even inside the downscale delay", () => {
    const r = reconcile(input({ hpa: recentlyScaled(240), settings: delays }));
    expect(r).toMatchObject({ desiredReplicas: 6, scaled: true });
    expect(condition(r, "AbleToScale")).toMatchObject({ status: "True", reason: "SucceededRescale" });
  });
  it("hold a scale-down inside the downscale delay", () => {
    const r = reconcile(
      input({ hpa: recentlyScaled(240), settings: delays, metricResponses: [podsMetric("qps", 3, "5")] }),
    );
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: false });
    expect(condition(r, "AbleToScale")?.reason).toBe("BackoffDownscale");
  });
  it("apply after behavior: the policy bounds the size, the delay decides whether it is written", () => {
    const spec = { behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } } };
    expect(reconcile(input({ hpa: recentlyScaled(60, spec), settings: delays })).scaled).toBe(false);
    expect(reconcile(input({ hpa: recentlyScaled(200, spec), settings: delays }))).toMatchObject({
      scaled: true,
      desiredReplicas: 4,
    });
  });
  it("are off by default: a scale right after the last one goes through", () => {
    expect(reconcile(input({ hpa: recentlyScaled(0) }))).toMatchObject({ scaled: true, desiredReplicas: 6 });
  });
});

describe("reconcile: conditions over time", () => {
  it("keeps lastTransitionTime of a condition whose status did not change", () => {
    const before = hpa(
      {},
      {
        conditions: [
          {
            type: "ScalingActive",
            status: "True",
            reason: "ValidMetricFound",
            message: "old",
            lastTransitionTime: "2025-12-01T00:00:00Z",
          },
        ],
      },
    );
    const r = reconcile(input({ hpa: before }));
    expect(condition(r, "ScalingActive")?.lastTransitionTime).toBe("2025-12-01T00:00:00Z");
    expect(condition(r, "AbleToScale")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });
  const stale = { conditions: [{ type: "ScaledToZero", status: "True", reason: "ScaledToZero" }] };
  it("with the HPAScaleToZero gate off, drops a stale ScaledToZero condition on a rescale", () => {
    const r = reconcile(input({ hpa: hpa({}, stale), settings: { scaleToZero: false } }));
    expect(r.scaled).toBe(true);
    expect(condition(r, "ScaledToZero")).toBeUndefined();
  });
  it("with the HPAScaleToZero gate off, keeps a stale ScaledToZero condition while it does not rescale (1.37.2 removes it only on a rescale or at zero)", () => {
    const r = reconcile(
      input({
        hpa: hpa({}, stale),
        settings: { scaleToZero: false },
        metricResponses: [podsMetric("qps", 3, "10")],
      }),
    );
    expect(r.scaled).toBe(false);
    expect(condition(r, "ScaledToZero")).toMatchObject({ status: "True", reason: "ScaledToZero" });
  });
  it("with the HPAScaleToZero gate on (the 1.37 default), turns a stale ScaledToZero into NotScaledToZero on a normal rescale", () => {
    // upstream TestScaleToZeroBehavior "stale ScaledToZero condition cleared on normal rescale": CPU 30% target, 300m/500m/700m of 1 CPU → 5
    const cpuPods = [300, 500, 700].map((_, i) =>
      podSchema.parse({
        metadata: { name: `web-${i}`, namespace: "shop", labels: { app: "web" } },
        spec: { containers: [{ name: "app", resources: { requests: { cpu: "1" } } }] },
        status: {
          phase: "Running",
          startTime: "2025-12-31T00:00:00Z",
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2025-12-31T00:00:00Z" }],
        },
      }),
    );
    const usage = metricResponseSchema.parse({
      kind: "PodMetricsList",
      apiVersion: "metrics.k8s.io/v1beta1",
      items: [300, 500, 700].map((m, i) => ({
        metadata: { name: `web-${i}`, namespace: "shop" },
        timestamp: iso(ago(30)),
        window: "30s",
        containers: [{ name: "app", usage: { cpu: `${m}m` } }],
      })),
    });
    const cpuHpa = hpa(
      {
        maxReplicas: 6,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 30 } },
          },
        ],
      },
      stale,
    );
    const r = reconcile(input({ hpa: cpuHpa, pods: cpuPods, metricResponses: [usage] }));
    expect(r).toMatchObject({ desiredReplicas: 5, scaled: true });
    expect(condition(r, "ScaledToZero")).toMatchObject({
      status: "False",
      reason: "NotScaledToZero",
      message: "the HPA controller did not scale the workload to zero",
    });
    expect(condition(r, "ScalingLimited")).toMatchObject({ status: "False", reason: "DesiredWithinRange" });
  });
});

describe("reconcile: invariants", () => {
  it("never changes the size while every pod's metric stays inside the tolerance", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 910, max: 1090 }), (n, milli) => {
        // target 1 per pod; usage between 0.91 and 1.09 is inside the default 10% tolerance
        const r = reconcile(
          input({
            hpa: hpa({
              metrics: [
                {
                  type: "Pods",
                  pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "1" } },
                },
              ],
            }),
            scale: { replicas: n, selector: "app=web" },
            pods: pods(n),
            metricResponses: [podsMetric("qps", n, `${milli}m`)],
          }),
        );
        return !r.scaled && r.desiredReplicas === n && r.events.length === 0;
      }),
    );
  });
  it("keeps the written size within [minReplicas, maxReplicas] whenever the current size is", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        (min, extra, value, withBehavior) => {
          const max = min + extra;
          const current = min + Math.floor(extra / 2);
          const r = reconcile(
            input({
              hpa: hpa({ minReplicas: min, maxReplicas: max, ...(withBehavior ? { behavior: {} } : {}) }),
              scale: { replicas: current, selector: "app=web" },
              pods: pods(current),
              metricResponses: [podsMetric("qps", current, String(value))],
            }),
          );
          return r.desiredReplicas >= min && r.desiredReplicas <= max;
        },
      ),
    );
  });
});

describe("reconcile: scale to zero (HPAScaleToZero gate)", () => {
  const queue = (value: string): MetricResponse =>
    metricResponseSchema.parse({
      kind: "ExternalMetricValueList",
      apiVersion: "external.metrics.k8s.io/v1beta1",
      items: [{ metricName: "queue", timestamp: iso(now), value }],
    });
  const queueHpa = (status: Record<string, unknown> = {}, minReplicas = 0) =>
    hpa(
      {
        minReplicas,
        metrics: [
          {
            type: "External",
            external: { metric: { name: "queue" }, target: { type: "Value", value: "10" } },
          },
        ],
      },
      status,
    );
  const scaledToZero = {
    currentReplicas: 0,
    desiredReplicas: 0,
    conditions: [{ type: "ScaledToZero", status: "True", reason: "ScaledToZero", message: "m" }],
  };

  it("marks a target it scaled to zero with ScaledToZero", () => {
    const r = reconcile(
      input({ hpa: queueHpa(), metricResponses: [queue("0")], settings: { scaleToZero: true } }),
    );
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: true });
    expect(condition(r, "ScaledToZero")).toMatchObject({
      status: "True",
      reason: "ScaledToZero",
      message: "the HPA controller scaled the workload to zero",
    });
  });
  it("wakes that target from its metrics and clears the mark", () => {
    const r = reconcile(
      input({
        hpa: queueHpa(scaledToZero),
        scale: { replicas: 0, selector: "app=web" },
        pods: [],
        metricResponses: [queue("25")],
        settings: { scaleToZero: true },
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 3, scaled: true });
    expect(condition(r, "ScaledToZero")).toMatchObject({ status: "False", reason: "NotScaledToZero" });
  });
  it("wakes it from its metrics after minReplicas was raised, to at least the new minimum", () => {
    const wake = (value: string) =>
      reconcile(
        input({
          hpa: queueHpa(scaledToZero, 2),
          scale: { replicas: 0, selector: "app=web" },
          pods: [],
          metricResponses: [queue(value)],
          settings: { scaleToZero: true },
        }),
      );
    expect(wake("5")).toMatchObject({ desiredReplicas: 2, scaled: true });
    expect(wake("25")).toMatchObject({ desiredReplicas: 3, scaled: true });
  });
  it("leaves a target someone else scaled to zero alone", () => {
    const r = reconcile(
      input({
        hpa: queueHpa({ currentReplicas: 0 }),
        scale: { replicas: 0, selector: "app=web" },
        pods: [],
        metricResponses: [queue("25")],
        settings: { scaleToZero: true },
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: false });
    expect(condition(r, "ScalingActive")?.reason).toBe("ScalingDisabled");
  });
  it("without the gate (--no-scale-to-zero), stays at zero and drops the mark", () => {
    const r = reconcile(
      input({
        hpa: queueHpa(scaledToZero),
        scale: { replicas: 0, selector: "app=web" },
        pods: [],
        metricResponses: [queue("25")],
        settings: { scaleToZero: false },
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: false });
    expect(condition(r, "ScaledToZero")).toBeUndefined();
  });
  it("is on by default, as HPAScaleToZero is in 1.37: scales to zero and marks it without any setting", () => {
    const r = reconcile(input({ hpa: queueHpa(), metricResponses: [queue("0")] }));
    expect(r).toMatchObject({ desiredReplicas: 0, scaled: true });
    expect(condition(r, "ScaledToZero")).toMatchObject({ status: "True", reason: "ScaledToZero" });
  });
  it("after minReplicas was raised, wakes an Object-metric target it scaled to zero up to minReplicas (TooFewReplicas)", () => {
    // upstream TestScaleToZeroBehavior "minReplicas increased with ScaledToZero condition, HPAScaleToZero enabled":
    // minReplicas 2, an Object Value target of 15 reading 10 at zero replicas → 2
    const objectHpa = hpa(
      {
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [
          {
            type: "Object",
            object: {
              describedObject: { apiVersion: "apps/v1", kind: "Deployment", name: "some-deployment" },
              metric: { name: "qps" },
              target: { type: "Value", value: "15" },
            },
          },
        ],
      },
      scaledToZero,
    );
    const qps = metricResponseSchema.parse({
      kind: "MetricValueList",
      apiVersion: "custom.metrics.k8s.io/v1beta2",
      items: [
        {
          describedObject: {
            kind: "Deployment",
            namespace: "shop",
            name: "some-deployment",
            apiVersion: "apps/v1",
          },
          metric: { name: "qps" },
          timestamp: iso(now),
          value: "10",
        },
      ],
    });
    const r = reconcile(
      input({
        hpa: objectHpa,
        scale: { replicas: 0, selector: "app=web" },
        pods: [],
        metricResponses: [qps],
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 2, scaled: true });
    expect(condition(r, "ScaledToZero")).toMatchObject({ status: "False", reason: "NotScaledToZero" });
    expect(condition(r, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    expect(condition(r, "ScalingLimited")).toMatchObject({ status: "True", reason: "TooFewReplicas" });
  });
  it("keeps the mark as it was when the scale write fails", () => {
    const i = input({ hpa: queueHpa(), metricResponses: [queue("0")], settings: { scaleToZero: true } });
    const r = applyScaleResult(i, reconcile(i), { ok: false, error: "conflict" });
    expect(condition(r, "ScaledToZero")).toBeUndefined();
  });
});

describe("reconcile: pods claimed by several HPAs", () => {
  it("refuses to scale when another HPA's selector selects the same pods", () => {
    const r = reconcile(
      input({
        otherHpaSelectors: [
          { name: "web-canary", selector: "app" },
          { name: "db", selector: "app=db" },
        ],
      }),
    );
    expect(r.scaled).toBe(false);
    const message =
      "pods by selector app=web are controlled by more than one HPA (e.g. [shop/web shop/web-canary])";
    expect(r.events.map((e) => [e.reason, e.message])).toEqual([
      ["AmbiguousSelector", message],
      ["FailedComputeMetricsReplicas", message],
    ]);
    expect(condition(r, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "AmbiguousSelector",
      message,
    });
  });
  it("names at most two HPAs, as upstream's HPAsMatchingPods stops at two", () => {
    const r = reconcile(
      input({
        otherHpaSelectors: [
          { name: "web-canary", selector: "app" },
          { name: "web-b", selector: "app=web" },
        ],
      }),
    );
    expect(r.events[0]?.message).toBe(
      "pods by selector app=web are controlled by more than one HPA (e.g. [shop/web shop/web-b])",
    );
  });
  it("scales when the other HPAs select other pods", () => {
    expect(reconcile(input({ otherHpaSelectors: [{ name: "db", selector: "app=db" }] })).scaled).toBe(true);
  });
});

describe("reconcile: over several syncs", () => {
  it("scales down only once the highest recommendation has left the 5 minute window", () => {
    let history: HpaHistory | null = null;
    let current = 3;
    const sizes: number[] = [];
    // load drops right away; one sync every 15s for 6 minutes
    for (let t = 0; t <= 360; t += 15) {
      const r = reconcile(
        input({
          now: now + t * 1000,
          history,
          scale: { replicas: current, selector: "app=web" },
          pods: pods(current),
          metricResponses: [podsMetric("qps", current, "4")],
        }),
      );
      history = r.history;
      if (r.scaled) current = r.desiredReplicas;
      sizes.push(current);
    }
    // held at 3 by the size recorded on the first sync until it is older than 300s (strictly), then down to 2
    expect(sizes.slice(0, 21)).toEqual(Array(21).fill(3));
    expect(sizes[21]).toBe(2);
    expect(history?.recommendations.length).toBeLessThanOrEqual(22);
  });
  it("with behavior, paces a scale-up by the policy period", () => {
    let history: HpaHistory | null = null;
    let current = 2;
    const withRate = hpa({
      maxReplicas: 20,
      behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } },
    });
    const sizes: number[] = [];
    for (let t = 0; t <= 180; t += 15) {
      const r = reconcile(
        input({
          now: now + t * 1000,
          hpa: withRate,
          history,
          scale: { replicas: current, selector: "app=web" },
          pods: pods(current),
          metricResponses: [podsMetric("qps", current, "100")],
        }),
      );
      history = r.history;
      if (r.scaled) current = r.desiredReplicas;
      sizes.push(current);
    }
    // +2 per 60s: an event exactly one period old no longer counts, so 4 at once, 6 at 60s, 8 at 120s, 10 at 180s
    expect(sizes).toEqual([4, 4, 4, 4, 6, 6, 6, 6, 8, 8, 8, 8, 10]);
  });
});

describe("reconcile: status.observedGeneration (HPAGeneration gate, on in 1.37)", () => {
  const generation3 = () => {
    const h = hpa();
    return { ...h, metadata: { ...h.metadata, generation: 3 } };
  };
  it("reports the generation the sync saw, on a rescale and when no metric is usable", () => {
    expect(reconcile(input({ hpa: generation3() })).status.observedGeneration).toBe(3);
    expect(
      reconcile(input({ hpa: generation3(), metricResponses: [{ error: "boom" }] })).status
        .observedGeneration,
    ).toBe(3);
  });
  it("keeps the generation on a failed scale write", () => {
    const i = input({ hpa: generation3() });
    expect(
      applyScaleResult(i, reconcile(i), { ok: false, error: "conflict" }).status.observedGeneration,
    ).toBe(3);
  });
  it("is left as it was when the scale cannot be read (upstream writes only the condition then)", () => {
    const h = generation3();
    const r = reconcile(
      input({ hpa: { ...h, status: { ...h.status, observedGeneration: 2 } }, scale: { error: "not found" } }),
    );
    expect(r.status.observedGeneration).toBe(2);
  });
  it("is not written with the gate off", () => {
    expect(
      reconcile(input({ hpa: generation3(), settings: { hpaGeneration: false } })).status,
    ).not.toHaveProperty("observedGeneration");
  });
});

describe("reconcile: the scale's status.replicas", () => {
  // An Object AverageValue target divides by status.replicas, every other calculation uses spec.replicas
  // (upstream computeReplicasForMetrics). 8 over a per-pod target of 2 with 4 running pods is on target.
  const perPod = hpa({
    metrics: [
      {
        type: "Object",
        object: {
          describedObject: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
          metric: { name: "qps" },
          target: { type: "AverageValue", averageValue: "2" },
        },
      },
    ],
  });
  const qps = metricResponseSchema.parse({
    kind: "MetricValueList",
    apiVersion: "custom.metrics.k8s.io/v1beta2",
    items: [
      {
        describedObject: { kind: "Deployment", namespace: "shop", name: "web", apiVersion: "apps/v1" },
        metric: { name: "qps" },
        timestamp: iso(now),
        value: "8",
      },
    ],
  });
  it("is the base of an Object AverageValue target's per-pod average", () => {
    const r = reconcile(
      input({
        hpa: perPod,
        scale: { replicas: 3, selector: "app=web", statusReplicas: 4 },
        metricResponses: [qps],
      }),
    );
    expect(r).toMatchObject({ desiredReplicas: 4, scaled: true });
    expect(r.status.currentMetrics?.[0]?.object?.current.averageValue?.toString()).toBe("2");
  });
  it("defaults to spec.replicas when the caller does not give it", () => {
    const r = reconcile(
      input({ hpa: perPod, scale: { replicas: 3, selector: "app=web" }, metricResponses: [qps] }),
    );
    expect(r.status.currentMetrics?.[0]?.object?.current.averageValue?.toString()).toBe("2667m");
  });
});
