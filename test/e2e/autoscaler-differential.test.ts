// Differential: kube-controller-manager's own HPA controller (an HPA-only instance beside the
// shared cluster, whose main controller-manager runs without it) scales six HPAs — Resource cpu
// and memory, Pods, Object, External, and Pods+External with behavior policies — while our
// autoscaler runs in --dry-run beside it with the same settings (legacy delays off). A script of
// metric levels drives both through the real Prometheus and our adapter behind the aggregator.
//
// Per step, the built-in controller's decisions (the scales it made, from a watch on the
// Deployments) and ours (current → desired replicas per HPA in our /metrics, and our DryRunRescale
// Events) are recorded and printed side by side. Asserted: both end each step on the scripted
// count; every scale we would have made is one the built-in controller made (same from, same to;
// each DryRunRescale message is one of its SuccessfulRescale messages); we anticipated at least
// one of its scales (so our decision is not merely an echo of the current count); and the
// built-in controller never failed a status update on these HPAs (FailedUpdateStatus): our dry
// run writes nothing on them, so it never moves their resourceVersion under it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { createLogger } from "../../src/log/logger.js";
import type { HpaControllerHandle } from "../../scripts/cluster/handle.js";
import {
  deployment,
  hpa,
  kube,
  metrics,
  service,
  startMetricsEnv,
  textTable,
  type Levels,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { recordDecisions, scrapeOurReplicas, type DecisionRecorder } from "./support/autoscaler-record.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

// Every setting both controllers take, equal on both sides.
const SETTINGS = {
  syncPeriodSeconds: 2,
  tolerance: 0.1,
  downscaleStabilizationSeconds: 15,
  // Short: a new pod's first cpu samples count at once (its readiness is kwok's, immediate).
  cpuInitializationPeriodSeconds: 2,
  initialReadinessDelaySeconds: 30,
};

const MI = 1024 * 1024;
/** How far ahead of the built-in controller we may decide a scale: a sync period, a scrape, slack. */
const MAX_LEAD_MS = (SETTINGS.syncPeriodSeconds + 2 + 5) * 1000;
/** Per-pod targets: one "unit" of level is what one replica is meant to carry. */
const UNIT = { cpu: 0.05, memory: 32 * MI, load: 0.1, object: 0.1, queue: 0.1 };

interface Step {
  label: string;
  u: number;
  v: number;
  expect: number;
  expectBehavior: number;
  expectBroken: number;
}

interface Case {
  name: string;
  spec: Record<string, unknown>;
  levels: (u: number, v: number) => Levels;
  expect?: (step: Step) => number;
}

const CASES: Case[] = [
  { name: "d-cpu", spec: { metrics: [metrics.cpu(50)] }, levels: (u) => ({ cpu: u * UNIT.cpu, memory: 0 }) },
  {
    name: "d-memory",
    spec: { metrics: [metrics.memory(50)] },
    levels: (u) => ({ cpu: 0, memory: u * UNIT.memory }),
  },
  { name: "d-pods", spec: { metrics: [metrics.pods("100m")] }, levels: (u) => ({ load: u * UNIT.load }) },
  {
    name: "d-object",
    spec: { metrics: [metrics.object("d-object", "100m")] },
    levels: (u) => ({ object: u * UNIT.object }),
  },
  {
    name: "d-external",
    spec: { metrics: [metrics.external("d-external", "100m")] },
    levels: (u) => ({ queue: u * UNIT.queue }),
  },
  {
    name: "d-behavior",
    spec: {
      metrics: [metrics.pods("100m"), metrics.external("d-behavior", "100m")],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 15 }] },
        scaleDown: {
          stabilizationWindowSeconds: 15,
          policies: [{ type: "Percent", value: 50, periodSeconds: 10 }],
        },
      },
    },
    levels: (u, v) => ({ load: u * UNIT.load, queue: v * UNIT.queue }),
    expect: (step) => step.expectBehavior,
  },
  {
    // One of two metrics is served by nobody: upstream still scales up on the other, but never
    // down while a metric is missing (ScalingActive=False FailedGetExternalMetric).
    name: "d-broken",
    spec: { metrics: [metrics.pods("100m"), metrics.external("d-broken", "100m", "e2e_nobody_serves_this")] },
    levels: (u) => ({ load: u * UNIT.load }),
    expect: (step) => step.expectBroken,
  },
];

