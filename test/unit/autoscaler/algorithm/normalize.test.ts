import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  calculateScaleUpLimit,
  convertDesiredReplicasWithRules,
  normalizeDesiredReplicas,
  stabilizeRecommendation,
} from "../../../../src/autoscaler/algorithm/normalize.js";
import { defaultControllerSettings, withDefaults } from "../../../../src/autoscaler/algorithm/settings.js";

const now = Date.parse("2026-01-01T00:00:00Z");
const ago = (seconds: number) => now - seconds * 1000;
const settings = withDefaults({});

describe("scale-up limit without behavior", () => {
  it("is twice the current size, at least four", () => {
    expect(calculateScaleUpLimit(1, settings)).toBe(4);
    expect(calculateScaleUpLimit(3, settings)).toBe(6);
    expect(calculateScaleUpLimit(10, settings)).toBe(20);
  });
  it("follows a raised factor (upstream's tests use 8)", () => {
    expect(calculateScaleUpLimit(3, { scaleUpLimitFactor: 8, scaleUpLimitMinimum: 4 })).toBe(24);
  });
});

describe("bounds without behavior", () => {
  it("raises a recommendation below minReplicas to minReplicas (TooFewReplicas)", () => {
    expect(convertDesiredReplicasWithRules(3, 1, 2, 8, settings)).toEqual({
      replicas: 2,
      limit: {
        reason: "TooFewReplicas",
        message: "the desired replica count is less than the minimum replica count",
      },
    });
  });
  it("caps at the scale-up limit when it is below maxReplicas (ScaleUpLimit)", () => {
    expect(convertDesiredReplicasWithRules(3, 1000, 1, 2000, settings)).toMatchObject({
      replicas: 6,
      limit: { reason: "ScaleUpLimit" },
    });
  });
  it("caps at maxReplicas when it is below the scale-up limit (TooManyReplicas)", () => {
    expect(convertDesiredReplicasWithRules(20, 1000, 1, 10, settings)).toMatchObject({
      replicas: 10,
      limit: { reason: "TooManyReplicas" },
    });
  });
  it("allows zero when minReplicas is zero (DesiredWithinRange)", () => {
    expect(convertDesiredReplicasWithRules(1, 0, 0, 10, settings)).toMatchObject({
      replicas: 0,
      limit: { reason: "DesiredWithinRange" },
    });
  });
});

describe("downscale stabilization", () => {
  it("holds the highest recommendation of the window", () => {
    const r = stabilizeRecommendation(
      [
        { timestamp: ago(120), replicas: 4 },
        { timestamp: ago(60), replicas: 5 },
      ],
      now,
      300,
      3,
    );
    expect(r.replicas).toBe(5);
    expect(r.recommendations).toHaveLength(3);
  });
  it("ignores recommendations older than the window and reuses the last old slot for the new one", () => {
    const r = stabilizeRecommendation(
      [
        { timestamp: ago(600), replicas: 10 },
        { timestamp: ago(60), replicas: 4 },
        { timestamp: ago(540), replicas: 9 },
      ],
      now,
      300,
      3,
    );
    expect(r.replicas).toBe(4);
    expect(r.recommendations).toEqual([
      { timestamp: ago(600), replicas: 10 },
      { timestamp: ago(60), replicas: 4 },
      { timestamp: now, replicas: 3 },
    ]);
  });
  it("still counts a recommendation exactly at the window's start", () => {
    expect(stabilizeRecommendation([{ timestamp: ago(300), replicas: 7 }], now, 300, 2).replicas).toBe(7);
  });
  it("does not modify the history it is given", () => {
    const history = [{ timestamp: ago(600), replicas: 10 }];
    stabilizeRecommendation(history, now, 300, 3);
    expect(history).toEqual([{ timestamp: ago(600), replicas: 10 }]);
  });
});

describe("normalizeDesiredReplicas", () => {
  it("reports ScaleDownStabilized when the window held the size up", () => {
    const r = normalizeDesiredReplicas({
      now,
      settings,
      currentReplicas: 5,
      recommendedReplicas: 2,
      minReplicas: 1,
      maxReplicas: 10,
      recommendations: [{ timestamp: ago(10), replicas: 5 }],
    });
    expect(r.desiredReplicas).toBe(5);
    expect(r.ableToScale).toMatchObject({ status: "True", reason: "ScaleDownStabilized" });
    expect(r.scalingLimited).toMatchObject({ status: "False", reason: "DesiredWithinRange" });
  });
  it("reports ReadyForNewScale and ScalingLimited True when only a bound changed the size", () => {
    const r = normalizeDesiredReplicas({
      now,
      settings,
      currentReplicas: 3,
      recommendedReplicas: 50,
      minReplicas: 1,
      maxReplicas: 10,
      recommendations: [],
    });
    expect(r.desiredReplicas).toBe(6);
    expect(r.ableToScale.reason).toBe("ReadyForNewScale");
    expect(r.scalingLimited).toMatchObject({ status: "True", reason: "ScaleUpLimit" });
  });
});

// Invariants
const history = fc.array(
  fc.record({ age: fc.integer({ min: 0, max: 900 }), replicas: fc.integer({ min: 0, max: 200 }) }),
  { maxLength: 12 },
);

describe("invariants without behavior", () => {
  // reconcile only normalizes when the current size already lies within the bounds
  it("the result always lies within [minReplicas, maxReplicas]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 80 }),
        history,
        (offset, recommended, min, span, recs) => {
          const max = Math.max(min, 1) + span;
          const current = Math.max(min, 1) + (offset % (max - Math.max(min, 1) + 1));
          const r = normalizeDesiredReplicas({
            now,
            settings,
            currentReplicas: current,
            recommendedReplicas: recommended,
            minReplicas: min,
            maxReplicas: max,
            recommendations: recs.map((h) => ({ timestamp: ago(h.age), replicas: h.replicas })),
          });
          return r.desiredReplicas >= min && r.desiredReplicas <= max;
        },
      ),
    );
  });
  it("stabilization never lets the recommendation drop below the window's maximum", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 900 }),
        history,
        (recommended, window, recs) => {
          const entries = recs.map((h) => ({ timestamp: ago(h.age), replicas: h.replicas }));
          const r = stabilizeRecommendation(entries, now, window, recommended);
          const inWindow = entries.filter((e) => e.timestamp >= ago(window)).map((e) => e.replicas);
          return r.replicas === Math.max(recommended, ...inWindow);
        },
      ),
    );
  });
  it("the scale-up limit is never exceeded", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 100000 }),
        fc.integer({ min: 1, max: 100000 }),
        (current, recommended, max) => {
          const r = convertDesiredReplicasWithRules(current, recommended, 1, max, defaultControllerSettings);
          return r.replicas <= Math.max(1, Math.max(2 * current, 4));
        },
      ),
    );
  });
});
