import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimitWithScalingRules,
  getReplicasChangePerPeriod,
  markScaleEventsOutdated,
  normalizeDesiredReplicasWithBehaviors,
  resolveBehavior,
  stabilizeRecommendationWithBehaviors,
  storeScaleEvent,
  type BehaviorSpec,
  type ScalingRules,
} from "../../../../src/autoscaler/algorithm/behavior.js";
import { withDefaults, type HpaHistory } from "../../../../src/autoscaler/algorithm/settings.js";

const now = Date.parse("2026-01-01T00:00:00Z");
const ago = (seconds: number) => now - seconds * 1000;
const settings = withDefaults({});
const empty: HpaHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
const rules = (r: Partial<ScalingRules>): ScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: "Max",
  policies: [],
  ...r,
});

describe("behavior defaults", () => {
  it("fill an empty behavior with upstream's rules and the controller's downscale window", () => {
    expect(resolveBehavior({}, withDefaults({ downscaleStabilizationWindowSeconds: 120 }))).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 120,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
      },
    });
  });
  it("keep each field the user set and default only the others", () => {
    const r = resolveBehavior(
      {
        scaleUp: { selectPolicy: "Min" },
        scaleDown: { policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
      },
      settings,
    );
    expect(r.scaleUp.selectPolicy).toBe("Min");
    expect(r.scaleUp.policies).toHaveLength(2);
    expect(r.scaleDown).toEqual({
      stabilizationWindowSeconds: 300,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    });
  });
});

describe("rate policies", () => {
  it("count only events strictly newer than the period", () => {
    const events = [
      { timestamp: ago(60), replicaChange: 1 },
      { timestamp: ago(59), replicaChange: 5 },
    ];
    expect(getReplicasChangePerPeriod(now, 60, events)).toBe(5);
  });
  it("Max picks the policy allowing the largest scale-up", () => {
    const r = rules({
      policies: [
        { type: "Pods", value: 4, periodSeconds: 15 },
        { type: "Percent", value: 100, periodSeconds: 15 },
      ],
    });
    expect(calculateScaleUpLimitWithScalingRules(now, 10, [], [], r)).toBe(20);
    expect(calculateScaleUpLimitWithScalingRules(now, 2, [], [], r)).toBe(6);
  });
  it("Min picks the policy allowing the smallest scale-up, rounding percentages up", () => {
    const r = rules({
      selectPolicy: "Min",
      policies: [
        { type: "Pods", value: 2, periodSeconds: 60 },
        { type: "Percent", value: 50, periodSeconds: 60 },
      ],
    });
    expect(calculateScaleUpLimitWithScalingRules(now, 1, [], [], r)).toBe(2);
  });
  it("Disabled forbids any change in that direction", () => {
    const r = rules({
      selectPolicy: "Disabled",
      policies: [{ type: "Pods", value: 100, periodSeconds: 60 }],
    });
    expect(calculateScaleUpLimitWithScalingRules(now, 7, [], [], r)).toBe(7);
    expect(calculateScaleDownLimitWithBehaviors(now, 7, [], [], r)).toBe(7);
  });
  it("measure from the size at the start of the period", () => {
    const r = rules({ policies: [{ type: "Pods", value: 150, periodSeconds: 120 }] });
    const ups = [
      { timestamp: ago(100), replicaChange: 1 },
      { timestamp: ago(60), replicaChange: 5 },
      { timestamp: ago(20), replicaChange: 9 },
    ];
    expect(calculateScaleUpLimitWithScalingRules(now, 100, ups, [], r)).toBe(235);
  });
  it("truncate a percentage scale-down toward zero", () => {
    const r = rules({ policies: [{ type: "Percent", value: 50, periodSeconds: 120 }] });
    const downs = [
      { timestamp: ago(100), replicaChange: 2 },
      { timestamp: ago(60), replicaChange: 4 },
      { timestamp: ago(20), replicaChange: 6 },
    ];
    expect(calculateScaleDownLimitWithBehaviors(now, 100, [], downs, r)).toBe(56);
    expect(
      calculateScaleDownLimitWithBehaviors(
        now,
        3,
        [],
        [],
        rules({ policies: [{ type: "Percent", value: 50, periodSeconds: 15 }] }),
      ),
    ).toBe(1);
  });
});

