// Scale to zero and back (HPAScaleToZero, on by default as in Kubernetes 1.37) and HPAGeneration,
// with our autoscaler in charge (default settings; only the sync period is short):
//   - an HPA with minReplicas 0 on an External metric: when the metric drops to 0 the Deployment
//     goes to 0 with ScaledToZero=True/ScaledToZero; when it returns, back up, with
//     ScaledToZero=False/NotScaledToZero, in 1.37's words;
//   - a spec change is reconciled at once: status.observedGeneration equals metadata.generation
//     well within one sync (the HPA's own period is 60s here).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SYNC_PERIOD_ANNOTATION } from "../../src/autoscaler/controller/annotations.js";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { createLogger } from "../../src/log/logger.js";
import {
  deployment,
  hpa,
  kube,
  metrics,
  startMetricsEnv,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const SYNC_MS = 2_000;

const generationsSchema = z.object({
  metadata: z.object({ generation: z.number() }),
  status: z.object({ observedGeneration: z.number().nullish() }).nullish(),
});

describe("scale to zero and back, and observedGeneration, with our autoscaler", () => {
  const ns = useNamespace(() => cluster, "as-zero");
  let env: MetricsEnv | undefined;
  let autoscaler: AutoscalerHandle | undefined;

  beforeAll(async () => {
    env = await startMetricsEnv(cluster, ns.name);
  }, 180_000);

  afterAll(async () => {
    await autoscaler?.stop();
    await env?.stop();
  });

  it("goes to zero when the External metric drops to 0 and comes back when it returns", async () => {
    const k = kube(cluster, ns.name);
    env!.setLevels("z-ext", { queue: 0.1 });
    await k.apply([deployment("z-ext", 1)]);
    await k.apply([
      hpa(
        "z-ext",
        { name: "z-ext" },
        {
          minReplicas: 0,
          metrics: [metrics.external("z-ext", "100m")],
          // per-HPA behavior (a spec field, not a flag): no downscale stabilization
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
        },
      ),
    ]);
    autoscaler = await startAutoscaler({
      kubeconfig: cluster.kubeconfigPath,
      namespaces: [ns.name],
      syncPeriodMs: SYNC_MS,
      log: createLogger("autoscaler", "warn"),
    });
    await waitFor(
      "z-ext steady at 1 with a valid metric",
      async () => (await k.condition("z-ext", "ScalingActive"))?.reason === "ValidMetricFound",
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    expect(await k.replicas("z-ext")).toBe(1);

    env!.setLevels("z-ext", { queue: 0 });
    await waitFor("z-ext at 0", async () => (await k.replicas("z-ext")) === 0, {
      timeoutMs: 90_000,
      intervalMs: 1000,
    });
    await waitFor(
      "ScaledToZero=True",
      async () => (await k.condition("z-ext", "ScaledToZero"))?.status === "True",
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    const down = await k.condition("z-ext", "ScaledToZero");
    expect(down).toMatchObject({
      status: "True",
      reason: "ScaledToZero",
      message: "the HPA controller scaled the workload to zero",
    });
    // it stays at zero while the metric is 0, still computing (ScalingActive is not ScalingDisabled)
    await new Promise((r) => setTimeout(r, 3 * SYNC_MS));
    expect(await k.replicas("z-ext")).toBe(0);
    expect((await k.condition("z-ext", "ScalingActive"))?.reason).not.toBe("ScalingDisabled");

    env!.setLevels("z-ext", { queue: 0.3 });
    await waitFor("z-ext back up at 3", async () => (await k.replicas("z-ext")) === 3, {
      timeoutMs: 90_000,
      intervalMs: 1000,
    });
    await waitFor(
      "ScaledToZero=False",
      async () => (await k.condition("z-ext", "ScaledToZero"))?.status === "False",
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    expect(await k.condition("z-ext", "ScaledToZero")).toMatchObject({
      status: "False",
      reason: "NotScaledToZero",
      message: "the HPA controller did not scale the workload to zero",
    });
    const reasons = (await k.events("z-ext")).map((e) => `${e.type}/${e.reason}: ${e.message}`);
    expect(
      reasons.some((r) =>
        /^Normal\/SuccessfulRescale: New size: 0; reason: All metrics below target$/.test(r),
      ),
    ).toBe(true);
    expect(
      reasons.some((r) =>
        /^Normal\/SuccessfulRescale: New size: 3; reason: external metric e2e_queue\(.*\) above target$/.test(
          r,
        ),
      ),
    ).toBe(true);
  }, 300_000);

  it("reconciles a spec change at once: observedGeneration = generation well within one sync", async () => {
    const k = kube(cluster, ns.name);
    env!.setLevels("z-gen", { queue: 0.1 });
    await k.apply([deployment("z-gen", 1)]);
    // its own period is 60s: a sync within seconds of the change can only be the immediate one
    const spec = { metrics: [metrics.external("z-gen", "100m")] };
    await k.apply([hpa("z-gen", { name: "z-gen" }, spec, { [SYNC_PERIOD_ANNOTATION]: "60s" })]);
    const read = async () =>
      generationsSchema.parse(
        JSON.parse(await cluster.kubectl(["get", "hpa", "z-gen", "-o", "json"], { namespace: ns.name })),
      );
    await waitFor("first sync of z-gen", async () => (await read()).status?.observedGeneration === 1, {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    const changed = Date.now();
    await k.apply([
      hpa("z-gen", { name: "z-gen" }, { ...spec, maxReplicas: 6 }, { [SYNC_PERIOD_ANNOTATION]: "60s" }),
    ]);
    await waitFor(
      "observedGeneration = generation",
      async () => {
        const h = await read();
        return h.metadata.generation === 2 && h.status?.observedGeneration === 2;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const tookMs = Date.now() - changed;
    console.log(`observedGeneration caught up with generation ${tookMs} ms after the spec change`);
    expect(tookMs).toBeLessThan(20_000);
  }, 120_000);
});
