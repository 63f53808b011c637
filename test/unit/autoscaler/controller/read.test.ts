// The read phase on its own: one plain value with everything a sync needs, from reads only.
import { describe, expect, it } from "vitest";
import { defaultControllerSettings } from "../../../../src/autoscaler/algorithm/settings.js";
import {
  HISTORY_ANNOTATION,
  UPSCALE_DELAY_ANNOTATION,
} from "../../../../src/autoscaler/controller/annotations.js";
import { readSyncInputs } from "../../../../src/autoscaler/controller/read.js";
import { FakeMetrics, FakePods, FakeScales, makeHpa } from "../fakes.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

function readers() {
  const scales = new FakeScales();
  const metrics = new FakeMetrics();
  const overlaps: string[] = [];
  return {
    scales,
    metrics,
    overlaps,
    r: {
      scales,
      pods: new FakePods(),
      metrics,
      overlapping: (_ns: string, name: string) => (overlaps.push(name), [{ name: "b", selector: "app=a" }]),
    },
  };
}

const options = { now: NOW, settings: { ...defaultControllerSettings }, syncPeriodMs: 15_000 };

describe("read phase", () => {
  it("gathers the scale, the metrics, the overrides, the saved history and the overlapping HPAs", async () => {
    const x = readers();
    const saved = JSON.stringify({ v: 1, rec: [], cur: 3, up: [], down: [] });
    const hpa = makeHpa("a", {
      annotations: { [HISTORY_ANNOTATION]: saved, [UPSCALE_DELAY_ANNOTATION]: "2m" },
    });
    const inputs = await readSyncInputs(x.r, hpa, options);
    expect(inputs.scale).toEqual({ replicas: 1, selector: "app=a" });
    expect(inputs.metricsSelector).toBe("app=a");
    expect(inputs.metricResponses).toEqual([{ kind: "PodMetricsList", items: [] }]);
    expect(inputs.settings.upscaleDelaySeconds).toBe(120);
    expect(inputs.nextSyncMs).toBe(15_000);
    expect(inputs.savedHistoryText).toBe(saved);
    expect(inputs.savedHistory?.recommendations).toEqual([{ timestamp: NOW, replicas: 3 }]);
    expect(inputs.otherHpaSelectors).toEqual([{ name: "b", selector: "app=a" }]);
    expect(x.overlaps).toEqual(["a"]);
  });

  it("reads metrics early with the hint, and again with the scale's selector when that differs", async () => {
    const x = readers();
    x.scales.selectors.set("a", "app=new");
    const inputs = await readSyncInputs(x.r, makeHpa("a"), { ...options, metricsSelectorHint: "app=old" });
    expect(x.metrics.calls.map((c) => c.selector)).toEqual(["app=old", "app=new"]);
    expect(inputs.metricsSelector).toBe("app=new");
  });

  it("reads neither pods nor metrics for a target above maxReplicas, nor overlaps for an unreadable scale", async () => {
    const x = readers();
    x.scales.replicas.set("a", 11);
    const above = await readSyncInputs(x.r, makeHpa("a"), options);
    expect(x.metrics.calls).toEqual([]);
    expect(above.metricsSelector).toBeUndefined();
    expect(above.metricResponses).toEqual([
      { error: "not read: the algorithm does not need metrics for this target state" },
    ]);
    x.scales.getError = "not found";
    const unreadable = await readSyncInputs(x.r, makeHpa("a"), options);
    expect(unreadable.current).toBeUndefined();
    expect(unreadable.scale).toEqual({ error: "not found" });
    expect(unreadable.otherHpaSelectors).toEqual([]);
  });
});
