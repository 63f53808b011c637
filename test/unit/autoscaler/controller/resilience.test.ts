import { describe, expect, it } from "vitest";
import {
  reconcile,
  defaultControllerSettings,
  type ReconcileInput,
} from "../../../../src/autoscaler/algorithm/index.js";
import {
  FALLBACK_AFTER_ANNOTATION,
  FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION,
  FALLBACK_REPLICAS_ANNOTATION,
  LAST_KNOWN_GOOD_ANNOTATION,
  MAX_METRIC_AGE_ANNOTATION,
  readOverrides,
} from "../../../../src/autoscaler/controller/annotations.js";
import {
  applyFallback,
  applyMaxMetricAge,
  holdIfLastKnownGoodScalesDown,
  metricsFailed,
  prepareReadings,
  resolvePolicy,
  type GoodReading,
  type ResiliencePolicy,
} from "../../../../src/autoscaler/controller/resilience.js";
import { stableJson } from "../../../../src/autoscaler/controller/stable-json.js";
import {
  epochMsToKubeTime,
  horizontalPodAutoscalerSchema,
  metricResponseSchema,
  type HorizontalPodAutoscaler,
  type MetricResponse,
  type MetricSpec,
} from "../../../../src/kube/objects.js";
import { makeController } from "../fakes.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const rawQueueSpec = {
  type: "External",
  external: { metric: { name: "queue_depth" }, target: { type: "AverageValue", averageValue: "10" } },
};

function hpa(
  annotations: Record<string, string> = {},
  status = { currentReplicas: 4, desiredReplicas: 4 },
): HorizontalPodAutoscaler {
  return horizontalPodAutoscalerSchema.parse({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default", uid: "u1", resourceVersion: "1", annotations },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [rawQueueSpec],
    },
    status,
  });
}

const queueSpec: MetricSpec = hpa().spec.metrics![0]!;

/** queue_depth = value, sampled at `sampledAt` */
function queue(value: number, sampledAt: number): MetricResponse {
  return metricResponseSchema.parse({
    kind: "ExternalMetricValueList",
    items: [
      {
        metricName: "queue_depth",
        metricLabels: {},
        timestamp: epochMsToKubeTime(sampledAt),
        value: String(value),
      },
    ],
  });
}
const down: MetricResponse = { error: "the server is currently unable to handle the request" };

function input(response: MetricResponse, now: number, replicas = 4, h = hpa()): ReconcileInput {
  return {
    now,
    settings: { ...defaultControllerSettings, downscaleStabilizationWindowSeconds: 0 },
    hpa: h,
    scale: { replicas, selector: "app=web" },
    pods: [],
    metricResponses: [response],
    history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] },
  };
}

const remembered = (response: MetricResponse, readAt: number): Map<string, GoodReading> =>
  new Map([[stableJson(queueSpec), { response, readAt }]]);

function condition(
  status: {
    conditions?: { type: string; status: string; reason?: string | null; message?: string | null }[] | null;
  },
  type: string,
) {
  return status.conditions?.find((c) => c.type === type);
}

describe("max-metric-age", () => {
  it("turns a value whose newest sample is older than max-metric-age into a failed read", () => {
    const r = applyMaxMetricAge(queue(30, T0 - 3 * MINUTE), 2 * MINUTE, T0, "external metric queue_depth");
    expect(r).toEqual({
      error: "the newest sample of external metric queue_depth is 3m0s old, older than max-metric-age 2m0s",
    });
  });

  it("keeps a value sampled within max-metric-age as it is", () => {
    const fresh = queue(30, T0 - 90 * SECOND);
    expect(applyMaxMetricAge(fresh, 2 * MINUTE, T0, "q")).toBe(fresh);
  });

  it("drops only the stale pods of a pods metric, so upstream's missing-pod rules apply to them", () => {
    const list = metricResponseSchema.parse({
      kind: "MetricValueList",
      items: [
        {
          describedObject: { kind: "Pod", name: "a" },
          metricName: "rps",
          timestamp: epochMsToKubeTime(T0 - 10 * SECOND),
          value: "5",
        },
        {
          describedObject: { kind: "Pod", name: "b" },
          metricName: "rps",
          timestamp: epochMsToKubeTime(T0 - 5 * MINUTE),
          value: "9",
        },
      ],
    });
    const r = applyMaxMetricAge(list, 2 * MINUTE, T0, "pods metric rps");
    expect(
      "items" in r &&
        r.items?.map((i) => ("describedObject" in i ? (i.describedObject as { name: string }).name : "")),
    ).toEqual(["a"]);
  });

  it("is off unless set: an old sample is used as upstream uses it", () => {
    const old = queue(30, T0 - 1000 * MINUTE);
    expect(applyMaxMetricAge(old, undefined, T0, "q")).toBe(old);
  });

  it("makes the algorithm hold with ScalingActive False on a stale value", () => {
    const policy: ResiliencePolicy = { maxMetricAgeMs: 2 * MINUTE };
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [queue(80, T0 - 5 * MINUTE)],
      read: true,
      remembered: undefined,
      policy,
      now: T0,
    });
    const out = reconcile(input(p.responses[0]!, T0));
    expect(out.scaled).toBe(false);
    expect(condition(out.status, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "FailedGetExternalMetric",
    });
    expect(metricsFailed(out, p)).toBe(true);
  });
});

