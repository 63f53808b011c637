// The control loop's timing and writes as kube-controller-manager v1.37.2's HPA controller:
// FixedItemIntervalRateLimiter, updateHPA (HPAGeneration), StaleControllerConsistencyHPA and
// updateStatus's single update.
import { describe, expect, it } from "vitest";
import { HISTORY_ANNOTATION } from "../../../../src/autoscaler/controller/annotations.js";
import {
  ConsistencyStore,
  compareResourceVersions,
} from "../../../../src/autoscaler/controller/consistency.js";
import { delayAfterSync, onUpdate } from "../../../../src/autoscaler/controller/requeue.js";
import type { HorizontalPodAutoscaler } from "../../../../src/kube/objects.js";
import { fakeReconcile, makeController, makeHpa } from "../fakes.js";

const SECOND = 1000;

describe("requeue as upstream's FixedItemIntervalRateLimiter", () => {
  it("a failing HPA is synced again every period, not backed off (--max-backoff 0, the default)", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("a"));
    h.scales.getError = 'deployments.apps "a" not found';
    h.controller.start();
    await h.clock.advance(0);
    const times: number[] = [];
    const start = h.clock.now();
    for (let t = 0; t < 75; t++) {
      const before = h.scales.gets;
      await h.clock.advance(SECOND);
      if (h.scales.gets > before) times.push((h.clock.now() - start) / SECOND);
      if (t === 40) h.scales.getError = undefined;
    }
    expect(times).toEqual([15, 30, 45, 60, 75]);
    await h.controller.stop();
  });

  it("delayAfterSync: the period whatever happened unless a back-off above the period was asked for", () => {
    expect(delayAfterSync(15_000, 0, 0)).toBe(15_000);
    expect(delayAfterSync(15_000, 5, 0)).toBe(15_000);
    expect(delayAfterSync(15_000, 5, 15_000)).toBe(15_000);
    expect([1, 2, 3, 4].map((n) => delayAfterSync(15_000, n, 60_000))).toEqual([
      15_000, 30_000, 60_000, 60_000,
    ]);
  });
});

describe("updateHPA with HPAGeneration", () => {
  const base = makeHpa("a");
  const with_ = (meta: Partial<HorizontalPodAutoscaler["metadata"]>) => ({
    ok: true as const,
    hpa: { ...base, metadata: { ...base.metadata, ...meta } },
  });

  it("a generation change is reconciled now; status, annotations and labels wait for the period", () => {
    const before = with_({});
    expect(onUpdate(before, with_({ generation: 2 }), true)).toBe("now");
    expect(onUpdate(before, with_({ generation: 2 }), false)).toBe("period");
    expect(
      onUpdate(before, with_({ resourceVersion: "9", annotations: { [HISTORY_ANNOTATION]: "{}" } }), true),
    ).toBe("period");
    expect(onUpdate(before, with_({ annotations: { owner: "us" } }), true)).toBe("period");
    expect(onUpdate(before, with_({ uid: "another" }), true)).toBe("now");
  });

  it("after a spec change the next sync writes status.observedGeneration at once, not a period later", async () => {
    const h = makeController({ reconcile: undefined });
    h.hpas.set(makeHpa("a"));
    h.controller.start();
    await h.clock.advance(SECOND);
    const syncs = () => h.scales.gets;
    const first = syncs();
    // an update that is not a spec change: nothing before the period
    const cached = h.hpas.get("default", "a");
    if (!cached?.ok) throw new Error("no HPA");
    const relabelled = { ...cached.hpa, metadata: { ...cached.hpa.metadata, labels: { x: "y" } } };
    h.hpas.set(relabelled);
    h.controller.onHpaChanged("default/a", cached, { ok: true, hpa: relabelled });
    await h.clock.advance(SECOND);
    expect(syncs()).toBe(first);
    const edited = { ...relabelled, metadata: { ...relabelled.metadata, generation: 2 } };
    h.hpas.set(edited);
    h.controller.onHpaChanged("default/a", { ok: true, hpa: relabelled }, { ok: true, hpa: edited });
    await h.clock.advance(0);
    expect(syncs()).toBe(first + 1);
    expect(h.writer.statuses.at(-1)?.status.observedGeneration).toBe(2);
    await h.controller.stop();
  });
});