describe("stabilization per direction", () => {
  const behavior = resolveBehavior(
    { scaleUp: { stabilizationWindowSeconds: 300 }, scaleDown: { stabilizationWindowSeconds: 300 } },
    settings,
  );
  it("holds a scale-up at the lowest recommendation of the scale-up window", () => {
    const r = stabilizeRecommendationWithBehaviors({
      now,
      currentReplicas: 1,
      recommendedReplicas: 7,
      behavior,
      recommendations: [
        { timestamp: ago(120), replicas: 4 },
        { timestamp: ago(60), replicas: 5 },
      ],
    });
    expect(r.replicas).toBe(4);
    expect(r.stabilizedBy.reason).toBe("ScaleUpStabilized");
  });
  it("never moves against the direction of the recommendation", () => {
    const r = stabilizeRecommendationWithBehaviors({
      now,
      currentReplicas: 2,
      recommendedReplicas: 3,
      behavior,
      recommendations: [{ timestamp: ago(180), replicas: 1 }],
    });
    expect(r.replicas).toBe(2);
  });
  it("reuses the slot of an entry older than both windows", () => {
    const r = stabilizeRecommendationWithBehaviors({
      now,
      currentReplicas: 5,
      recommendedReplicas: 5,
      behavior,
      recommendations: [
        { timestamp: ago(900), replicas: 10 },
        { timestamp: ago(30), replicas: 5 },
      ],
    });
    expect(r.recommendations).toEqual([
      { timestamp: now, replicas: 5 },
      { timestamp: ago(30), replicas: 5 },
    ]);
  });
});

describe("normalizeDesiredReplicasWithBehaviors", () => {
  const behavior: BehaviorSpec = {
    scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 5, periodSeconds: 60 }] },
  };
  it("reports ScaleDownLimit when a policy slows the scale-down", () => {
    const r = normalizeDesiredReplicasWithBehaviors({
      now,
      settings,
      currentReplicas: 10,
      recommendedReplicas: 2,
      minReplicas: 1,
      maxReplicas: 100,
      behavior,
      history: empty,
    });
    expect(r.desiredReplicas).toBe(5);
    expect(r.scalingLimited).toMatchObject({
      status: "True",
      reason: "ScaleDownLimit",
      message: "the desired replica count is decreasing faster than the maximum scale rate",
    });
  });
  it("reports TooFewReplicas when minReplicas binds before the policy", () => {
    const r = normalizeDesiredReplicasWithBehaviors({
      now,
      settings,
      currentReplicas: 10,
      recommendedReplicas: 2,
      minReplicas: 7,
      maxReplicas: 100,
      behavior,
      history: empty,
    });
    expect(r.desiredReplicas).toBe(7);
    expect(r.scalingLimited.reason).toBe("TooFewReplicas");
  });
  it("holds the size when recent scale-ups used up the period's allowance", () => {
    const r = normalizeDesiredReplicasWithBehaviors({
      now,
      settings,
      currentReplicas: 100,
      recommendedReplicas: 500,
      minReplicas: 1,
      maxReplicas: 1000,
      behavior: { scaleUp: { policies: [{ type: "Pods", value: 5, periodSeconds: 120 }] } },
      history: { ...empty, scaleUpEvents: [{ timestamp: ago(30), replicaChange: 9 }] },
    });
    expect(r.desiredReplicas).toBe(100);
    expect(r.scalingLimited.reason).toBe("ScaleUpLimit");
  });
});

