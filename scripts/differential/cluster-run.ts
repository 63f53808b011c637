// One seed of the cluster differential on a running local cluster: the seed's HPAs, their
// Deployments and Services in a namespace of their own, kube-controller-manager v1.37.2's HPA
// controller (an HPA-only instance at -v=4, so its log names every sync's outcome) in charge, and
// our autoscaler in --dry-run beside it with the same settings, its every sync tapped in-process.
// Each step sets the levels the exporter serves and disturbs pods (samples left out, Ready=False,
// just started, deleted); at the end KCM's log is read and both sides' syncs compared
// (cluster-compare.ts), as are the conditions each side ends every step with.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import type { ReconcileResult } from "../../src/autoscaler/algorithm/index.js";
import { createLogger } from "../../src/log/logger.js";
import type { ClusterHandle, HpaControllerHandle } from "../cluster/handle.js";
import {
  deployment,
  hpa,
  kube,
  service,
  startMetricsEnv,
  type MetricsEnv,
} from "../../test/e2e/support/autoscaler-env.js";
import {
  compareSyncs,
  outcomeText,
  parseKcmLog,
  type Decision,
  type Outcome,
  type SyncRecord,
} from "./cluster-compare.js";
import type { ClusterScenario, HpaCase } from "./cluster-generate.js";

/** Every setting both controllers take, equal on both sides. */
export const CLUSTER_SETTINGS = {
  syncPeriodSeconds: 3,
  tolerance: 0.1,
  downscaleStabilizationSeconds: 9,
  cpuInitializationPeriodSeconds: 20,
  initialReadinessDelaySeconds: 30,
};

/** How long after a step begins or KCM resizes a target its inputs may still move (see Decision.inFlux). */
export const FLUX_MS = 10_000;

export interface RunOptions {
  stepSeconds: number;
  progress?: (line: string) => void;
}

export interface ConditionCheck {
  hpa: string;
  step: number;
  ours: string;
  kcm: string;
  agreed: boolean;
  at: number;
}

export interface SeedReport {
  seed: number;
  namespace: string;
  decisions: Decision[];
  conditions: ConditionCheck[];
  /** step ends where the last syncs differed in outcome (not counted) */
  conditionsSkipped: number;
  unpaired: number;
  kcmRescales: number;
  anticipated: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Our sync's outcome in the words of cluster-compare. */
function ourOutcome(result: ReconcileResult): Outcome {
  const failed = result.events.find((e) => e.reason === "FailedComputeMetricsReplicas");
  if (failed) return { kind: "error", message: failed.message };
  const current = result.status.currentReplicas ?? 0;
  if (result.scaled)
    return { kind: "rescale", from: current, to: result.desiredReplicas, reason: result.rescaleReason ?? "" };
  return { kind: "hold", replicas: current };
}

/** The conditions as `Type=Status/Reason`, in a fixed order (ScaledToZero left out: only at zero). */
function conditionsText(
  cs: readonly { type: string; status: string; reason?: string | null }[] | null | undefined,
): string {
  return ["AbleToScale", "ScalingActive", "ScalingLimited"]
    .map((t) => {
      const c = cs?.find((x) => x.type === t);
      return c ? `${t}=${c.status}/${c.reason ?? ""}` : `${t}=-`;
    })
    .join(" ");
}

async function disturb(cluster: ClusterHandle, ns: string, c: HpaCase, step: number): Promise<void> {
  const plan = c.steps[step];
  if (!plan) return;
  const out = await cluster.kubectl(
    [
      "get",
      "pods",
      "-l",
      `app=${c.name}`,
      "-o",
      "jsonpath={range .items[?(@.status.phase=='Running')]}{.metadata.name}{'\\n'}{end}",
    ],
    { namespace: ns },
  );
  const pods = out
    .split("\n")
    .filter((p) => p !== "")
    .sort();
  // from the end of the list: the first pods are the ones whose samples go missing
  const pick = (i: number) => pods[pods.length - 1 - i];
  const now = new Date();
  const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
  const patchStatus = async (pod: string, status: object) =>
    cluster
      .kubectl(
        ["patch", "pod", pod, "--subresource=status", "--type=strategic", "-p", JSON.stringify({ status })],
        {
          namespace: ns,
        },
      )
      .catch(() => undefined);
  let i = 0;
  for (let n = 0; n < plan.unready; n++, i++) {
    const pod = pick(i);
    if (pod)
      await patchStatus(pod, {
        conditions: [{ type: "Ready", status: "False", lastTransitionTime: iso(now) }],
      });
  }
  for (let n = 0; n < plan.justStarted; n++, i++) {
    const pod = pick(i);
    if (pod)
      await patchStatus(pod, {
        startTime: iso(new Date(now.getTime() - 2000)),
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: iso(now) }],
      });
  }
  for (let n = 0; n < plan.deletePods; n++, i++) {
    const pod = pick(i);
    if (pod)
      await cluster.kubectl(["delete", "pod", pod, "--wait=false"], { namespace: ns }).catch(() => undefined);
  }
}

