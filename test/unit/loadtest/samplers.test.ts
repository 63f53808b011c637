import { describe, expect, it } from "vitest";
import { lineProgress } from "../../../loadtest/generator/progress.js";
import { hpaStatusSamplers } from "../../../loadtest/generator/samplers.js";

const hpa = {
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: "hello-world", namespace: "default" },
  status: {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [
      {
        type: "Resource",
        resource: { name: "cpu", current: { averageUtilization: 66, averageValue: "333m" } },
      },
      { type: "Resource", resource: { name: "memory", current: { averageValue: "9424896" } } },
      { type: "Pods", pods: { metric: { name: "cpu_system" }, current: { averageValue: "25m" } } },
    ],
  },
};

describe("hpaStatusSamplers", () => {
  it("records the named metric in its unit and the replica counts, from one read per sample", async () => {
    let reads = 0;
    const s = hpaStatusSamplers(
      async () => {
        reads++;
        return hpa;
      },
      { metric: "cpu_system" },
    );
    const [metric, replicas] = await Promise.all([s.metric?.(), s.replicas?.()]);
    expect(metric).toBeCloseTo(0.025, 10);
    expect(replicas).toEqual({ current: 2, desired: 3 });
    expect(reads).toBe(1);
  });

  it("takes utilization in percent for a Utilization metric, and the first metric by default", async () => {
    const s = hpaStatusSamplers(async () => hpa, {});
    expect(await s.metric?.()).toBe(66);
    const memory = hpaStatusSamplers(async () => hpa, { metric: "memory" });
    expect(await memory.metric?.()).toBe(9424896);
  });

  it("gives null for a metric the status does not have yet, and for a new HPA without status", async () => {
    expect(await hpaStatusSamplers(async () => hpa, { metric: "http_requests" }).metric?.()).toBeNull();
    const fresh = hpaStatusSamplers(async () => ({ metadata: { name: "x" } }), {});
    expect(await fresh.metric?.()).toBeNull();
    expect(await fresh.replicas?.()).toEqual({ current: null, desired: null });
  });

  it("fails the sample on an answer that is not an HPA", async () => {
    const s = hpaStatusSamplers(async () => ({ status: { currentReplicas: "two" } }), {});
    await expect(s.replicas?.()).rejects.toThrow(/unexpected HorizontalPodAutoscaler/);
  });
});

describe("lineProgress", () => {
  it("prints one line per sample with time, phase, load, metric and replicas", () => {
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l));
    p.start(120);
    p.update(
      { t: 65, rps: 12.345, metric: 0.0251234, currentReplicas: 2, desiredReplicas: 3 },
      {
        phase: 1,
        phaseName: "steady",
        type: "steady",
        start: 60,
        duration: 60,
        rate: 12,
        connections: 4,
        targetRps: "12",
      },
    );
    p.update({ t: 70, rps: 0, metric: null, currentReplicas: null, desiredReplicas: null }, undefined);
    expect(lines).toEqual([
      "[1m5s/2m] steady  rps 12.3  metric 0.0251  replicas 2→3",
      "[1m10s/2m] -  rps 0.0  metric -  replicas -→-",
    ]);
  });
});
