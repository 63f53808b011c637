import { describe, expect, it } from "vitest";
import { CLUSTER_VARIANTS, generateScenario } from "../../../../scripts/differential/cluster-generate.js";
import { compareSyncs, parseKcmLog } from "../../../../scripts/differential/cluster-compare.js";

describe("cluster differential generator", () => {
  it("gives the same HPAs and step sequence for the same seed, and others for another", () => {
    expect(generateScenario(7, 12, 5)).toEqual(generateScenario(7, 12, 5));
    expect(generateScenario(8, 12, 5)).not.toEqual(generateScenario(7, 12, 5));
  });

  it("covers every source and target type, minReplicas 0, behavior policies of both types and every selectPolicy over a few seeds", () => {
    const hpas = [1, 2, 3, 4, 5].flatMap((s) => generateScenario(s, 12, 5).hpas);
    const variants = new Set(hpas.flatMap((h) => h.variants));
    expect([...variants].sort()).toEqual([...CLUSTER_VARIANTS].sort());
    expect(hpas.some((h) => h.unserved)).toBe(true);
    expect(hpas.some((h) => h.spec.minReplicas === 0)).toBe(true);
    const json = JSON.stringify(hpas.map((h) => h.spec.behavior ?? null));
    for (const s of ['"Pods"', '"Percent"', '"Min"', '"Max"', '"Disabled"', '"tolerance"'])
      expect(json).toContain(s);
    const steps = hpas.flatMap((h) => h.steps);
    for (const k of ["missingPods", "unready", "justStarted", "deletePods"] as const)
      expect(steps.some((s) => s[k] > 0)).toBe(true);
  });

  it("allows minReplicas 0 only with an Object or External metric", () => {
    for (const h of [1, 2, 3, 4, 5].flatMap((s) => generateScenario(s, 12, 2).hpas))
      if (h.spec.minReplicas === 0)
        expect(h.unserved || h.variants.some((v) => v.startsWith("Object") || v.startsWith("External"))).toBe(
          true,
        );
  });
});

describe("cluster differential comparison", () => {
  it("reads kube-controller-manager's sync outcomes from its -v=4 log", () => {
    const log = [
      `I1208 03:16:05.379123   42 horizontal.go:1059] "Decided not to scale" scaleTarget="Deployment/ns1/a" desiredReplicas=3 lastScaleTime="<nil>"`,
      `I1208 03:16:06.000500   42 horizontal.go:1032] "Successfully rescaled" HPA="ns1/a" currentReplicas=3 desiredReplicas=4 reason="memory resource above target"`,
      `E1208 03:16:07.100000   42 horizontal.go:350] "Unhandled Error" err="failed to compute desired number of replicas based on listed metrics for Deployment/ns1/b: invalid metrics (1 invalid out of 1), first error is: x" logger="UnhandledError"`,
      `I1208 03:16:08.000000   42 horizontal.go:1059] "Decided not to scale" scaleTarget="Deployment/other/a" desiredReplicas=1 lastScaleTime="<nil>"`,
    ].join("\n");
    const records = parseKcmLog(log, "ns1", 2026);
    expect(records.map((r) => [r.hpa, r.outcome])).toEqual([
      ["a", { kind: "hold", replicas: 3 }],
      ["a", { kind: "rescale", from: 3, to: 4, reason: "memory resource above target" }],
      ["b", { kind: "error", message: "invalid metrics (1 invalid out of 1), first error is: x" }],
    ]);
    expect(records[0]?.at).toBe(new Date(2026, 11, 8, 3, 16, 5, 379).getTime());
  });

  it("agrees when KCM made the same decision within the window, and marks a disagreement right after a change as in flux", () => {
    const kcm = [
      { hpa: "a", at: 1000, outcome: { kind: "hold" as const, replicas: 2 } },
      { hpa: "a", at: 4000, outcome: { kind: "rescale" as const, from: 2, to: 3, reason: "r" } },
    ];
    const ours = [
      { hpa: "a", at: 2000, outcome: { kind: "rescale" as const, from: 2, to: 3, reason: "r" } },
      { hpa: "a", at: 5000, outcome: { kind: "hold" as const, replicas: 4 } },
      { hpa: "a", at: 60_000, outcome: { kind: "hold" as const, replicas: 3 } },
    ];
    const c = compareSyncs(ours, kcm, 3000, () => 0, { stepStarts: [], fluxMs: 2000 });
    expect(c.decisions.map((d) => [d.ours, d.agreed, d.inFlux])).toEqual([
      ["2→3 (r)", true, false],
      ["hold 4", false, true],
    ]);
    expect(c.unpaired).toBe(1);
    expect([c.kcmRescales, c.anticipated]).toEqual([1, 1]);
  });
});
