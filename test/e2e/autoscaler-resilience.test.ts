// Metrics that fail or go stale, against the real control plane, the real Prometheus and our
// adapter (--metric-timestamps=sample) and autoscaler:
//   - Prometheus cut mid-load (the adapter reaches it through a TCP relay this file cuts): an HPA
//     with last-known-good keeps scaling up from the spike it saw before the cut
//     (ScalingActive=True UsingLastKnownGoodMetric) and one it would scale down holds its size;
//     without it, upstream's behaviour: the size holds, ScalingActive=False;
//   - a series that stops being exported, under a windowed query that keeps answering its last
//     value for 10 minutes: with max-metric-age 45s the HPA calls the metric failed once its newest
//     sample is older than that; without it, the value is trusted (upstream).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import {
  LAST_KNOWN_GOOD_ANNOTATION,
  MAX_METRIC_AGE_ANNOTATION,
} from "../../src/autoscaler/controller/annotations.js";
import { createLogger } from "../../src/log/logger.js";
import {
  deployment,
  hpa,
  kube,
  metrics,
  Relay,
  startMetricsEnv,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { resourceRulesYaml } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const SYNC_MS = 2_000;

/**
 * e2e_queue as is, and its maximum over 10 minutes (which answers long after the series stops);
 * resource rules too, since every metrics APIService must be Available.
 */
const CONFIG = `
externalRules:
- seriesQuery: 'e2e_queue{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name: {matches: "^e2e_queue$", as: "e2e_queue"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>})'
- seriesQuery: 'e2e_queue{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name: {matches: "^e2e_queue$", as: "e2e_queue_10m"}
  metricsQuery: 'max(max_over_time(<<.Series>>{<<.LabelMatchers>>}[10m]))'
${resourceRulesYaml("irate", "10s")}`;

/** One pod more per 30s up (so a spike takes a while to reach), one fewer per 30s down, no stabilization. */
const stepwise = {
  scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 30 }] },
  scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 30 }] },
};

