// Dry-run beside the built-in controller: a scale we observe is recorded at the built-in's
// lastScaleTime only when that time is new. The built-in writes its status after the scale, with
// a plain update that is refused when the HPA changed meanwhile (any other write to it does that,
// e.g. our --dry-run-annotate decision), so the status may still carry the previous scale's time; recording the new scale then
// would date it a whole policy period too early, and we would report a would-be scale the
// built-in controller is not allowed to make yet (found by the e2e differential test).
import { describe, expect, it } from "vitest";
import { fakeReconcile, makeController, makeHpa } from "../fakes.js";

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

describe("dry-run mirroring of the built-in controller's scales", () => {
  it("dates a scale at the time it was observed when lastScaleTime is still the previous scale's", async () => {
    const wouldBe = fakeReconcile(() => 4);
    const h = makeController({ dryRun: true, reconcile: wouldBe.fn });
    const behavior = { scaleUp: { policies: [{ type: "Pods" as const, value: 1, periodSeconds: 12 }] } };
    const previousScale = h.clock.now() - 20_000;
    const base = makeHpa("a", {
      status: { currentReplicas: 2, desiredReplicas: 2, lastScaleTime: rfc3339(previousScale) },
    });
    h.hpas.set({ ...base, spec: { ...base.spec, behavior } });
    h.scales.replicas.set("a", 2);
    await h.controller.syncKey("default/a");
    await h.clock.advance(2_000);
    await h.controller.syncKey("default/a");
    // The built-in scales 2 → 3; its status update is refused, lastScaleTime stays as it was.
    h.scales.replicas.set("a", 3);
    await h.clock.advance(2_000);
    const observedAt = h.clock.now();
    await h.controller.syncKey("default/a");
    const events = wouldBe.inputs.at(-1)?.history?.scaleUpEvents ?? [];
    expect(events.map((e) => [e.timestamp, e.replicaChange])).toEqual([[observedAt, 1]]);
  });

  it("dates a scale at the built-in's lastScaleTime when that time is new", async () => {
    const wouldBe = fakeReconcile(() => 4);
    const h = makeController({ dryRun: true, reconcile: wouldBe.fn });
    const behavior = { scaleUp: { policies: [{ type: "Pods" as const, value: 1, periodSeconds: 12 }] } };
    const plain = makeHpa("a", { status: { currentReplicas: 2, desiredReplicas: 2 } });
    const base = { ...plain, spec: { ...plain.spec, behavior } };
    h.hpas.set(base);
    h.scales.replicas.set("a", 2);
    await h.controller.syncKey("default/a");
    await h.clock.advance(2_000);
    await h.controller.syncKey("default/a");
    const scaledAt = Math.floor((h.clock.now() + 500) / 1000) * 1000;
    h.scales.replicas.set("a", 3);
    h.hpas.set({
      ...base,
      status: { currentReplicas: 2, desiredReplicas: 3, lastScaleTime: rfc3339(scaledAt) },
    });
    await h.clock.advance(2_000);
    await h.controller.syncKey("default/a");
    const events = wouldBe.inputs.at(-1)?.history?.scaleUpEvents ?? [];
    expect(events.map((e) => [e.timestamp, e.replicaChange])).toEqual([[scaledAt, 1]]);
  });
});
