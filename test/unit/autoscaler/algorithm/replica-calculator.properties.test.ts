import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isWithinTolerance } from "../../../../src/autoscaler/algorithm/replica-calculator.js";
import type { Pod } from "../../../../src/kube/objects.js";
import {
  ago,
  calc,
  cpuUtilization,
  externalValues,
  objectValues,
  pod,
  podMetrics,
  podsAverage,
  podValues,
  spec,
} from "./replica-calculator.fixtures.js";

/** A pod's state for the generators: how it takes part in the calculation. */
type PodKind = "ready" | "missing" | "pending" | "failed" | "deleting" | "cpuUnready";

const podKind = fc.constantFrom<PodKind>(
  "ready",
  "ready",
  "ready",
  "missing",
  "pending",
  "failed",
  "deleting",
  "cpuUnready",
);
const tolerance = fc.record({
  scaleUp: fc.constantFrom(0, 0.01, 0.1, 0.5),
  scaleDown: fc.constantFrom(0, 0.01, 0.1, 0.5),
});

function makePod(i: number, kind: PodKind): Pod {
  const name = `p${i}`;
  switch (kind) {
    case "pending":
      return pod(name, { phase: "Pending" });
    case "failed":
      return pod(name, { phase: "Failed" });
    case "deleting":
      return pod(name, { deleting: true });
    case "cpuUnready":
      return pod(name, { ready: "False", startTime: ago(60), readySince: ago(60) });
    default:
      return pod(name);
  }
}

/** Pods of random kinds with random CPU usage (milli); every non-missing pod reports a sample. */
const workload = fc.array(fc.record({ kind: podKind, usage: fc.integer({ min: 0, max: 3000 }) }), {
  minLength: 1,
  maxLength: 12,
});

function cpuInput(pods: { kind: PodKind; usage: number }[]) {
  const samples: Record<string, string> = {};
  pods.forEach((p, i) => {
    if (p.kind !== "missing") samples[`p${i}`] = `${p.usage}m`;
  });
  // the size the workload has: every pod that is not being ignored
  const currentReplicas = pods.filter((p) => p.kind !== "failed" && p.kind !== "deleting").length;
  return { pods: pods.map((p, i) => makePod(i, p.kind)), response: podMetrics(samples), currentReplicas };
}

describe("replica calculator properties", () => {
  it("a proposal is a non-negative integer for non-negative samples, whatever the pods' states", () => {
    fc.assert(
      fc.property(workload, fc.integer({ min: 1, max: 300 }), tolerance, (pods, target, tolerances) => {
        const input = cpuInput(pods);
        const result = calc({ metric: cpuUtilization(target), ...input, tolerances });
        if (result.ok) {
          expect(Number.isInteger(result.proposal.replicas)).toBe(true);
          expect(result.proposal.replicas).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it("a usage ratio within the tolerance leaves the replica count unchanged (all pods ready and reporting)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 100_000 }),
        tolerance,
        (values, target, tolerances) => {
          const samples = Object.fromEntries(values.map((v, i) => [`p${i}`, `${v}m`]));
          const pods = values.map((_, i) => pod(`p${i}`));
          const result = calc({
            metric: podsAverage("qps", `${target}m`),
            currentReplicas: pods.length,
            pods,
            response: podValues("qps", samples),
            tolerances,
          });
          if (!result.ok) throw new Error(result.message);
          const average = Math.trunc(values.reduce((a, b) => a + b, 0) / values.length);
          if (isWithinTolerance(tolerances, average / target))
            expect(result.proposal.replicas).toBe(pods.length);
          else expect(result.proposal.replicas).toBe(Math.ceil((average / target) * pods.length));
        },
      ),
    );
  });

  it("the proposal moves in the direction of the ready pods' usage ratio and never against it", () => {
    fc.assert(
      fc.property(workload, fc.integer({ min: 1, max: 300 }), tolerance, (pods, target, tolerances) => {
        const input = cpuInput(pods);
        const result = calc({ metric: cpuUtilization(target), ...input, tolerances });
        if (!result.ok) return;
        // the first-pass ratio: the pods that are neither ignored, unready nor missing, each requesting 1 CPU
        const counted = pods.filter((p) => p.kind === "ready");
        const utilization = Math.trunc(
          (counted.reduce((a, p) => a + p.usage, 0) * 100) / (counted.length * 1000),
        );
        const ratio = utilization / target;
        const { replicas } = result.proposal;
        if (ratio > 1) expect(replicas).toBeGreaterThanOrEqual(input.currentReplicas);
        if (ratio < 1) expect(replicas).toBeLessThanOrEqual(input.currentReplicas);
        if (ratio === 1 || isWithinTolerance(tolerances, ratio)) expect(replicas).toBe(input.currentReplicas);
      }),
    );
  });

  it("Object and External Value targets stay put within the tolerance and otherwise follow the ratio's direction", () => {
    const value = fc.integer({ min: 0, max: 1_000_000 });
    fc.assert(
      fc.property(
        value,
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 8 }),
        tolerance,
        fc.boolean(),
        (usage, target, n, tolerances, external) => {
          const pods = Array.from({ length: n }, (_, i) => pod(`p${i}`));
          const metric = external
            ? spec({
                type: "External",
                external: { metric: { name: "queue" }, target: { type: "Value", value: `${target}m` } },
              })
            : spec({
                type: "Object",
                object: {
                  describedObject: { kind: "Deployment", name: "web" },
                  metric: { name: "qps" },
                  target: { type: "Value", value: `${target}m` },
                },
              });
          const response = external ? externalValues("queue", `${usage}m`) : objectValues("qps", `${usage}m`);
          const result = calc({ metric, currentReplicas: n, pods, response, tolerances });
          if (!result.ok) throw new Error(result.message);
          const ratio = usage / target;
          const { replicas } = result.proposal;
          expect(Number.isInteger(replicas) && replicas >= 0).toBe(true);
          if (isWithinTolerance(tolerances, ratio)) expect(replicas).toBe(n);
          else expect(replicas).toBe(Math.ceil(ratio * n));
        },
      ),
    );
  });
});