describe("last-known-good", () => {
  const policy: ResiliencePolicy = { lastKnownGoodMs: 5 * MINUTE };

  it("uses the remembered value to scale up, and says so in ScalingActive and an Event", () => {
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [down],
      read: true,
      remembered: remembered(queue(80, T0 - 60 * SECOND), T0 - 60 * SECOND),
      policy,
      now: T0,
    });
    expect(p.substitutions).toEqual([
      { index: 0, metric: "external metric queue_depth", ageMs: 60 * SECOND, error: down.error },
    ]);
    const i = input(p.responses[0]!, T0);
    const out = holdIfLastKnownGoodScalesDown(i, reconcile(i), p.substitutions);
    expect(out.scaled).toBe(true);
    expect(out.desiredReplicas).toBe(8);
    const active = condition(out.status, "ScalingActive");
    expect(active).toMatchObject({ status: "True", reason: "UsingLastKnownGoodMetric" });
    expect(active?.message).toContain(
      "external metric queue_depth from its last known good value, read 1m0s ago",
    );
    expect(out.events.map((e) => e.reason)).toEqual(["SuccessfulRescale", "UsingLastKnownGoodMetric"]);
    expect(metricsFailed(out, p)).toBe(false);
  });

  it("never scales down on a remembered value: the current size is held", () => {
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [down],
      read: true,
      remembered: remembered(queue(10, T0 - 30 * SECOND), T0 - 30 * SECOND),
      policy,
      now: T0,
    });
    const i = input(p.responses[0]!, T0, 4);
    const computed = reconcile(i);
    expect(computed.desiredReplicas).toBe(1); // what the algorithm alone would do
    const out = holdIfLastKnownGoodScalesDown(i, computed, p.substitutions);
    expect(out.scaled).toBe(false);
    expect(out.desiredReplicas).toBe(4);
    expect(out.status.desiredReplicas).toBe(4);
    expect(out.status.lastScaleTime).toBeUndefined();
    expect(condition(out.status, "ScalingActive")?.message).toContain("would scale down to 1");
    expect(out.events.map((e) => e.reason)).not.toContain("SuccessfulRescale");
    // the remembered low value is not kept as a recommendation below the current size
    expect(out.history?.recommendations.filter((r) => r.timestamp === T0).map((r) => r.replicas)).toEqual([
      4,
    ]);
  });

  it("does not use a remembered value older than last-known-good: the read stays failed", () => {
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [down],
      read: true,
      remembered: remembered(queue(80, T0 - 6 * MINUTE), T0 - 6 * MINUTE),
      policy,
      now: T0,
    });
    expect(p.substitutions).toEqual([]);
    expect(p.failed).toBe(1);
    expect(p.responses[0]).toEqual(down);
    expect(p.remembered.size).toBe(0);
  });

  it("remembers a good reading only when last-known-good is on", () => {
    const on = prepareReadings({
      specs: [queueSpec],
      responses: [queue(30, T0)],
      read: true,
      remembered: undefined,
      policy,
      now: T0,
    });
    expect(on.remembered.get(stableJson(queueSpec))?.readAt).toBe(T0);
    const off = prepareReadings({
      specs: [queueSpec],
      responses: [queue(30, T0)],
      read: true,
      remembered: undefined,
      policy: {},
      now: T0,
    });
    expect(off.remembered.size).toBe(0);
  });

  it("keeps the remembered value of a stale read out, and uses the older good one instead", () => {
    const both: ResiliencePolicy = { lastKnownGoodMs: 5 * MINUTE, maxMetricAgeMs: 2 * MINUTE };
    const good = queue(80, T0 - 60 * SECOND);
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [queue(80, T0 - 3 * MINUTE)],
      read: true,
      remembered: remembered(good, T0 - 60 * SECOND),
      policy: both,
      now: T0,
    });
    expect(p.responses[0]).toBe(good);
    expect(p.substitutions[0]?.error).toContain("older than max-metric-age");
  });

  it("changes nothing when metrics were not read this sync", () => {
    const before = remembered(queue(80, T0 - 60 * SECOND), T0 - 60 * SECOND);
    const skipped: MetricResponse = { error: "not read" };
    const p = prepareReadings({
      specs: [queueSpec],
      responses: [skipped],
      read: false,
      remembered: before,
      policy,
      now: T0,
    });
    expect(p.responses).toEqual([skipped]);
    expect(p.failed).toBe(0);
    expect(p.remembered).toEqual(before);
  });
});

