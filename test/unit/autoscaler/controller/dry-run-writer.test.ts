// The dry-run writer on its own: Events prefixed DryRun, nothing written on the HPA or its target,
// history in memory only (with the real scaler's changes as scale events), and the opt-in
// decision annotation written only when the decision changes.
import { describe, expect, it } from "vitest";
import type {
  HpaHistory,
  ReconcileInput,
  ReconcileResult,
} from "../../../../src/autoscaler/algorithm/index.js";
import {
  DRY_RUN_DECISION_ANNOTATION,
  HISTORY_ANNOTATION,
} from "../../../../src/autoscaler/controller/annotations.js";
import { DryRunWriter } from "../../../../src/autoscaler/controller/dry-run-writer.js";
import type { SyncInputs } from "../../../../src/autoscaler/controller/read.js";
import type { HorizontalPodAutoscaler } from "../../../../src/kube/objects.js";
import { silentLogger } from "../../../../src/log/logger.js";
import { FakeEvents, FakeWriter, makeHpa, readInputs } from "../fakes.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function setup(annotate = false) {
  const hpas = new FakeWriter();
  const events = new FakeEvents();
  return { writer: new DryRunWriter({ log: silentLogger, hpas, events, annotate }), hpas, events };
}

function inputOf(inputs: SyncInputs, history: HpaHistory | null): ReconcileInput {
  return {
    now: inputs.now,
    settings: inputs.settings,
    hpa: inputs.hpa,
    scale: inputs.scale,
    pods: [],
    metricResponses: inputs.metricResponses,
    history,
  };
}

const upEvents = (h: HpaHistory | null) =>
  (h?.scaleUpEvents ?? []).map((e) => [e.timestamp, e.replicaChange]);

