// The loop records the explanation of its decisions: every sync on /debug/hpa, a changed decision
// in the last-decision annotation.
import { describe, expect, it } from "vitest";
import { applyScaleResult, reconcile } from "../../../../src/autoscaler/algorithm/index.js";
import { startHealthServer } from "../../../../src/autoscaler/server.js";
import { LAST_DECISION_ANNOTATION, parseDecisionRecord } from "../../../../src/explain/record.js";
import {
  horizontalPodAutoscalerSchema,
  metricValueListSchema,
  podSchema,
} from "../../../../src/kube/objects.js";
import { Registry } from "prom-client";
import { makeController } from "../fakes.js";

function setup(dryRun = false) {
  const h = makeController({ reconcile, applyScaleResult, dryRun });
  let level = "100m";
  const pods = [0, 1, 2, 3, 4, 5].map((n) =>
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
  h.scales.replicas.set("web", 2);
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
        maxReplicas: 6,
        metrics: [
          {
            type: "Pods",
            pods: { metric: { name: "load" }, target: { type: "AverageValue", averageValue: "100m" } },
          },
        ],
        behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } },
      },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    }),
  );
  return { h, setLevel: (l: string) => (level = l) };
}

const decisions = (h: ReturnType<typeof setup>["h"]) =>
  h.writer.annotationPatches.flatMap((p) => {
    const text = p.annotations[LAST_DECISION_ANNOTATION];
    if (typeof text !== "string") return [];
    const r = parseDecisionRecord(text);
    return r.ok ? [r.record] : [];
  });

describe("the last decision", () => {
  it("is written when the decision changes, naming the policy that limited a scale-up", async () => {
    const { h, setLevel } = setup();
    await h.controller.syncKey("default/web");
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/web"); // same decision: no new write
    setLevel("300m");
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/web");
    const written = decisions(h);
    expect(written.map((d) => [d.currentReplicas, d.desiredReplicas, d.scaled])).toEqual([
      [2, 2, false],
      [2, 3, true],
    ]);
    const last = written[1];
    expect(last?.reason).toBe("pods metric load above target");
    expect(last?.steps.find((s) => s.step === "policies")).toMatchObject({
      from: 6,
      to: 3,
      reason: "ScaleUpLimit",
    });
    expect(last?.steps.find((s) => s.step === "policies")?.text).toMatch(/Pods 1 per 60s policy/);
    expect(h.controller.lastDecision("default", "web")?.desiredReplicas).toBe(3);

    // held by the policy next: a new decision, which still carries the rescale its Event reported
    await h.clock.advance(15_000);
    await h.controller.syncKey("default/web");
    const held = decisions(h).at(-1);
    expect(held).toMatchObject({
      currentReplicas: 3,
      desiredReplicas: 3,
      scaled: false,
      lastRescale: { desiredReplicas: 3, reason: "pods metric load above target" },
    });
    expect(held?.steps.find((s) => s.step === "policies")?.reason).toBe("ScaleUpLimit");
  });

  it("is served on /debug/hpa/<ns>/<name>, and not written in dry-run", async () => {
    const { h } = setup(true);
    await h.controller.syncKey("default/web");
    expect(decisions(h)).toEqual([]);
    const server = await startHealthServer({
      bindAddress: "127.0.0.1:0",
      registry: new Registry(),
      ready: () => true,
      healthy: () => true,
      lastDecision: (ns, name) => h.controller.lastDecision(ns, name),
    });
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/debug/hpa/default/web`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ currentReplicas: 2, desiredReplicas: 2, scaled: false });
      expect((await fetch(`http://127.0.0.1:${server.port}/debug/hpa/default/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