describe("StaleControllerConsistencyHPA", () => {
  it("orders resourceVersions as integers and lets unordered ones through", () => {
    expect(compareResourceVersions("9", "10")).toBe(-1);
    expect(compareResourceVersions("100", "99")).toBe(1);
    expect(compareResourceVersions("42", "42")).toBe(0);
    expect(compareResourceVersions("abc", "1")).toBeUndefined();
    const s = new ConsistencyStore();
    s.wroteAt("ns/a", "u", "abc");
    expect(s.ensureReady("ns/a", "1")).toBeUndefined();
  });

  it("keeps the newest write, waits until the cache reached it, then forgets it", () => {
    const s = new ConsistencyStore();
    s.wroteAt("ns/a", "u", "12");
    s.wroteAt("ns/a", "u", "11");
    expect(s.ensureReady("ns/a", "11")).toEqual({ wroteResourceVersion: "12", readResourceVersion: "11" });
    expect(s.ensureReady("ns/a", "")).toBeUndefined(); // unknown read version: go ahead
    s.wroteAt("ns/a", "u", "12");
    expect(s.ensureReady("ns/a", "12")).toBeUndefined();
    s.wroteAt("ns/a", "u", "20");
    expect(s.ensureReady("ns/a", "5")).toBeDefined(); // remembered until ready
    s.clear("ns/a", "other-uid");
    expect(s.ensureReady("ns/a", "5")).toBeDefined();
    s.clear("ns/a");
    expect(s.ensureReady("ns/a", "5")).toBeUndefined();
  });

  it("a sync waits (requeued at the period) until the HPA cache has seen our own status and history writes", async () => {
    const rec = fakeReconcile(() => 3);
    const h = makeController({ reconcile: rec.fn });
    let rv = 100;
    let cacheRv = "100";
    const hpas = Object.assign(h.hpas, { lastSyncResourceVersion: () => cacheRv });
    const writer = h.writer;
    const updateStatus = writer.updateStatus.bind(writer);
    const patchAnnotations = writer.patchAnnotations.bind(writer);
    Object.assign(writer, {
      updateStatus: async (...a: Parameters<typeof updateStatus>) => {
        await updateStatus(...a);
        return { uid: "uid-a", resourceVersion: String(++rv) };
      },
      patchAnnotations: async (...a: Parameters<typeof patchAnnotations>) => {
        await patchAnnotations(...a);
        return { uid: "uid-a", resourceVersion: String(++rv) };
      },
    });
    hpas.set(makeHpa("a"));
    expect((await h.controller.syncKey("default/a")).status).toBe("synced");
    expect(rv).toBe(103); // status, the history annotation, the last-decision annotation
    cacheRv = "101"; // the cache saw the status write, not yet the annotation patches
    const out = await h.controller.syncKey("default/a");
    expect(out).toEqual({ status: "deferred", why: "stale-cache", nextSyncMs: 15_000 });
    expect(rec.inputs).toHaveLength(1);
    cacheRv = "102";
    expect((await h.controller.syncKey("default/a")).status).toBe("deferred");
    cacheRv = "103";
    expect((await h.controller.syncKey("default/a")).status).toBe("synced");
    expect(rec.inputs).toHaveLength(2);
  });
});

describe("updateStatus", () => {
  it("one update; a failure is a Warning FailedUpdateStatus Event with the error, retried only by the next sync", async () => {
    const rec = fakeReconcile(() => 2);
    const h = makeController({ reconcile: rec.fn });
    h.writer.statusError =
      'Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "a": the object has been modified; please apply your changes to the latest version and try again';
    h.hpas.set(makeHpa("a"));
    await h.controller.syncKey("default/a");
    const failed = h.events.recorded.filter((e) => e.event.reason === "FailedUpdateStatus");
    expect(failed.map((e) => [e.event.type, e.event.message])).toEqual([["Warning", h.writer.statusError]]);
    expect(h.writer.statuses).toHaveLength(0);
  });
});
