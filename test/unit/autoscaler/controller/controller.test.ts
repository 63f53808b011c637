import { describe, expect, it } from "vitest";
import {
  HISTORY_ANNOTATION,
  SYNC_PERIOD_ANNOTATION,
  UPSCALE_DELAY_ANNOTATION,
} from "../../../../src/autoscaler/controller/annotations.js";
import { HpaController } from "../../../../src/autoscaler/controller/controller.js";
import { metricSpecSchema, podSchema } from "../../../../src/kube/objects.js";
import { fakeReconcile, makeController, makeHpa } from "../fakes.js";

const SECOND = 1000;

describe("the sync loop", () => {
  it("syncs every HPA at start and then once per sync period", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("a"));
    h.hpas.set(makeHpa("b"));
    h.controller.start();
    await h.clock.advance(0);
    expect(h.rec.inputs.map((i) => i.hpa.metadata.name).sort()).toEqual(["a", "b"]);
    await h.clock.advance(14 * SECOND);
    expect(h.rec.inputs).toHaveLength(2);
    await h.clock.advance(1 * SECOND);
    expect(h.rec.inputs).toHaveLength(4);
    await h.clock.advance(45 * SECOND);
    expect(h.rec.inputs).toHaveLength(10);
    await h.controller.stop();
  });

  it("uses the HPA's sync-period annotation instead of --sync-period", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("fast", { annotations: { [SYNC_PERIOD_ANNOTATION]: "5s" } }));
    h.hpas.set(makeHpa("default"));
    h.controller.start();
    await h.clock.advance(30 * SECOND);
    const count = (n: string) => h.rec.inputs.filter((i) => i.hpa.metadata.name === n).length;
    expect(count("fast")).toBe(7); // t=0,5,…,30
    expect(count("default")).toBe(3); // t=0,15,30
    await h.controller.stop();
  });

  it("passes per-HPA legacy delays from annotations to the algorithm, falling back to the flags", async () => {
    const h = makeController({
      settings: { ...makeController().options.settings, upscaleDelaySeconds: 0, downscaleDelaySeconds: 300 },
    });
    h.hpas.set(makeHpa("a", { annotations: { [UPSCALE_DELAY_ANNOTATION]: "3m" } }));
    await h.controller.syncKey("default/a");
    expect(h.rec.inputs[0]?.settings.upscaleDelaySeconds).toBe(180);
    expect(h.rec.inputs[0]?.settings.downscaleDelaySeconds).toBe(300);
  });

  it("reports a bad override annotation as a Warning Event and keeps syncing with the flag value", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("a", { annotations: { [SYNC_PERIOD_ANNOTATION]: "soon" } }));
    const out = await h.controller.syncKey("default/a");
    expect(h.events.reasons()).toEqual(["InvalidAnnotation"]);
    expect(h.events.recorded[0]?.event.message).toContain(SYNC_PERIOD_ANNOTATION);
    expect(out.status === "synced" && out.nextSyncMs).toBe(15_000);
  });

  it("never runs more than --concurrent-syncs syncs at once", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const h = makeController({ concurrentSyncs: 3 });
    h.scales.delay = async (ms) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => h.clock.setTimer(r, ms));
      inFlight--;
    };
    for (let i = 0; i < 10; i++) h.hpas.set(makeHpa(`h${i}`));
    h.controller.start();
    await h.clock.advance(2 * SECOND);
    expect(h.rec.inputs).toHaveLength(10);
    expect(maxInFlight).toBe(3);
    await h.controller.stop();
  });

  it("backs off a failing HPA (period, 2×, 4×… up to --max-backoff) and returns to the period once it succeeds", async () => {
    const h = makeController({ maxBackoffMs: 60 * SECOND });
    h.hpas.set(makeHpa("a"));
    h.scales.getError = 'deployments.apps "a" not found';
    h.controller.start();
    await h.clock.advance(0);
    const times: number[] = [];
    const start = h.clock.now();
    for (let t = 0; t <= 200; t++) {
      const before = h.scales.gets;
      await h.clock.advance(SECOND);
      if (h.scales.gets > before) times.push((h.clock.now() - start) / SECOND);
      if (t === 130) h.scales.getError = undefined;
    }
    // first sync at 0 (not in `times`), then +15, +30, +60 (cap), +60; fixed at 135 → next +60 = 225? no: 165 fails, 225 > 201
    expect(times.slice(0, 4)).toEqual([15, 45, 105, 165]);
    expect(h.events.reasons().every((r) => r === "FailedGetScale")).toBe(true);
    await h.clock.advance(60 * SECOND); // 225: succeeds
    await h.clock.advance(15 * SECOND); // 240: back on the period
    const n = h.scales.gets;
    await h.clock.advance(15 * SECOND);
    expect(h.scales.gets).toBe(n + 1);
    expect(h.telemetry.registry.getSingleMetric("prom_hpa_autoscaler_errors_total")).toBeDefined();
    await h.controller.stop();
  });

  it("syncs a new HPA at once and drops a deleted one from the queue", async () => {
    const h = makeController();
    h.controller.start();
    await h.clock.advance(SECOND);
    const hpa = makeHpa("late");
    h.hpas.set(hpa);
    h.controller.onHpaChanged("default/late", undefined, { ok: true, hpa });
    await h.clock.advance(0);
    expect(h.rec.inputs).toHaveLength(1);
    h.hpas.items.delete("default/late");
    h.controller.onHpaDeleted("default/late");
    await h.clock.advance(60 * SECOND);
    expect(h.rec.inputs).toHaveLength(1);
    await h.controller.stop();
  });

  it("does not resync on its own status or history writes, but does on a spec change", async () => {
    const h = makeController();
    const hpa = makeHpa("a");
    h.hpas.set(hpa);
    h.controller.start();
    await h.clock.advance(SECOND);
    expect(h.rec.inputs).toHaveLength(1);
    const annotated = {
      ...hpa,
      metadata: { ...hpa.metadata, resourceVersion: "2", annotations: { [HISTORY_ANNOTATION]: "{}" } },
    };
    h.controller.onHpaChanged("default/a", { ok: true, hpa }, { ok: true, hpa: annotated });
    await h.clock.advance(SECOND);
    expect(h.rec.inputs).toHaveLength(1);
    const edited = { ...annotated, metadata: { ...annotated.metadata, generation: 2 } };
    h.controller.onHpaChanged("default/a", { ok: true, hpa: annotated }, { ok: true, hpa: edited });
    await h.clock.advance(SECOND);
    expect(h.rec.inputs).toHaveLength(2);
    await h.controller.stop();
  });

  it("stop() waits for the syncs in flight and starts no new ones", async () => {
    const h = makeController();
    let release: () => void = () => undefined;
    h.scales.delay = () => new Promise<void>((r) => (release = r));
    h.hpas.set(makeHpa("a"));
    h.controller.start();
    await h.clock.advance(0);
    let stopped = false;
    const stopping = h.controller.stop().then(() => (stopped = true));
    await h.clock.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(h.rec.inputs).toHaveLength(1);
    await h.clock.advance(60 * SECOND);
    expect(h.rec.inputs).toHaveLength(1);
  });

  it("skips HPAs without the ownership annotation", async () => {
    const h = makeController({ ownership: { key: "autoscaler.prom-hpa.io/owner", value: "prom-hpa" } });
    h.hpas.set(makeHpa("theirs"));
    h.hpas.set(makeHpa("ours", { annotations: { "autoscaler.prom-hpa.io/owner": "prom-hpa" } }));
    h.controller.start();
    await h.clock.advance(30 * SECOND);
    expect(new Set(h.rec.inputs.map((i) => i.hpa.metadata.name))).toEqual(new Set(["ours"]));
    await h.controller.stop();
  });
});

