// The active writer on its own: what a leader's sync writes to the cluster, in which order, and
// what a failed write turns into.
import { describe, expect, it } from "vitest";
import {
  applyScaleResult,
  type HpaHistory,
  type ReconcileInput,
  type ReconcileResult,
} from "../../../../src/autoscaler/algorithm/index.js";
import { ActiveWriter } from "../../../../src/autoscaler/controller/active-writer.js";
import { HISTORY_ANNOTATION } from "../../../../src/autoscaler/controller/annotations.js";
import { serializeHistory } from "../../../../src/autoscaler/controller/history.js";
import type { SyncInputs } from "../../../../src/autoscaler/controller/read.js";
import { silentLogger } from "../../../../src/log/logger.js";
import { FakeEvents, FakeScales, FakeWriter, makeHpa, readInputs } from "../fakes.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

function setup() {
  const calls: string[] = [];
  const scales = new FakeScales();
  const hpas = new FakeWriter();
  const events = new FakeEvents();
  const update = scales.updateScale.bind(scales);
  scales.updateScale = async (c, n) => (calls.push(`scale ${n}`), update(c, n));
  const status = hpas.updateStatus.bind(hpas);
  hpas.updateStatus = async (h, s) => (calls.push("status"), status(h, s));
  const patch = hpas.patchAnnotations.bind(hpas);
  hpas.patchAnnotations = async (ns, n, a) => (
    calls.push(`annotations ${Object.keys(a).join(",")}`),
    patch(ns, n, a)
  );
  const writer = new ActiveWriter({ log: silentLogger, scales, hpas, events, applyScaleResult });
  return { writer, scales, hpas, events, calls };
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

function rescale(to: number, now: number): ReconcileResult {
  return {
    desiredReplicas: to,
    scaled: true,
    rescaleReason: "cpu resource utilization (percentage of request) above target",
    status: { currentReplicas: 1, desiredReplicas: to },
    events: [{ type: "Normal", reason: "SuccessfulRescale", message: `New size: ${to}; reason: x` }],
    history: {
      recommendations: [{ timestamp: now, replicas: to }],
      scaleUpEvents: [{ timestamp: now, replicaChange: to - 1 }],
      scaleDownEvents: [],
    },
  };
}

describe("active writer", () => {
  it("scales, records the Events as they are, then writes the status, then the history annotation", async () => {
    const h = setup();
    const inputs = await readInputs(makeHpa("a"), { now: NOW });
    const result = rescale(4, NOW);
    const out = await h.writer.write("default/a", inputs, inputOf(inputs, null), result);
    expect(h.calls).toEqual(["scale 4", "status", `annotations ${HISTORY_ANNOTATION}`]);
    expect(h.events.reasons("a")).toEqual(["SuccessfulRescale"]);
    expect(h.hpas.statuses).toEqual([{ name: "a", status: { currentReplicas: 1, desiredReplicas: 4 } }]);
    expect(h.hpas.annotationPatches).toEqual([
      {
        name: "a",
        annotations: { [HISTORY_ANNOTATION]: serializeHistory(result.history as HpaHistory, NOW) },
      },
    ]);
    expect(out).toEqual({ result, errorReasons: [] });
  });

  it("writes neither an unchanged status nor an unchanged compacted history", async () => {
    const h = setup();
    const history: HpaHistory = {
      recommendations: [{ timestamp: NOW, replicas: 1 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const hpa = makeHpa("a", { annotations: { [HISTORY_ANNOTATION]: serializeHistory(history, NOW) } });
    const inputs = await readInputs(hpa, { now: NOW });
    const hold: ReconcileResult = {
      desiredReplicas: 1,
      scaled: false,
      status: { currentReplicas: 1, desiredReplicas: 1, currentMetrics: null },
      events: [],
      history,
    };
    const out = await h.writer.write("default/a", inputs, inputOf(inputs, inputs.savedHistory), hold);
    expect(h.calls).toEqual([]);
    expect(out.errorReasons).toEqual([]);
  });

  it("turns a failed scale into a FailedRescale Warning and keeps the observed scale events only", async () => {
    const h = setup();
    h.scales.updateError = "the server is on fire";
    const inputs = await readInputs(makeHpa("a"), { now: NOW });
    const out = await h.writer.write("default/a", inputs, inputOf(inputs, null), rescale(4, NOW));
    expect(h.scales.updates).toEqual([]);
    expect(h.events.reasons("a")).toEqual(["FailedRescale"]);
    expect(out.errorReasons).toEqual(["FailedRescale"]);
    expect(out.result.scaled).toBe(false);
    expect(out.result.history?.scaleUpEvents).toEqual([]);
  });

  it("reports a failed status write and a failed history save as FailedUpdateStatus and FailedPersistHistory", async () => {
    const h = setup();
    h.hpas.statusError = "conflict";
    h.hpas.patchAnnotations = async () => {
      throw new Error("forbidden");
    };
    const inputs = await readInputs(makeHpa("a"), { now: NOW });
    const first = await h.writer.write("default/a", inputs, inputOf(inputs, null), rescale(4, NOW));
    expect(first.errorReasons).toEqual(["FailedUpdateStatus", "FailedPersistHistory"]);
    // the history not saved is tried again next time
    let patched = 0;
    h.hpas.patchAnnotations = async () => void patched++;
    const again = await h.writer.write("default/a", inputs, inputOf(inputs, null), {
      ...rescale(4, NOW),
      scaled: false,
    });
    expect(patched).toBe(1);
    expect(again.errorReasons).toEqual(["FailedUpdateStatus"]);
  });

  it("continues its own history, else the saved one; a new uid under the same name starts from the saved one", async () => {
    const h = setup();
    const saved: HpaHistory = {
      recommendations: [{ timestamp: NOW, replicas: 7 }],
      scaleUpEvents: [],
      scaleDownEvents: [],
    };
    const hpa = makeHpa("a", { annotations: { [HISTORY_ANNOTATION]: serializeHistory(saved, NOW) } });
    const inputs = await readInputs(hpa, { now: NOW });
    expect(h.writer.history("default/a", inputs)).toEqual(saved);
    const result = rescale(4, NOW);
    await h.writer.write("default/a", inputs, inputOf(inputs, saved), result);
    expect(h.writer.history("default/a", inputs)).toEqual(result.history);
    const recreated = await readInputs(
      makeHpa("a", { uid: "other", annotations: hpa.metadata.annotations ?? {} }),
      { now: NOW },
    );
    expect(h.writer.history("default/a", recreated)).toEqual(saved);
    h.writer.forgetAll();
    expect(h.writer.history("default/a", inputs)).toEqual(saved);
  });

  it("marks an unreadable HPA with a ScalingActive=False InvalidSpec condition stamped to the second", async () => {
    const h = setup();
    await h.writer.invalidSpec("default", "bad", "the HPA spec could not be read: x", NOW + 1_234);
    expect(h.hpas.conditionPatches).toEqual([
      {
        name: "bad",
        conditions: [
          {
            type: "ScalingActive",
            status: "False",
            reason: "InvalidSpec",
            message: "the HPA spec could not be read: x",
            lastTransitionTime: "2026-01-01T00:00:01Z",
          },
        ],
      },
    ]);
  });
});
