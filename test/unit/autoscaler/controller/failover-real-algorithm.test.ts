// The loop with the real algorithm: what a failover must not lose.
import { describe, expect, it } from "vitest";
import { applyScaleResult, reconcile } from "../../../../src/autoscaler/algorithm/index.js";
import { HISTORY_ANNOTATION } from "../../../../src/autoscaler/controller/annotations.js";
import { HpaController } from "../../../../src/autoscaler/controller/controller.js";
import {
  horizontalPodAutoscalerSchema,
  metricValueListSchema,
  podSchema,
} from "../../../../src/kube/objects.js";
import { makeController } from "../fakes.js";

function setup(startReplicas: number) {
  const h = makeController({ reconcile, applyScaleResult });
  let level = "100m";
  const pods = [0, 1, 2, 3].map((n) =>
    podSchema.parse({
      metadata: { name: `web-x-${n}`, namespace: "default", labels: { app: "web" } },
      spec: { containers: [{ name: "c", resources: { requests: { cpu: "100m" } } }] },
      status: {
        phase: "Running",
        startTime: "2020-01-01T00:00:00Z",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2020-01-01T00:00:00Z" }],
      },
    }),
  );
  h.scales.replicas.set("web", startReplicas);
  const running = () => pods.slice(0, h.scales.replicas.get("web") ?? 0);
  h.pods.list = () => running();
  h.metrics.read = async () =>
    metricValueListSchema.parse({
      kind: "MetricValueList",
      items: running().map((p) => ({
        describedObject: { kind: "Pod", name: p.metadata.name, namespace: "default" },
        metric: { name: "load" },
        timestamp: new Date(h.clock.now()).toISOString(),
        value: level,
      })),
    });
  h.hpas.set(
    horizontalPodAutoscalerSchema.parse({
      metadata: { name: "web", namespace: "default", uid: "u1", generation: 1 },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          {
            type: "Pods",
            pods: { metric: { name: "load" }, target: { type: "AverageValue", averageValue: "100m" } },
          },
        ],
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: 0,
            policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
          },
        },
      },
      status: { currentReplicas: startReplicas, desiredReplicas: startReplicas },
    }),
  );
  return { h, setLevel: (l: string) => (level = l) };
}

describe("failover with the real algorithm", () => {
  it("a new leader keeps to the scale-down policy the old leader started (the scale event is read from the HPA)", async () => {
    const { h, setLevel } = setup(3);
    await h.controller.syncKey("default/web");
    setLevel("10m");
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/web");
    expect(h.scales.updates).toEqual([{ name: "web", replicas: 2 }]);
    const saved = h.hpas.get("default", "web");
    expect(
      saved?.ok && JSON.parse(saved.hpa.metadata.annotations?.[HISTORY_ANNOTATION] ?? "{}"),
    ).toMatchObject({ down: [[h.clock.now(), 1]] });

    // the leader dies; the next one starts with nothing in memory
    const next = new HpaController({ ...h.options });
    for (let t = 0; t < 55; t += 5) {
      await h.clock.advance(5_000);
      await next.syncKey("default/web");
    }
    expect(h.scales.replicas.get("web")).toBe(2);
    await h.clock.advance(10_000);
    await next.syncKey("default/web");
    expect(h.scales.replicas.get("web")).toBe(1);
  });

  it("without the saved history the same takeover would scale down at once (what the annotation prevents)", async () => {
    const { h, setLevel } = setup(3);
    await h.controller.syncKey("default/web");
    setLevel("10m");
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/web");
    const cached = h.hpas.get("default", "web");
    if (!cached?.ok) throw new Error("missing");
    h.hpas.set({ ...cached.hpa, metadata: { ...cached.hpa.metadata, annotations: {} } });
    const next = new HpaController({ ...h.options });
    await h.clock.advance(5_000);
    await next.syncKey("default/web");
    expect(h.scales.replicas.get("web")).toBe(1);
  });
});