describe("one sync", () => {
  it("writes the scale, the status and a SuccessfulRescale Event when the algorithm scales", async () => {
    const rec = fakeReconcile(() => 4);
    const h = makeController({ reconcile: rec.fn });
    h.hpas.set(makeHpa("a"));
    const out = await h.controller.syncKey("default/a");
    expect(out.status === "synced" && out.ok).toBe(true);
    expect(h.scales.updates).toEqual([{ name: "a", replicas: 4 }]);
    expect(h.writer.statuses.map((s) => s.status.desiredReplicas)).toEqual([4]);
    expect(h.events.reasons()).toEqual(["SuccessfulRescale"]);
    expect(h.metrics.calls).toEqual([{ namespace: "default", type: "Resource", selector: "app=a" }]);
  });

  it("reads the metrics alongside the scale with the last sync's selector, and again if the selector changed", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("a"));
    let scaleReads = 0;
    const order: string[] = [];
    const get = h.scales.getScale.bind(h.scales);
    h.scales.getScale = async (ns, t) => {
      order.push(`scale#${++scaleReads}`);
      await Promise.resolve();
      return get(ns, t);
    };
    const read = h.metrics.read.bind(h.metrics);
    h.metrics.read = async (ns, m, sel) => {
      order.push(`metrics(${sel})`);
      return read(ns, m, sel);
    };
    await h.controller.syncKey("default/a");
    await h.controller.syncKey("default/a");
    h.scales.selectors.set("a", "app=renamed");
    await h.controller.syncKey("default/a");
    expect(order).toEqual([
      "scale#1",
      "metrics(app=a)", // first sync: scale, then metrics
      "metrics(app=a)",
      "scale#2", // then both at once
      "metrics(app=a)",
      "scale#3",
      "metrics(app=renamed)", // a new selector: read again with it
    ]);
    expect(h.rec.inputs[2]?.scale).toEqual({ replicas: 1, selector: "app=renamed" });
  });

  it("does not write the status when nothing in it changed", async () => {
    const h = makeController();
    h.hpas.set(
      makeHpa("a", {
        status: {
          currentReplicas: 1,
          desiredReplicas: 1,
          conditions: [{ type: "AbleToScale", status: "True", reason: "ReadyForNewScale", message: "" }],
        },
      }),
    );
    await h.controller.syncKey("default/a");
    expect(h.writer.statuses).toHaveLength(0);
  });

  it("turns a failed scale write into the algorithm's failure result (FailedRescale) and counts it as an error", async () => {
    const rec = fakeReconcile(() => 3);
    const h = makeController({ reconcile: rec.fn });
    h.scales.updateError = "the object has been modified";
    h.hpas.set(makeHpa("a"));
    const out = await h.controller.syncKey("default/a");
    expect(h.events.reasons()).toEqual(["FailedRescale"]);
    expect(out.status === "synced" && out.errorReasons).toEqual(["FailedRescale"]);
  });

  it("does not read metrics when the target is outside [minReplicas, maxReplicas] or scaled to zero (with --no-scale-to-zero)", async () => {
    const h = makeController({ settings: { ...makeController().options.settings, scaleToZero: false } });
    h.hpas.set(makeHpa("a"));
    h.scales.replicas.set("a", 0);
    await h.controller.syncKey("default/a");
    h.scales.replicas.set("a", 11);
    await h.controller.syncKey("default/a");
    expect(h.metrics.calls).toHaveLength(0);
    expect(h.rec.inputs[0]?.metricResponses).toHaveLength(1);
    expect(h.rec.inputs[0]?.metricResponses[0]).toHaveProperty("error");
  });

  it("at zero reads metrics only where upstream computes them: the HPA scaled it there itself (ScaledToZero=True)", async () => {
    const h = makeController();
    const external = metricSpecSchema.parse({
      type: "External",
      external: { metric: { name: "q" }, target: { type: "AverageValue", averageValue: "1" } },
    });
    const scaledToZero = {
      conditions: [{ type: "ScaledToZero", status: "True" as const, reason: "ScaledToZero", message: "" }],
    };
    const zeroHpa = (
      name: string,
      minReplicas: number,
      withExternal: boolean,
      status?: typeof scaledToZero,
    ) => {
      const hpa = makeHpa(name, status ? { status } : {});
      hpa.spec.minReplicas = minReplicas;
      if (withExternal) hpa.spec.metrics = [external];
      h.hpas.set(hpa);
      h.scales.replicas.set(name, 0);
    };
    zeroHpa("by-hand", 0, true); // scaled to zero by someone else: ScalingDisabled, nothing read
    zeroHpa("woken", 0, true, scaledToZero); // canScaleFromZero
    zeroHpa("raised-min", 2, false, scaledToZero); // minReplicas raised after it scaled to zero
    zeroHpa("pods-only", 0, false, scaledToZero); // pod metrics cannot wake it
    for (const n of ["by-hand", "woken", "raised-min", "pods-only"])
      await h.controller.syncKey(`default/${n}`);
    expect(h.metrics.calls.map((c) => c.selector)).toEqual(["app=woken", "app=raised-min"]);
  });

  it("hands a scale read failure to the algorithm as { error } and writes its condition", async () => {
    const h = makeController();
    h.scales.getError = 'deployments.apps "a" not found';
    h.hpas.set(makeHpa("a"));
    await h.controller.syncKey("default/a");
    expect(h.rec.inputs[0]?.scale).toEqual({ error: 'deployments.apps "a" not found' });
    expect(h.writer.statuses[0]?.status.conditions?.[0]?.reason).toBe("FailedGetScale");
  });

  it("reports an HPA that does not parse (Event + ScalingActive=False/InvalidSpec) and carries on with the others", async () => {
    const h = makeController();
    h.hpas.items.set("default/bad", {
      ok: false,
      namespace: "default",
      name: "bad",
      error: "spec.maxReplicas: expected number",
      raw: { metadata: { uid: "u" } },
    });
    h.hpas.set(makeHpa("good"));
    h.controller.start();
    await h.clock.advance(SECOND);
    expect(h.events.reasons("bad")).toEqual(["InvalidSpec"]);
    expect(h.writer.conditionPatches[0]?.conditions[0]).toMatchObject({
      type: "ScalingActive",
      status: "False",
      reason: "InvalidSpec",
    });
    expect(h.rec.inputs.map((i) => i.hpa.metadata.name)).toEqual(["good"]);
    await h.controller.stop();
  });

  it("retries a failing status write on the next sync and counts FailedUpdateStatus", async () => {
    const rec = fakeReconcile(() => 2);
    const h = makeController({ reconcile: rec.fn });
    h.writer.statusError = "etcdserver: request timed out";
    h.hpas.set(makeHpa("a"));
    const out = await h.controller.syncKey("default/a");
    expect(out.status === "synced" && out.errorReasons).toEqual(["FailedUpdateStatus"]);
    const metric = await h.telemetry.registry.getSingleMetricAsString("prom_hpa_autoscaler_errors_total");
    expect(metric).toContain('reason="FailedUpdateStatus"');
  });
});