describe("scale event history", () => {
  it("marks events older than the longest policy period as outdated", () => {
    const events = markScaleEventsOutdated(
      [
        { timestamp: ago(61), replicaChange: 1 },
        { timestamp: ago(60), replicaChange: 2 },
      ],
      now,
      60,
    );
    expect(events.map((e) => e.outdated === true)).toEqual([true, false]);
  });
  it("stores a scale-up by reusing the last outdated slot", () => {
    const behavior: BehaviorSpec = { scaleUp: { policies: [{ type: "Pods", value: 4, periodSeconds: 60 }] } };
    const history = {
      ...empty,
      scaleUpEvents: [
        { timestamp: ago(200), replicaChange: 3 },
        { timestamp: ago(10), replicaChange: 2 },
      ],
    };
    const next = storeScaleEvent(behavior, history, now, 5, 8, settings);
    expect(next.scaleUpEvents).toEqual([
      { timestamp: now, replicaChange: 3, outdated: false },
      { timestamp: ago(10), replicaChange: 2 },
    ]);
    expect(next.scaleDownEvents).toEqual([]);
  });
  it("stores a scale-down as the number of replicas removed", () => {
    const next = storeScaleEvent({}, empty, now, 8, 5, settings);
    expect(next.scaleDownEvents).toEqual([{ timestamp: now, replicaChange: 3, outdated: false }]);
  });
  it("keeps no events for an HPA without behavior", () => {
    expect(storeScaleEvent(null, empty, now, 8, 5, settings)).toBe(empty);
  });
});

describe("invariants with behavior", () => {
  const policy = fc.record({
    type: fc.constantFrom("Pods", "Percent"),
    value: fc.integer({ min: 1, max: 300 }),
    periodSeconds: fc.integer({ min: 1, max: 600 }),
  });
  const ruleSpec = fc.record({
    stabilizationWindowSeconds: fc.integer({ min: 0, max: 600 }),
    selectPolicy: fc.constantFrom("Max", "Min", "Disabled"),
    policies: fc.array(policy, { minLength: 1, maxLength: 3 }),
  });
  const events = fc.array(
    fc.record({
      timestamp: fc.integer({ min: 0, max: 900 }).map(ago),
      replicaChange: fc.integer({ min: 0, max: 50 }),
    }),
    { maxLength: 5 },
  );
  const recs = fc.array(
    fc.record({
      timestamp: fc.integer({ min: 0, max: 900 }).map(ago),
      replicas: fc.integer({ min: 0, max: 300 }),
    }),
    { maxLength: 8 },
  );
  const world = fc.record({
    min: fc.integer({ min: 0, max: 20 }),
    span: fc.integer({ min: 0, max: 100 }),
    offset: fc.integer({ min: 0, max: 1000 }),
    recommended: fc.integer({ min: 0, max: 1000 }),
    up: ruleSpec,
    down: ruleSpec,
    ups: events,
    downs: events,
    recs,
  });
  type World = typeof world extends fc.Arbitrary<infer T> ? T : never;
  const run = (w: World) => {
    const low = Math.max(w.min, 1);
    const max = low + w.span;
    const current = low + (w.offset % (max - low + 1));
    const behavior: BehaviorSpec = { scaleUp: w.up, scaleDown: w.down };
    const r = normalizeDesiredReplicasWithBehaviors({
      now,
      settings,
      currentReplicas: current,
      recommendedReplicas: w.recommended,
      minReplicas: w.min,
      maxReplicas: max,
      behavior,
      history: { recommendations: w.recs, scaleUpEvents: w.ups, scaleDownEvents: w.downs },
    });
    return { r, current, max, resolved: resolveBehavior(behavior, settings) };
  };
  it("the result always lies within [minReplicas, maxReplicas]", () => {
    fc.assert(
      fc.property(world, (w) => {
        const { r, max } = run(w);
        return r.desiredReplicas >= w.min && r.desiredReplicas <= max;
      }),
    );
  });
  it("a scale-up never exceeds the policies' limit", () => {
    fc.assert(
      fc.property(world, (w) => {
        const { r, current, resolved } = run(w);
        const limit = Math.max(
          current,
          calculateScaleUpLimitWithScalingRules(now, current, w.ups, w.downs, resolved.scaleUp),
        );
        return r.desiredReplicas <= Math.max(current, limit);
      }),
    );
  });
  it("a scale-down never goes below the highest recommendation of the scale-down window", () => {
    fc.assert(
      fc.property(world, (w) => {
        const { r, current, resolved } = run(w);
        if (r.desiredReplicas >= current) return true;
        const cutoff = now - resolved.scaleDown.stabilizationWindowSeconds * 1000;
        const windowMax = Math.max(
          w.recommended,
          ...w.recs.filter((x) => x.timestamp > cutoff).map((x) => x.replicas),
        );
        return r.desiredReplicas >= Math.min(current, windowMax) || r.desiredReplicas === w.min;
      }),
    );
  });
});