export async function runScenario(
  cluster: ClusterHandle,
  scenario: ClusterScenario,
  opts: RunOptions,
): Promise<SeedReport> {
  const t0 = Date.now();
  const say = opts.progress ?? (() => undefined);
  const ns = `diff-${scenario.seed}-${randomBytes(2).toString("hex")}`;
  await cluster.kubectl(["create", "namespace", ns]);
  const k = kube(cluster, ns);
  let env: MetricsEnv | undefined;
  let builtin: HpaControllerHandle | undefined;
  let shadow: AutoscalerHandle | undefined;
  const ours: SyncRecord[] = [];
  const lastOurs = new Map<string, ReconcileResult>();
  const stepStarts: number[] = [];
  const conditions: ConditionCheck[] = [];
  try {
    env = await startMetricsEnv(cluster, ns);
    for (const c of scenario.hpas)
      env.setLevels(c.name, { ...c.steps[0]?.levels, missingPods: c.steps[0]?.missingPods });
    await k.apply([
      ...scenario.hpas.map((c) => deployment(c.name, c.initialReplicas)),
      ...scenario.hpas.map((c) => service(c.name)),
    ]);
    const s = CLUSTER_SETTINGS;
    [builtin, shadow] = await Promise.all([
      cluster.startHpaController({ ...s, logVerbosity: 4 }),
      startAutoscaler({
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [ns],
        dryRun: true,
        syncPeriodMs: s.syncPeriodSeconds * 1000,
        settings: {
          tolerance: s.tolerance,
          downscaleStabilizationWindowSeconds: s.downscaleStabilizationSeconds,
          cpuInitializationPeriodSeconds: s.cpuInitializationPeriodSeconds,
          delayOfInitialReadinessStatusSeconds: s.initialReadinessDelaySeconds,
          upscaleDelaySeconds: 0,
          downscaleDelaySeconds: 0,
        },
        log: createLogger("autoscaler", "error"),
      }),
    ]);
    // A tap on every sync of ours: the controller's workers call its public syncKey.
    const controller = shadow.controller;
    const sync = controller.syncKey.bind(controller);
    controller.syncKey = async (key) => {
      const outcome = await sync(key);
      if (outcome.status === "synced" && outcome.result !== undefined) {
        const name = key.slice(key.indexOf("/") + 1);
        ours.push({ hpa: name, at: Date.now(), outcome: ourOutcome(outcome.result) });
        lastOurs.set(name, outcome.result);
      }
      return outcome;
    };
    say(
      `seed ${scenario.seed}: ${scenario.hpas.length} HPAs in ${ns}, setup ${((Date.now() - t0) / 1000).toFixed(0)}s`,
    );
    await k.apply(scenario.hpas.map((c) => hpa(c.name, { name: c.name }, c.spec)));
    const steps = Math.max(...scenario.hpas.map((c) => c.steps.length));
    for (let step = 0; step < steps; step++) {
      stepStarts.push(Date.now());
      for (const c of scenario.hpas) {
        const plan = c.steps[step];
        if (plan) env.setLevels(c.name, { ...plan.levels, missingPods: plan.missingPods });
      }
      await Promise.all(scenario.hpas.map((c) => disturb(cluster, ns, c, step)));
      await sleep(Math.max(0, stepStarts[step]! + opts.stepSeconds * 1000 - Date.now()));
      // the conditions each side ends the step with
      for (const h of await k.hpas()) {
        const mine = lastOurs.get(h.metadata.name);
        if (!mine) continue;
        const kcm = conditionsText(h.status?.conditions);
        const o = conditionsText(mine.status.conditions);
        conditions.push({ hpa: h.metadata.name, step, ours: o, kcm, agreed: o === kcm, at: Date.now() });
      }
      say(`seed ${scenario.seed}: step ${step + 1}/${steps} done, ${ours.length} syncs of ours so far`);
    }
  } finally {
    await shadow?.stop().catch(() => undefined);
    await builtin?.stop().catch(() => undefined);
    await env?.stop().catch(() => undefined);
    void cluster.kubectl(["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  }
  const kcm = parseKcmLog(readFileSync(builtin.logFile, "utf8"), ns, new Date(t0).getFullYear());
  const end = Date.now();
  const stepOf = (at: number) => {
    let s = 0;
    for (const [i, start] of stepStarts.entries()) if (at >= start) s = i;
    return s;
  };
  // KCM and ours read the same metrics up to a scrape apart and sync at different instants
  const windowMs = (CLUSTER_SETTINGS.syncPeriodSeconds + 3) * 1000;
  const inRun = (r: SyncRecord) => r.at >= (stepStarts[0] ?? 0) && r.at <= end;
  const cmp = compareSyncs(ours.filter(inRun), kcm.filter(inRun), windowMs, stepOf, {
    stepStarts,
    fluxMs: FLUX_MS,
  });
  // A step-end condition check counts only when both sides' last syncs had the same outcome: after
  // KCM's own rescale its AbleToScale says SucceededRescale, which a dry run never writes.
  const lastBefore = (list: SyncRecord[], name: string, at: number) =>
    list.filter((r) => r.hpa === name && r.at <= at).at(-1);
  const checked = conditions.filter((c) => {
    const a = lastBefore(ours, c.hpa, c.at);
    const b = lastBefore(kcm, c.hpa, c.at);
    return a !== undefined && b !== undefined && outcomeText(a.outcome) === outcomeText(b.outcome);
  });
  return {
    seed: scenario.seed,
    namespace: ns,
    decisions: cmp.decisions,
    conditions: checked,
    conditionsSkipped: conditions.length - checked.length,
    unpaired: cmp.unpaired,
    kcmRescales: cmp.kcmRescales,
    anticipated: cmp.anticipated,
    seconds: (Date.now() - t0) / 1000,
  };
}

export { outcomeText };