describe("HPAs selecting the same pods", () => {
  it("tells the algorithm which other HPAs' selectors select this HPA's pods (upstream's selector store)", async () => {
    const h = makeController({ concurrentSyncs: 1 });
    h.pods.pods.push(
      podSchema.parse({
        metadata: { name: "p", namespace: "default", labels: { app: "shared" } },
        spec: { containers: [] },
      }),
    );
    h.scales.selectors.set("a", "app=shared");
    h.scales.selectors.set("b", "app=shared");
    h.hpas.set(makeHpa("a"));
    h.hpas.set(makeHpa("c"));
    h.hpas.set(makeHpa("b"));
    // registered when queued, selecting nothing until their own sync records their selector
    h.controller.start();
    await h.clock.advance(0);
    expect(h.rec.inputs.map((i) => [i.hpa.metadata.name, i.otherHpaSelectors])).toEqual([
      ["a", []],
      ["c", []],
      ["b", [{ name: "a", selector: "app=shared" }]],
    ]);
    await h.controller.stop();
    h.controller.onHpaDeleted("default/a");
    await h.controller.syncKey("default/b");
    expect(h.rec.inputs.at(-1)?.otherHpaSelectors).toEqual([]);
    // a sync of a deleted HPA does not register it again (upstream's PutIfPresent)
    await h.controller.syncKey("default/a");
    await h.controller.syncKey("default/b");
    expect(h.rec.inputs.at(-1)?.otherHpaSelectors).toEqual([]);
  });
});

