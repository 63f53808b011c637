// A dry run beside kube-controller-manager's HPA controller must write nothing on the HPAs: the
// built-in controller writes their status with a plain update, refused (FailedUpdateStatus, the
// sync's status lost) whenever the HPA's resourceVersion moved since its informer saw it, and any
// write of ours (status, history or decision annotation) moves it. Found by the e2e differential.
import { describe, expect, it } from "vitest";
import {
  DRY_RUN_DECISION_ANNOTATION,
  HISTORY_ANNOTATION,
} from "../../../../src/autoscaler/controller/annotations.js";
import { fakeReconcile, makeController, makeHpa } from "../fakes.js";

const SECOND = 1000;

describe("dry-run writes nothing on HPAs", () => {
  it("makes no status, annotation, condition or scale write across scales, failures and an unreadable HPA, and still emits DryRun Events", async () => {
    const wants = [5, 5, 3, 3, 1];
    let i = 0;
    const rec = fakeReconcile(() => wants[Math.min(i++, wants.length - 1)] ?? 1);
    const h = makeController({ dryRun: true, reconcile: rec.fn });
    h.hpas.set(makeHpa("a"));
    h.hpas.set(makeHpa("broken-target"));
    h.hpas.items.set("default/bad", {
      ok: false,
      namespace: "default",
      name: "bad",
      error: "spec.maxReplicas: expected number",
      raw: { metadata: { uid: "u" } },
    });
    for (let s = 0; s < wants.length; s++) {
      if (s === 2) h.scales.replicas.set("a", 2); // the built-in controller scaled meanwhile
      await h.controller.syncKey("default/a");
      await h.controller.syncKey("default/bad");
      h.scales.getError = 'deployments.apps "broken-target" not found';
      await h.controller.syncKey("default/broken-target");
      h.scales.getError = undefined;
      await h.clock.advance(15 * SECOND);
    }

    expect(h.writer.statuses).toEqual([]);
    expect(h.writer.annotationPatches).toEqual([]);
    expect(h.writer.conditionPatches).toEqual([]);
    expect(h.scales.updates).toEqual([]);
    // 1→5, 1→5, 2→3, 2→3, 2→1: each a would-be rescale
    expect(h.events.reasons("a")).toEqual([
      "DryRunRescale",
      "DryRunRescale",
      "DryRunRescale",
      "DryRunRescale",
      "DryRunRescale",
    ]);
    expect(h.events.recorded.filter((r) => r.name === "a").map((r) => r.event.message)).toEqual([
      "New size: 5; reason: x",
      "New size: 5; reason: x",
      "New size: 3; reason: x",
      "New size: 3; reason: x",
      "New size: 1; reason: x",
    ]);
    expect(new Set(h.events.reasons("broken-target"))).toEqual(new Set(["DryRunFailedGetScale"]));
    expect(new Set(h.events.reasons("bad"))).toEqual(new Set(["DryRunInvalidSpec"]));
    // the would-be decision is in /metrics
    const desired = await h.telemetry.registry.getSingleMetricAsString(
      "prom_hpa_autoscaler_desired_replicas",
    );
    expect(desired).toContain(
      'prom_hpa_autoscaler_desired_replicas{namespace="default",name="a",mode="dry-run"} 1',
    );
    const current = await h.telemetry.registry.getSingleMetricAsString(
      "prom_hpa_autoscaler_current_replicas",
    );
    expect(current).toContain(
      'prom_hpa_autoscaler_current_replicas{namespace="default",name="a",mode="dry-run"} 2',
    );
  });

  it("keeps the history in memory: the next sync continues it, a history annotation on the HPA is neither read nor written", async () => {
    const rec = fakeReconcile(() => 4);
    const h = makeController({ dryRun: true, reconcile: rec.fn });
    const saved = JSON.stringify({ v: 1, rec: [], cur: 9, up: [], down: [] });
    h.hpas.set(makeHpa("a", { annotations: { [HISTORY_ANNOTATION]: saved } }));
    await h.controller.syncKey("default/a");
    await h.clock.advance(15 * SECOND);
    await h.controller.syncKey("default/a");
    expect(rec.inputs[0]?.history).toBeNull();
    expect(rec.inputs[1]?.history?.recommendations.map((r) => r.replicas)).toEqual([4]);
    expect(h.writer.annotationPatches).toEqual([]);
  });

  it("with dryRunAnnotate writes only the decision annotation, and only when the decision changes", async () => {
    const wants = [5, 5, 5, 3, 3];
    let i = 0;
    const rec = fakeReconcile(() => wants[Math.min(i++, wants.length - 1)] ?? 1);
    const h = makeController({ dryRun: true, dryRunAnnotate: true, reconcile: rec.fn });
    h.hpas.set(makeHpa("a"));
    for (let s = 0; s < wants.length; s++) {
      await h.controller.syncKey("default/a");
      await h.clock.advance(15 * SECOND);
    }
    expect(h.writer.statuses).toEqual([]);
    expect(h.scales.updates).toEqual([]);
    expect(h.writer.annotationPatches.map((p) => Object.keys(p.annotations))).toEqual([
      [DRY_RUN_DECISION_ANNOTATION],
      [DRY_RUN_DECISION_ANNOTATION],
    ]);
    const decisions = h.writer.annotationPatches.map(
      (p) => JSON.parse(p.annotations[DRY_RUN_DECISION_ANNOTATION] ?? "{}") as Record<string, unknown>,
    );
    expect(decisions).toEqual([
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
        time: "2026-01-01T00:00:45.000Z",
      },
    ]);
    expect(h.events.reasons("a")).toHaveLength(5);
  });

  it("with dryRunAnnotate, a restarted shadow does not rewrite a decision the HPA already carries", async () => {
    const rec = fakeReconcile(() => 5);
    const first = makeController({ dryRun: true, dryRunAnnotate: true, reconcile: rec.fn });
    first.hpas.set(makeHpa("a"));
    await first.controller.syncKey("default/a");
    expect(first.writer.annotationPatches).toHaveLength(1);
    // a new shadow over the same cache (the HPA now carries the decision), with no memory
    const second = makeController({
      dryRun: true,
      dryRunAnnotate: true,
      reconcile: rec.fn,
      hpas: first.hpas,
    });
    await second.controller.syncKey("default/a");
    expect(second.writer.annotationPatches).toEqual([]);
  });
});
