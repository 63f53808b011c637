import { describe, expect, it } from "vitest";
import {
  compactHistory,
  parseHistory,
  serializeHistory,
} from "../../../../src/autoscaler/controller/history.js";
import type { HpaHistory } from "../../../../src/autoscaler/algorithm/settings.js";

const T = Date.parse("2026-01-01T00:00:00Z");

describe("persisted history", () => {
  it("keeps only the newest recommendation per replica count and marks the newest overall as current", () => {
    const h: HpaHistory = {
      recommendations: [
        { timestamp: T - 240_000, replicas: 5 },
        { timestamp: T - 200_000, replicas: 5 },
        { timestamp: T - 100_000, replicas: 4 },
        { timestamp: T - 15_000, replicas: 3 },
        { timestamp: T, replicas: 3 },
      ],
      scaleUpEvents: [{ timestamp: T - 60_000, replicaChange: 2 }],
      scaleDownEvents: [{ timestamp: T - 30_000, replicaChange: 1, outdated: true }],
    };
    expect(compactHistory(h, T)).toEqual({
      v: 1,
      rec: [
        [T - 200_000, 5],
        [T - 100_000, 4],
      ],
      cur: 3,
      up: [[T - 60_000, 2]],
      down: [],
    });
  });

  it("round-trips: the stabilization maximum over any window ending now is unchanged", () => {
    const h: HpaHistory = {
      recommendations: [
        { timestamp: T - 280_000, replicas: 8 },
        { timestamp: T - 150_000, replicas: 6 },
        { timestamp: T - 60_000, replicas: 6 },
        { timestamp: T, replicas: 2 },
      ],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const back = parseHistory(serializeHistory(h, T), T);
    for (const window of [30_000, 120_000, 200_000, 300_000]) {
      const max = (x: HpaHistory | null) =>
        Math.max(
          ...(x?.recommendations ?? []).filter((r) => r.timestamp >= T - window).map((r) => r.replicas),
        );
      expect(max(back)).toBe(max(h));
    }
  });

  it("does not change between syncs that only repeat the current recommendation", () => {
    const base: HpaHistory = {
      recommendations: [{ timestamp: T - 100_000, replicas: 4 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const a = serializeHistory(
      { ...base, recommendations: [...base.recommendations, { timestamp: T, replicas: 3 }] },
      T,
    );
    const b = serializeHistory(
      {
        ...base,
        recommendations: [
          ...base.recommendations,
          { timestamp: T, replicas: 3 },
          { timestamp: T + 15_000, replicas: 3 },
        ],
      },
      T + 15_000,
    );
    expect(b).toBe(a);
  });

  it("stamps the current recommendation with the loader's clock, so a failover never shortens a window", () => {
    const saved = serializeHistory(
      { recommendations: [{ timestamp: T, replicas: 7 }], scaleUpEvents: [], scaleDownEvents: [] },
      T,
    );
    const later = T + 90_000;
    expect(parseHistory(saved, later)?.recommendations).toEqual([{ timestamp: later, replicas: 7 }]);
  });

  it("drops entries older than an hour", () => {
    const h: HpaHistory = {
      recommendations: [
        { timestamp: T - 2 * 3600_000, replicas: 9 },
        { timestamp: T, replicas: 1 },
      ],
      scaleUpEvents: [{ timestamp: T - 2 * 3600_000, replicaChange: 1 }],
      scaleDownEvents: [],
    };
    expect(compactHistory(h, T)).toEqual({ v: 1, rec: [], cur: 1, up: [], down: [] });
  });

  it("treats a missing or unreadable annotation as no history", () => {
    expect(parseHistory(undefined, T)).toBeNull();
    expect(parseHistory("{not json", T)).toBeNull();
    expect(parseHistory(JSON.stringify({ v: 2 }), T)).toBeNull();
  });
});