describe("dry-run", () => {
  it("never writes the scale, the status or an annotation; records DryRun Events and the would-be decision in /metrics", async () => {
    const rec = fakeReconcile(() => 5);
    const h = makeController({ dryRun: true, reconcile: rec.fn });
    h.hpas.set(makeHpa("a"));
    h.controller.start();
    await h.clock.advance(31 * SECOND);
    await h.controller.stop();
    expect(rec.inputs).toHaveLength(3);
    expect(h.scales.updates).toEqual([]);
    expect(h.writer.statuses).toEqual([]);
    expect(h.writer.conditionPatches).toEqual([]);
    expect(h.events.reasons()).toEqual(["DryRunRescale", "DryRunRescale", "DryRunRescale"]);
    expect(h.writer.annotationPatches).toEqual([]);
    const desired = await h.telemetry.registry.getSingleMetricAsString(
      "prom_hpa_autoscaler_desired_replicas",
    );
    expect(desired).toContain('name="a"');
    expect(desired).toContain("} 5");
  });

  it("mirrors the real scaler's scale events (for behavior policies) instead of keeping its own would-be ones", async () => {
    const wouldBe = fakeReconcile(() => 6);
    const withEvent = (input: Parameters<typeof wouldBe.fn>[0]) => {
      const r = wouldBe.fn(input);
      return r.history === null
        ? r
        : {
            ...r,
            history: {
              ...r.history,
              scaleUpEvents: [...r.history.scaleUpEvents, { timestamp: input.now, replicaChange: 99 }],
            },
          };
    };
    const h = makeController({ dryRun: true, reconcile: withEvent });
    const behavior = { scaleUp: { policies: [{ type: "Pods" as const, value: 1, periodSeconds: 60 }] } };
    const hpa = makeHpa("a");
    h.hpas.set({ ...hpa, spec: { ...hpa.spec, behavior } });
    await h.controller.syncKey("default/a");
    expect(wouldBe.inputs[0]?.history).toBeNull();
    // the built-in controller scales 1 → 3 and records lastScaleTime
    const scaledAt = h.clock.now() + 5_000;
    h.scales.replicas.set("a", 3);
    const cached = h.hpas.get("default", "a");
    if (!cached?.ok) throw new Error("missing");
    h.hpas.set({
      ...cached.hpa,
      status: { ...cached.hpa.status, lastScaleTime: new Date(scaledAt).toISOString().replace(".000Z", "Z") },
    });
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/a");
    const seen = wouldBe.inputs[1]?.history;
    expect(seen?.scaleUpEvents).toEqual([{ timestamp: scaledAt, replicaChange: 2, outdated: false }]);
    expect(seen?.scaleUpEvents.some((e) => e.replicaChange === 99)).toBe(false);
  });

  it("prefixes failure Events too", async () => {
    const h = makeController({ dryRun: true });
    h.scales.getError = "boom";
    h.hpas.set(makeHpa("a"));
    await h.controller.syncKey("default/a");
    expect(h.events.reasons()).toEqual(["DryRunFailedGetScale"]);
    expect(h.writer.statuses).toEqual([]);
  });
});

