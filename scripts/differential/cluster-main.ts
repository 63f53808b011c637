// npm run differential -- [--oracle cluster] --seed S --hpas N --steps K [--seeds R]: the cluster
// differential (cluster-run.ts) for seeds S … S+R−1, one after another on one local cluster (a
// fresh one, or `--cluster <cluster.json>` from `npm run cluster:up`). Prints per HPA the
// decisions side by side per step, the disagreements, and last `N passed, N failed`.
import { readFileSync } from "node:fs";
import { connectCluster, type ClusterHandle, type ClusterInfo } from "../cluster/handle.js";
import { startCluster } from "../cluster/cluster.js";
import { textTable } from "../../test/e2e/support/autoscaler-env.js";
import { generateScenario } from "./cluster-generate.js";
import { FLUX_MS, runScenario, type SeedReport } from "./cluster-run.js";

export interface ClusterDifferentialOptions {
  seed: number;
  seeds: number;
  hpas: number;
  steps: number;
  stepSeconds: number;
  cluster?: string;
}

/** Per HPA and step: agreed/all decisions, and the outcomes seen (ours | KCM's). */
export function renderReport(r: SeedReport): string {
  const rows: string[][] = [];
  const keys = new Set(r.decisions.map((d) => `${d.hpa}\u0000${d.step}`));
  for (const key of [...keys].sort((a, b) => a.localeCompare(b, "en", { numeric: true }))) {
    const [hpa = "", stepText = "0"] = key.split("\u0000");
    const step = Number(stepText);
    const ds = r.decisions.filter((d) => d.hpa === hpa && d.step === step);
    const short = (x: string) => (x.length > 70 ? `${x.slice(0, 67)}…` : x);
    const uniq = (xs: string[]) => [...new Set(xs.map(short))].join(", ");
    const cond = r.conditions.find((c) => c.hpa === hpa && c.step === step);
    rows.push([
      hpa,
      String(step + 1),
      `${ds.filter((d) => d.agreed).length}/${ds.length}`,
      uniq(ds.map((d) => d.ours)),
      uniq(ds.flatMap((d) => d.kcm)),
      cond ? (cond.agreed ? "same" : `ours ${cond.ours} | kcm ${cond.kcm}`) : "-",
    ]);
  }
  return textTable(
    ["hpa", "step", "agreed", "ours (dry-run)", "kube-controller-manager", "conditions at step end"],
    rows,
  );
}

export function disagreements(r: SeedReport): string[] {
  return [
    ...r.decisions
      .filter((d) => !d.agreed)
      .map(
        (d) =>
          `${d.inFlux ? "[in flux] " : ""}seed ${r.seed} ${d.hpa} step ${d.step + 1} ${new Date(d.at).toISOString()}: ours ${d.ours}; KCM within the window: ${d.kcm.join(" / ")}`,
      ),
    ...r.conditions
      .filter((c) => !c.agreed)
      .map(
        (c) => `seed ${r.seed} ${c.hpa} end of step ${c.step + 1}: conditions ours ${c.ours}; KCM ${c.kcm}`,
      ),
  ];
}

export async function runClusterDifferential(o: ClusterDifferentialOptions): Promise<number> {
  let cluster: ClusterHandle;
  let stop = async () => {};
  if (o.cluster) cluster = connectCluster(JSON.parse(readFileSync(o.cluster, "utf8")) as ClusterInfo);
  else {
    const started = await startCluster({
      hpaController: false,
      onProgress: (m) => console.error(`[cluster] ${m}`),
    });
    cluster = started;
    stop = () => started.stop();
  }
  let passed = 0;
  let failed = 0;
  let inFlux = 0;
  const problems: string[] = [];
  try {
    for (let seed = o.seed; seed < o.seed + o.seeds; seed++) {
      const scenario = generateScenario(seed, o.hpas, o.steps);
      const r = await runScenario(cluster, scenario, {
        stepSeconds: o.stepSeconds,
        progress: (l) => console.error(l),
      });
      console.log(`\nseed ${seed} (${r.namespace}), ${r.seconds.toFixed(0)} s:\n${renderReport(r)}`);
      console.log(
        `seed ${seed}: ${r.decisions.length} sync decisions + ${r.conditions.length} step-end condition checks (${r.conditionsSkipped} step ends skipped: last outcomes differed); ${r.unpaired} syncs of ours had no KCM sync within the window (not counted); we made ${r.anticipated} of KCM's ${r.kcmRescales} rescales ahead of or with it`,
      );
      const all = [...r.decisions, ...r.conditions];
      passed += all.filter((d) => d.agreed).length;
      failed += all.filter((d) => !d.agreed).length;
      problems.push(...disagreements(r));
      inFlux += r.decisions.filter((d) => !d.agreed && d.inFlux).length;
    }
  } finally {
    await stop();
  }
  console.log(`\ndisagreements (${problems.length}):`);
  for (const p of problems) console.log(`  ${p}`);
  console.log(
    `${inFlux} of the failed came within ${FLUX_MS / 1000} s of a step change or a KCM rescale of that HPA ([in flux]: the two syncs may have read different pods or samples)`,
  );
  console.log(`${passed} passed, ${failed} failed`);
  return failed - inFlux === 0 ? 0 : 1;
}