describe("resilience: metrics that fail or go stale", () => {
  const ns = useNamespace(() => cluster, "as-resilience");
  let prometheus: Relay | undefined;
  let env: MetricsEnv | undefined;
  let autoscaler: AutoscalerHandle | undefined;

  beforeAll(async () => {
    prometheus = new Relay(Number(new URL(cluster.prometheusUrl).port));
    await prometheus.restore();
    env = await startMetricsEnv(cluster, ns.name, {
      config: CONFIG,
      prometheusUrl: `http://127.0.0.1:${prometheus.port}`,
      metricTimestamps: "sample",
    });
    autoscaler = await startAutoscaler({
      kubeconfig: cluster.kubeconfigPath,
      namespaces: [ns.name],
      syncPeriodMs: SYNC_MS,
      maxBackoffMs: SYNC_MS,
      log: createLogger("autoscaler", "warn"),
    });
  }, 180_000);

  afterAll(async () => {
    await autoscaler?.stop();
    await prometheus?.restore();
    await env?.stop();
    await prometheus?.cut();
  });

  it("with last-known-good scales up from a spike seen before Prometheus was cut, never down; without it holds", async () => {
    const k = kube(cluster, ns.name);
    env!.setLevels("lkg-up", { queue: 0.4 });
    env!.setLevels("plain-up", { queue: 0.4 });
    env!.setLevels("lkg-down", { queue: 0.05 });
    await k.apply([deployment("lkg-up", 1), deployment("plain-up", 1), deployment("lkg-down", 4)]);
    const lkg = { [LAST_KNOWN_GOOD_ANNOTATION]: "5m" };
    await k.apply([
      hpa(
        "lkg-up",
        { name: "lkg-up" },
        { metrics: [metrics.external("lkg-up", "100m")], behavior: stepwise },
        lkg,
      ),
      hpa(
        "plain-up",
        { name: "plain-up" },
        { metrics: [metrics.external("plain-up", "100m")], behavior: stepwise },
      ),
      hpa(
        "lkg-down",
        { name: "lkg-down" },
        { metrics: [metrics.external("lkg-down", "100m")], behavior: stepwise },
        lkg,
      ),
    ]);
    const sizes = async () => ({
      up: await k.replicas("lkg-up"),
      plain: await k.replicas("plain-up"),
      down: await k.replicas("lkg-down"),
    });
    // the first step of each is taken on fresh metrics
    await waitFor(
      "the first scale step of each HPA",
      async () => {
        const s = await sizes();
        return s.up === 2 && s.plain === 2 && s.down === 3;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await prometheus!.cut();
    const cutAt = Date.now();
    try {
      // upstream holds plain-up; lkg-up keeps stepping to the size its remembered spike asks for
      await waitFor(
        "lkg-up at 4 replicas from its remembered value",
        async () => (await k.replicas("lkg-up")) === 4,
        {
          timeoutMs: 150_000,
          intervalMs: 1000,
        },
      );
      const waited = Date.now() - cutAt;
      expect(waited).toBeGreaterThan(30_000); // two more steps of the 30s policy, all after the cut
      const s = await sizes();
      expect(s).toEqual({ up: 4, plain: 2, down: 3 });

      const up = await k.condition("lkg-up", "ScalingActive");
      expect(up).toMatchObject({ status: "True", reason: "UsingLastKnownGoodMetric" });
      expect(up?.message).toMatch(/external metric e2e_queue from its last known good value, read \S+ ago/);
      const down = await k.condition("lkg-down", "ScalingActive");
      expect(down).toMatchObject({ status: "True", reason: "UsingLastKnownGoodMetric" });
      expect(down?.message).toMatch(/^the HPA held 3 replicas: .* it would scale down to 2/);
      const plain = await k.condition("plain-up", "ScalingActive");
      expect(plain).toMatchObject({ status: "False", reason: "FailedGetExternalMetric" });
      const events = await k.events("lkg-up");
      expect(events.some((e) => e.reason === "UsingLastKnownGoodMetric" && e.type === "Normal")).toBe(true);
    } finally {
      await prometheus!.restore();
    }
  }, 330_000);

  it("counts a value whose newest sample is older than max-metric-age as failed; without it the stale value is trusted", async () => {
    const k = kube(cluster, ns.name);
    env!.setLevels("stale-q", { queue: 0.2 });
    // another queue keeps e2e_queue discovered once stale-q's series has gone
    env!.setLevels("other-q", { queue: 0.1 });
    await k.apply([deployment("aged", 2), deployment("trusting", 2)]);
    const spec = { metrics: [metrics.external("stale-q", "100m", "e2e_queue_10m")] };
    await k.apply([
      hpa("aged", { name: "aged" }, spec, { [MAX_METRIC_AGE_ANNOTATION]: "45s" }),
      hpa("trusting", { name: "trusting" }, spec),
    ]);
    const active = async (name: string) => (await k.condition(name, "ScalingActive"))?.reason;
    await waitFor(
      "both HPAs on the fresh series",
      async () =>
        (await active("aged")) === "ValidMetricFound" && (await active("trusting")) === "ValidMetricFound",
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    // long enough for the sample-time query's 30s-step lookback to have seen the series
    await new Promise((resolve) => setTimeout(resolve, 40_000));
    // the exporter stops serving the series: Prometheus marks it stale, the 10m window still answers
    env!.setLevels("stale-q", {});
    const stoppedAt = Date.now();
    try {
      await waitFor(
        "the aged HPA's metric failed",
        async () => (await active("aged")) === "FailedGetExternalMetric",
        { timeoutMs: 150_000, intervalMs: 1000 },
      );
    } catch (err) {
      const raw = await cluster.kubectl([
        "get",
        "--raw",
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns.name}/e2e_queue_10m?labelSelector=queue%3Dstale-q`,
      ]);
      throw new Error(
        `${String(err)}\naged: ${JSON.stringify(await k.condition("aged", "ScalingActive"))}\nanswer at ${new Date().toISOString()}: ${raw}`,
      );
    }
    const after = Date.now() - stoppedAt;
    expect(after).toBeGreaterThan(30_000);
    const aged = await k.condition("aged", "ScalingActive");
    expect(aged?.status).toBe("False");
    expect(aged?.message).toMatch(
      /the newest sample of external metric e2e_queue_10m is \S+ old, older than max-metric-age 45s/,
    );
    // upstream's trust: the same value, still answered, still used
    expect(await k.condition("trusting", "ScalingActive")).toMatchObject({
      status: "True",
      reason: "ValidMetricFound",
    });
    expect(await k.replicas("aged")).toBe(2);
    console.log(`stale after ${Math.round(after / 1000)}s with max-metric-age 45s`);
  }, 360_000);
});