/**
 * The script: u drives the single-metric HPAs (u replicas' worth of load), (u, v) the behavior
 * HPA's Pods and External metrics. Expected counts follow from upstream's rules: ceil(u) within
 * [1, 5], a scale-down once the 15s window has passed; the behavior HPA climbs one pod per 15s
 * (1→2→3→4, each step timed by the previous scale) and falls at most 50% per 10s, where upstream
 * truncates 5×50% to a floor of 2 (5→2, not 5→3); d-broken never scales down.
 */
const STEPS: Step[] = [
  { label: "idle", u: 0.6, v: 0.4, expect: 1, expectBehavior: 1, expectBroken: 1 },
  { label: "ramp", u: 2.6, v: 3.7, expect: 3, expectBehavior: 4, expectBroken: 3 },
  { label: "spike", u: 6.3, v: 2, expect: 5, expectBehavior: 5, expectBroken: 5 },
  { label: "ease", u: 1.7, v: 1.2, expect: 2, expectBehavior: 2, expectBroken: 5 },
  { label: "quiet", u: 0.3, v: 0.3, expect: 1, expectBehavior: 1, expectBroken: 5 },
];

interface Row {
  step: string;
  hpa: string;
  expected: number;
  builtinScales: string;
  builtinDesired: number | undefined;
  replicas: number;
  oursWouldScale: string;
  oursDesired: number | undefined;
  oursMetric: number | undefined;
  seconds: number;
}