describe("fallback-replicas", () => {
  const failedRead = (replicas: number, h = hpa()) => {
    const i = input(down, T0, replicas, h);
    return { i, computed: reconcile(i) };
  };
  const fb = (replicas: number, allowScaleDown = false) => ({ replicas, after: 3, allowScaleDown });

  it("does nothing before the configured number of failed syncs", () => {
    const { i, computed } = failedRead(2);
    expect(applyFallback(i, computed, 2, fb(6), defaultControllerSettings)).toBe(computed);
  });

  it("scales up to fallback-replicas after N failed syncs, with an Event and condition", () => {
    const { i, computed } = failedRead(2);
    const out = applyFallback(i, computed, 3, fb(6), defaultControllerSettings);
    expect(out.scaled).toBe(true);
    expect(out.desiredReplicas).toBe(6);
    expect(out.status.desiredReplicas).toBe(6);
    expect(condition(out.status, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "FallbackReplicas",
    });
    expect(out.events.map((e) => e.reason)).toEqual([
      "FailedGetExternalMetric",
      "FailedComputeMetricsReplicas",
      "FallbackReplicas",
      "SuccessfulRescale",
    ]);
  });

  it("never goes below the current size unless allowed", () => {
    const { i, computed } = failedRead(8);
    const held = applyFallback(i, computed, 3, fb(6), defaultControllerSettings);
    expect(held.scaled).toBe(false);
    expect(condition(held.status, "ScalingActive")?.reason).toBe("FallbackReplicas");
    expect(held.events.map((e) => e.reason)).toContain("FallbackReplicas");
    const allowed = applyFallback(i, computed, 3, fb(6, true), defaultControllerSettings);
    expect(allowed.scaled).toBe(true);
    expect(allowed.desiredReplicas).toBe(6);
  });

  it("stays within maxReplicas", () => {
    const { i, computed } = failedRead(2);
    expect(applyFallback(i, computed, 5, fb(50), defaultControllerSettings).desiredReplicas).toBe(10);
  });
});

describe("annotations", () => {
  it("reads each resilience annotation", () => {
    const o = readOverrides({
      [MAX_METRIC_AGE_ANNOTATION]: "2m",
      [LAST_KNOWN_GOOD_ANNOTATION]: "5m",
      [FALLBACK_REPLICAS_ANNOTATION]: "4",
      [FALLBACK_AFTER_ANNOTATION]: "2",
      [FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION]: "true",
    });
    expect(o).toEqual({
      maxMetricAgeMs: 120_000,
      lastKnownGoodMs: 300_000,
      fallbackReplicas: 4,
      fallbackAfter: 2,
      fallbackAllowScaleDown: true,
      problems: [],
    });
    expect(resolvePolicy({}, o)).toEqual({
      maxMetricAgeMs: 120_000,
      lastKnownGoodMs: 300_000,
      fallback: { replicas: 4, after: 2, allowScaleDown: true },
    });
  });

  it("lets an annotation of 0 turn a flag default off, and takes the flags otherwise", () => {
    const defaults = { maxMetricAgeMs: 60_000, lastKnownGoodMs: 300_000, fallbackAfter: 5 };
    const o = readOverrides({ [MAX_METRIC_AGE_ANNOTATION]: "0", [FALLBACK_REPLICAS_ANNOTATION]: "3" });
    expect(resolvePolicy(defaults, o)).toEqual({
      maxMetricAgeMs: undefined,
      lastKnownGoodMs: 300_000,
      fallback: { replicas: 3, after: 5, allowScaleDown: false },
    });
  });

  it("names each invalid annotation in a problem and uses the defaults", () => {
    const o = readOverrides({
      [MAX_METRIC_AGE_ANNOTATION]: "soon",
      [FALLBACK_REPLICAS_ANNOTATION]: "-1",
      [FALLBACK_AFTER_ANNOTATION]: "0",
      [FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION]: "yes",
    });
    expect(o.problems).toHaveLength(4);
    expect(o.problems[0]).toContain(MAX_METRIC_AGE_ANNOTATION);
    expect(o.problems[1]).toContain(FALLBACK_REPLICAS_ANNOTATION);
    expect(o.problems[2]).toContain(FALLBACK_AFTER_ANNOTATION);
    expect(o.problems[3]).toContain(FALLBACK_ALLOW_SCALE_DOWN_ANNOTATION);
    expect(resolvePolicy({ maxMetricAgeMs: 60_000 }, o)).toEqual({
      maxMetricAgeMs: 60_000,
      lastKnownGoodMs: undefined,
      fallback: undefined,
    });
  });
});

