// The randomized cluster differential, short: one seed's twelve random HPAs over five steps
// (scripts/differential/cluster-run.ts, what `npm run differential` runs), kube-controller-manager
// v1.37.2's HPA controller in charge and our autoscaler in --dry-run beside it. Every sync of ours
// must match one of KCM's near it; the only disagreements allowed are those within seconds of a
// step change or a KCM rescale ([in flux]: see /work/notes/cluster-differential.md and the
// README's differential section).
import { describe, expect, it } from "vitest";
import { generateScenario } from "../../scripts/differential/cluster-generate.js";
import { runScenario } from "../../scripts/differential/cluster-run.js";
import { disagreements, renderReport } from "../../scripts/differential/cluster-main.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const SEED = 1;

describe("randomized differential against kube-controller-manager v1.37.2", () => {
  it("makes the same decision as the built-in controller at every sync of twelve random HPAs", async () => {
    const scenario = generateScenario(SEED, 12, 5);
    const r = await runScenario(cluster, scenario, { stepSeconds: 18, progress: (l) => console.log(l) });
    console.log(renderReport(r));
    const problems = disagreements(r);
    console.log(
      `seed ${SEED}: ${r.decisions.length} decisions, ${r.conditions.length} condition checks in ${r.seconds.toFixed(0)} s; disagreements:\n${problems.join("\n")}`,
    );
    expect(r.decisions.length).toBeGreaterThan(100);
    expect(problems.filter((p) => !p.startsWith("[in flux]"))).toEqual([]);
  }, 240_000);
});