function wouldBe(from: number, to: number, now: number, history: HpaHistory | null): ReconcileResult {
  const base = history ?? { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
  return {
    desiredReplicas: to,
    scaled: to !== from,
    ...(to !== from
      ? { rescaleReason: "cpu resource utilization (percentage of request) above target" }
      : {}),
    status: { currentReplicas: from, desiredReplicas: to },
    events:
      to !== from
        ? [{ type: "Normal", reason: "SuccessfulRescale", message: `New size: ${to}; reason: x` }]
        : [],
    history: {
      recommendations: [...base.recommendations, { timestamp: now, replicas: to }],
      scaleUpEvents: [
        ...base.scaleUpEvents,
        ...(to > from ? [{ timestamp: now, replicaChange: to - from }] : []),
      ],
      scaleDownEvents: base.scaleDownEvents,
    },
  };
}

describe("dry-run writer", () => {
  it("records the Events with DryRun reasons and writes nothing else", async () => {
    const h = setup();
    const inputs = await readInputs(makeHpa("a"), { now: NOW });
    const failed: ReconcileResult = {
      ...wouldBe(1, 4, NOW, null),
      events: [
        { type: "Normal", reason: "SuccessfulRescale", message: "New size: 4; reason: x" },
        { type: "Warning", reason: "FailedGetPodsMetric", message: "m" },
      ],
    };
    const out = await h.writer.write("default/a", inputs, inputOf(inputs, null), failed);
    expect(h.events.reasons("a")).toEqual(["DryRunRescale", "DryRunFailedGetPodsMetric"]);
    expect(out.errorReasons).toEqual(["FailedGetPodsMetric"]);
    expect(h.hpas.statuses).toEqual([]);
    expect(h.hpas.annotationPatches).toEqual([]);
    await h.writer.invalidSpec();
    expect(h.hpas.conditionPatches).toEqual([]);
  });

  it("ignores a saved history annotation and keeps its own in memory, without the would-be scale events", async () => {
    const h = setup();
    const saved = JSON.stringify({ v: 1, rec: [], cur: 9, up: [], down: [] });
    const inputs = await readInputs(makeHpa("a", { annotations: { [HISTORY_ANNOTATION]: saved } }), {
      now: NOW,
    });
    expect(h.writer.history("default/a", inputs)).toBeNull();
    const out = await h.writer.write("default/a", inputs, inputOf(inputs, null), wouldBe(1, 4, NOW, null));
    expect(out.result.history).toEqual({
      recommendations: [{ timestamp: NOW, replicas: 4 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    });
    expect(h.writer.history("default/a", inputs)).toEqual(out.result.history);
    h.writer.forget("default/a");
    expect(h.writer.history("default/a", inputs)).toBeNull();
  });

  it("records the real scaler's change as a scale event at a new lastScaleTime, else at now", async () => {
    const h = setup();
    // scale events are kept only for behavior policies
    const withPolicy = (hpa: HorizontalPodAutoscaler): HorizontalPodAutoscaler => ({
      ...hpa,
      spec: {
        ...hpa.spec,
        behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } },
      },
    });
    const first = await readInputs(
      withPolicy(makeHpa("a", { status: { currentReplicas: 2, desiredReplicas: 2 } })),
      { now: NOW, replicas: 2 },
    );
    await h.writer.write("default/a", first, inputOf(first, null), wouldBe(2, 2, NOW, null));
    // the built-in scaled 2 → 3 and wrote a new lastScaleTime
    const scaledAt = NOW + 3_000;
    const fresh = withPolicy(
      makeHpa("a", { status: { currentReplicas: 3, desiredReplicas: 3, lastScaleTime: rfc3339(scaledAt) } }),
    );
    const second = await readInputs(fresh, { now: NOW + 5_000, replicas: 3 });
    expect(upEvents(h.writer.history("default/a", second))).toEqual([[scaledAt, 1]]);
    await h.writer.write(
      "default/a",
      second,
      inputOf(second, h.writer.history("default/a", second)),
      wouldBe(3, 3, NOW + 5_000, h.writer.history("default/a", second)),
    );
    // it scales 3 → 5 but its status update is lost: lastScaleTime is the previous scale's
    const third = await readInputs(fresh, { now: NOW + 9_000, replicas: 5 });
    expect(upEvents(h.writer.history("default/a", third))).toEqual([
      [scaledAt, 1],
      [NOW + 9_000, 2],
    ]);
  });

  it("with annotate writes the decision only when it changes, and retries one it could not write", async () => {
    const h = setup(true);
    const syncs: [number, number][] = [
      [NOW, 5],
      [NOW + 15_000, 5],
      [NOW + 30_000, 3],
    ];
    for (const [now, to] of syncs) {
      const inputs = await readInputs(makeHpa("a"), { now });
      await h.writer.write("default/a", inputs, inputOf(inputs, null), wouldBe(1, to, now, null));
    }
    expect(
      h.hpas.annotationPatches.map(
        (p) => JSON.parse(p.annotations[DRY_RUN_DECISION_ANNOTATION] ?? "") as unknown,
      ),
    ).toEqual([
      {
        currentReplicas: 1,
        desiredReplicas: 5,
        wouldScale: true,
        reason: "cpu resource utilization (percentage of request) above target",
        time: "2026-01-01T00:00:00.000Z",
      },
      {
        currentReplicas: 1,
        desiredReplicas: 3,
        wouldScale: true,
        reason: "cpu resource utilization (percentage of request) above target",
        time: "2026-01-01T00:00:30.000Z",
      },
    ]);

    const failing = setup(true);
    failing.hpas.patchAnnotations = async () => {
      throw new Error("forbidden");
    };
    const inputs = await readInputs(makeHpa("a"), { now: NOW });
    const out = await failing.writer.write(
      "default/a",
      inputs,
      inputOf(inputs, null),
      wouldBe(1, 5, NOW, null),
    );
    expect(out.errorReasons).toEqual(["FailedPersistHistory"]);
    let patched = 0;
    failing.hpas.patchAnnotations = async () => void patched++;
    await failing.writer.write("default/a", inputs, inputOf(inputs, null), wouldBe(1, 5, NOW, null));
    expect(patched).toBe(1);
  });
});