describe("the controller with resilience", () => {
  /** a controller with the real algorithm, whose external metric answers from `answers` in turn */
  function setup(annotations: Record<string, string>, answers: (() => MetricResponse)[]) {
    let n = 0;
    const h = makeController({
      reconcile,
      applyScaleResult: (_i, r) => r,
      metrics: { read: async () => (answers[Math.min(n++, answers.length - 1)] ?? (() => down))() },
    });
    h.hpas.set(hpa(annotations));
    h.scales.replicas.set("web", 4);
    return h;
  }

  it("scales up from the value seen before the metrics API failed, and holds rather than scale down", async () => {
    const h = setup({ [LAST_KNOWN_GOOD_ANNOTATION]: "5m" }, [
      () => queue(40, h.clock.now()),
      () => down,
      () => down,
    ]);
    await h.controller.syncKey("default/web");
    expect(h.scales.updates).toEqual([]); // 40/10 = 4: already there
    h.hpas.set(hpa({ [LAST_KNOWN_GOOD_ANNOTATION]: "5m" }));
    h.scales.replicas.set("web", 2); // someone scaled down by hand meanwhile
    await h.clock.advance(15 * SECOND);
    await h.controller.syncKey("default/web");
    expect(h.scales.updates).toEqual([{ name: "web", replicas: 4 }]);
    expect(h.events.reasons()).toContain("UsingLastKnownGoodMetric");
  });

  it("reports an invalid resilience annotation as an Event naming it, and keeps upstream's behaviour", async () => {
    const h = setup({ [LAST_KNOWN_GOOD_ANNOTATION]: "forever" }, [
      () => queue(80, h.clock.now()),
      () => down,
    ]);
    await h.controller.syncKey("default/web");
    expect(h.scales.updates).toEqual([{ name: "web", replicas: 8 }]);
    const invalid = h.events.recorded.find((r) => r.event.reason === "InvalidAnnotation");
    expect(invalid?.event.message).toContain(LAST_KNOWN_GOOD_ANNOTATION);
    h.scales.replicas.set("web", 4);
    await h.controller.syncKey("default/web");
    expect(h.scales.updates).toHaveLength(1);
    expect(h.events.reasons()).not.toContain("UsingLastKnownGoodMetric");
  });

  it("goes to fallback-replicas after fallback-after syncs whose metrics failed, and counts again after a good one", async () => {
    const h = setup({ [FALLBACK_REPLICAS_ANNOTATION]: "7", [FALLBACK_AFTER_ANNOTATION]: "2" }, [
      () => down,
      () => queue(40, h.clock.now()),
      () => down,
      () => down,
    ]);
    await h.controller.syncKey("default/web"); // failed 1
    await h.controller.syncKey("default/web"); // good: count back to 0
    await h.controller.syncKey("default/web"); // failed 1
    expect(h.scales.updates).toEqual([]);
    await h.controller.syncKey("default/web"); // failed 2 → fallback
    expect(h.scales.updates).toEqual([{ name: "web", replicas: 7 }]);
    expect(h.events.reasons()).toContain("FallbackReplicas");
  });
});