describe("differential: our --dry-run decisions against kube-controller-manager's HPA controller", () => {
  const ns = useNamespace(() => cluster, "as-diff");
  let env: MetricsEnv | undefined;
  let builtin: HpaControllerHandle | undefined;
  let shadow: AutoscalerHandle | undefined;
  let recorder: DecisionRecorder | undefined;

  beforeAll(async () => {
    const t0 = Date.now();
    env = await startMetricsEnv(cluster, ns.name);
    for (const c of CASES) env.setLevels(c.name, c.levels(STEPS[0]!.u, STEPS[0]!.v));
    const k = kube(cluster, ns.name);
    await k.apply([...CASES.map((c) => deployment(c.name, 1)), service("d-object")]);
    [builtin, shadow] = await Promise.all([
      cluster.startHpaController(SETTINGS),
      startAutoscaler({
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [ns.name],
        dryRun: true,
        syncPeriodMs: SETTINGS.syncPeriodSeconds * 1000,
        settings: {
          tolerance: SETTINGS.tolerance,
          downscaleStabilizationWindowSeconds: SETTINGS.downscaleStabilizationSeconds,
          cpuInitializationPeriodSeconds: SETTINGS.cpuInitializationPeriodSeconds,
          delayOfInitialReadinessStatusSeconds: SETTINGS.initialReadinessDelaySeconds,
          upscaleDelaySeconds: 0,
          downscaleDelaySeconds: 0,
        },
        log: createLogger("autoscaler", "warn"),
      }),
    ]);
    recorder = await recordDecisions(cluster, ns.name, shadow.url!);
    console.log(`differential setup: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }, 240_000);

  afterAll(async () => {
    await recorder?.stop();
    await shadow?.stop();
    await builtin?.stop();
    await env?.stop();
  });

  /** Our desired replicas per HPA, from our /metrics over HTTP. */
  const ourMetrics = async (): Promise<Map<string, number>> =>
    new Map([...(await scrapeOurReplicas(shadow!.url!, ns.name))].map(([name, r]) => [name, r.desired]));

  it("makes the same decisions as the built-in controller at every step of a scripted sequence of metric levels", async () => {
    const k = kube(cluster, ns.name);
    await k.apply(CASES.map((c) => hpa(c.name, { name: c.name }, c.spec)));
    const rows: Row[] = [];
    const problems: string[] = [];
    const started = Date.now();
    let stepStart = 0;
    const print = () => {
      console.log(
        `differential (${((Date.now() - started) / 1000).toFixed(0)}s): per step, the built-in controller's scales and ours (dry-run)\n` +
          textTable(
            [
              "step",
              "hpa",
              "expect",
              "built-in scales",
              "built-in desired",
              "replicas",
              "ours would scale",
              "ours desired",
              "ours /metrics",
              "settled after",
            ],
            rows.map((r) => [
              r.step,
              r.hpa,
              String(r.expected),
              r.builtinScales || "-",
              String(r.builtinDesired ?? "?"),
              String(r.replicas),
              r.oursWouldScale || "-",
              String(r.oursDesired ?? "?"),
              String(r.oursMetric ?? "?"),
              `${r.seconds.toFixed(0)}s`,
            ]),
          ),
      );
    };

    try {
      for (const step of STEPS) {
        for (const c of CASES) env!.setLevels(c.name, c.levels(step.u, step.v));
        stepStart = Date.now();
        const expected = (c: Case) => (c.expect ? c.expect(step) : step.expect);
        type Snapshot = {
          replicas: Map<string, number>;
          builtin: Map<string, number | undefined>;
          metrics: Map<string, number>;
        };
        const snapshot = async (): Promise<Snapshot> => {
          const [hpas, metricsNow, ...replicas] = await Promise.all([
            k.hpas(),
            ourMetrics(),
            ...CASES.map((c) => k.replicas(c.name)),
          ]);
          return {
            replicas: new Map(CASES.map((c, i) => [c.name, replicas[i] ?? -1])),
            builtin: new Map(hpas.map((h) => [h.metadata.name, h.status?.desiredReplicas ?? undefined])),
            metrics: metricsNow,
          };
        };
        const settled = (s: Snapshot) =>
          CASES.every((c) => {
            const e = expected(c);
            const ours = recorder!.lastOurs(c.name);
            return (
              s.replicas.get(c.name) === e &&
              s.builtin.get(c.name) === e &&
              ours?.from === e &&
              ours.to === e &&
              s.metrics.get(c.name) === e
            );
          });
        let last: Snapshot | undefined;
        let settledAt: number | undefined;
        try {
          await waitFor(
            `step ${step.label} settled on the scripted counts`,
            async () => {
              last = await snapshot();
              if (!settled(last)) {
                settledAt = undefined;
                return undefined;
              }
              settledAt ??= Date.now();
              // Two more sync periods alike: nothing is about to move.
              return Date.now() - settledAt >= 2 * SETTINGS.syncPeriodSeconds * 1000 + 500 ? true : undefined;
            },
            { timeoutMs: 120_000, intervalMs: 1000 },
          );
        } catch (err) {
          problems.push(err instanceof Error ? err.message : String(err));
          // What each side saw: the built-in controller's conditions and metrics, our last decision.
          for (const h of await k.hpas()) {
            const conditions = (h.status?.conditions ?? []).map(
              (c) => `${c.type}=${c.status} ${c.reason ?? ""}: ${c.message ?? ""}`,
            );
            console.log(
              `${h.metadata.name}: built-in ${conditions.join("; ")}; currentMetrics ${JSON.stringify(h.status?.currentMetrics)}; ours ${JSON.stringify(recorder!.lastOurs(h.metadata.name))}`,
            );
          }
          console.log(
            await cluster.kubectl(
              [
                "get",
                "pods",
                "-o",
                "custom-columns=NAME:.metadata.name,PHASE:.status.phase,START:.status.startTime,READY:.status.conditions[?(@.type=='Ready')].status,SINCE:.status.conditions[?(@.type=='Ready')].lastTransitionTime",
              ],
              { namespace: ns.name },
            ),
            await cluster
              .kubectl(["get", "--raw", `/apis/metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods`])
              .catch((e: unknown) => String(e)),
          );
        }
        const inStep = <T extends { seenAt: number }>(xs: T[]) => xs.filter((x) => x.seenAt >= stepStart);
        for (const c of CASES) {
          const b = inStep(recorder!.builtin(c.name));
          const o = inStep(recorder!.ours(c.name)).filter((d) => d.wouldScale);
          rows.push({
            step: step.label,
            hpa: c.name,
            expected: expected(c),
            builtinScales: b.map((a) => `${a.from}→${a.to}`).join(", "),
            builtinDesired: last?.builtin.get(c.name),
            replicas: last?.replicas.get(c.name) ?? -1,
            oursWouldScale: o.map((d) => `${String(d.from)}→${d.to}`).join(", "),
            oursDesired: recorder!.lastOurs(c.name)?.to,
            oursMetric: last?.metrics.get(c.name),
            seconds: ((settledAt ?? Date.now()) - stepStart) / 1000,
          });
        }
        if (problems.length > 0) break;
      }
    } finally {
      print();
    }

    // Our would-be scales are the built-in controller's: same from, same to, same reason.
    const events = await k.events();
    const lines: string[] = [];
    let anticipated = 0;
    for (const c of CASES) {
      const b = recorder!.builtin(c.name);
      const o = recorder!.ours(c.name).filter((d) => d.wouldScale);
      const rescales = events
        .filter((e) => e.involvedObject.name === c.name && e.reason === "SuccessfulRescale")
        .map((e) => e.message);
      const dryRescales = events
        .filter((e) => e.involvedObject.name === c.name && e.reason === "DryRunRescale")
        .map((e) => e.message);
      lines.push(
        `${c.name}: built-in ${b.map((a) => `${a.from}→${a.to}`).join(" ")} | ours ${o.map((d) => `${String(d.from)}→${d.to}`).join(" ") || "(none ahead of it)"}`,
        `    SuccessfulRescale: ${rescales.join(" / ")}`,
        `    DryRunRescale:     ${dryRescales.join(" / ") || "-"}`,
      );
      for (const d of o) {
        // The built-in's scale this decision foresaw: the first from the same count to the same
        // count, seen after it (or just before: then we were not ahead at all).
        const match = b.find((a) => a.from === d.from && a.to === d.to && a.seenAt >= d.seenAt - 2_000);
        if (!match) {
          problems.push(
            `${c.name}: we would have scaled ${String(d.from)}→${d.to} (${d.time}), the built-in controller never did`,
          );
          continue;
        }
        // Ahead by at most a sync period and a scrape (and this machine's lag): more means we
        // would have scaled early (a stabilization window or policy period misjudged).
        const leadMs = match.seenAt - d.seenAt;
        if (leadMs > MAX_LEAD_MS)
          problems.push(
            `${c.name}: we would have scaled ${String(d.from)}→${d.to} ${(leadMs / 1000).toFixed(1)}s before the built-in controller did`,
          );
        anticipated++;
      }
      // Same size, same reason: upstream's wording, DryRun-prefixed.
      for (const message of new Set(dryRescales))
        if (!rescales.includes(message))
          problems.push(
            `${c.name}: our DryRunRescale "${message}" is not among the built-in's: ${rescales.join(" / ")}`,
          );
    }
    console.log(`decision timelines and Events:\n${lines.join("\n")}`);
    console.log(
      `we anticipated ${anticipated} of the built-in controller's scales (the rest it made before our next sync)`,
    );
    // The safety property of --dry-run: the built-in controller's status updates on these HPAs
    // never conflicted with a write of ours.
    const conflicts = events.filter(
      (e) => e.reason === "FailedUpdateStatus" && CASES.some((c) => c.name === e.involvedObject.name),
    );
    const conflictCount = conflicts.reduce((n, e) => n + (e.count ?? 1), 0);
    console.log(
      `the built-in controller's status updates refused (FailedUpdateStatus): ${conflictCount}${conflicts[0] ? `, e.g. ${conflicts[0].involvedObject.name}: ${conflicts[0].message}` : ""}`,
    );
    expect(problems).toEqual([]);
    expect(conflictCount).toBe(0);
    for (const r of rows) {
      expect({
        step: r.step,
        hpa: r.hpa,
        builtin: r.builtinDesired,
        ours: r.oursDesired,
        metric: r.oursMetric,
      }).toEqual({
        step: r.step,
        hpa: r.hpa,
        builtin: r.expected,
        ours: r.expected,
        metric: r.expected,
      });
    }
    expect(anticipated).toBeGreaterThan(0);
    // The missing metric is reported alike: the built-in's Warning and ours (DryRun-prefixed).
    const warnings = (prefix: string) =>
      [
        ...new Set(
          events
            .filter((e) => e.involvedObject.name === "d-broken" && e.type === "Warning")
            .filter((e) => (prefix === "" ? !e.reason.startsWith("DryRun") : e.reason.startsWith(prefix)))
            .map((e) => e.reason.slice(prefix.length)),
        ),
      ].sort();
    console.log(
      `d-broken Warnings: built-in ${warnings("").join(" ")} | ours DryRun+ ${warnings("DryRun").join(" ")}`,
    );
    // (A transient FailedGetPodsMetric before the adapter lists a new series may hit one side only.)
    for (const side of [warnings(""), warnings("DryRun")])
      expect(side).toEqual(
        expect.arrayContaining(["FailedComputeMetricsReplicas", "FailedGetExternalMetric"]),
      );
  }, 600_000);
});