describe("history across leaders", () => {
  it("saves the history on the HPA and a new controller continues from it instead of starting empty", async () => {
    const levels = [5, 5, 3];
    let i = 0;
    const rec = fakeReconcile(() => levels[Math.min(i++, levels.length - 1)] ?? 1);
    const first = makeController({ reconcile: rec.fn });
    first.hpas.set(makeHpa("a"));
    for (let s = 0; s < 3; s++) {
      await first.controller.syncKey("default/a");
      await first.clock.advance(15 * SECOND);
    }
    const saved = first.hpas.get("default", "a");
    expect(saved?.ok && saved.hpa.metadata.annotations?.[HISTORY_ANNOTATION]).toBeTruthy();

    // the next leader: same cluster state (the cached HPA with the annotation), no memory
    const rec2 = fakeReconcile(() => 3);
    const second = new HpaController({ ...first.options, reconcile: rec2.fn });
    const now = first.clock.now();
    await second.syncKey("default/a");
    const restored = rec2.inputs[0]?.history;
    expect(restored).not.toBeNull();
    // 5 (older) survives with its own time; the current recommendation (3) is stamped with the loader's clock
    expect(restored?.recommendations).toEqual(
      expect.arrayContaining([
        { timestamp: now - 30 * SECOND, replicas: 5 },
        { timestamp: now, replicas: 3 },
      ]),
    );
  });

  it("writes the history annotation only when its compacted form changes", async () => {
    const h = makeController(); // steady: recommends the current size every sync
    h.hpas.set(makeHpa("a"));
    h.controller.start();
    await h.clock.advance(5 * 60 * SECOND);
    await h.controller.stop();
    const historyWrites = h.writer.annotationPatches.filter(
      (p) => p.annotations[HISTORY_ANNOTATION] !== undefined,
    );
    expect(h.rec.inputs.length).toBeGreaterThan(20);
    expect(historyWrites).toHaveLength(1);
  });

  it("forgets memory on start so a returning leader rereads what the other leader saved", async () => {
    const h = makeController();
    h.hpas.set(makeHpa("a"));
    h.controller.start();
    await h.clock.advance(SECOND);
    await h.controller.stop();
    const other = JSON.stringify({ v: 1, rec: [[h.clock.now() - 1000, 9]], cur: 4, up: [], down: [] });
    const cached = h.hpas.get("default", "a");
    if (!cached?.ok) throw new Error("missing");
    h.hpas.set({
      ...cached.hpa,
      metadata: { ...cached.hpa.metadata, annotations: { [HISTORY_ANNOTATION]: other } },
    });
    h.controller.start();
    await h.clock.advance(SECOND);
    await h.controller.stop();
    const last = h.rec.inputs[h.rec.inputs.length - 1];
    expect(last?.history?.recommendations.map((r) => r.replicas)).toEqual([9, 4]);
  });
});
