// Faults: our autoscaler (active, the only HPA controller) against the real control plane while
// things go wrong, each checked for upstream's condition, reason and Event:
//   - the metrics APIs unavailable (the aggregator cannot reach the adapter: its relay is cut)
//     → no scale-down although the levels ask for one, ScalingActive=False with
//     FailedGetPodsMetric / FailedGetExternalMetric / FailedGetResourceMetric; once the APIs are
//     back the same HPAs scale down;
//   - one of two metrics missing (an external metric nobody serves) → still no scale-down,
//     ScalingActive=False FailedGetExternalMetric;
//   - the scale target missing (a Deployment not created yet, a kind no API serves)
//     → AbleToScale=False FailedGetScale; creating the Deployment heals it;
//   - invalid specs: a custom resource whose scale subresource gives a selector that does not
//     parse → ScalingActive=False InvalidSelector; two HPAs on one Deployment → AmbiguousSelector;
// and through all of it the loop carries on: a healthy HPA in the same namespace scales.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { createLogger } from "../../src/log/logger.js";
import {
  deployment,
  hpa,
  kube,
  metrics,
  startMetricsEnv,
  textTable,
  type HpaObject,
  type MetricsEnv,
} from "./support/autoscaler-env.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const GROUP = "faults.e2e.prom-hpa.io";
const CRD = `gadgets.${GROUP}`;
const SYNC_MS = 2_000;

/** A namespaced custom resource with a scale subresource whose selector is whatever status says. */
const crd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: CRD },
  spec: {
    group: GROUP,
    scope: "Namespaced",
    names: { plural: "gadgets", singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        subresources: {
          status: {},
          scale: {
            specReplicasPath: ".spec.replicas",
            statusReplicasPath: ".status.replicas",
            labelSelectorPath: ".status.selector",
          },
        },
      },
    ],
  },
};

type Expect = { type: string; status: string; reason: string; message?: RegExp };

describe("faults: our autoscaler reports upstream's conditions and Events and carries on", () => {
  const ns = useNamespace(() => cluster, "as-faults");
  let env: MetricsEnv | undefined;
  let autoscaler: AutoscalerHandle | undefined;

  beforeAll(async () => {
    // The metrics APIs are registered but unreachable from the start.
    env = await startMetricsEnv(cluster, ns.name, { relayUp: false });
    await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(crd) });
    await cluster.kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=60s"], {
      timeoutMs: 70_000,
    });
  }, 180_000);

  afterAll(async () => {
    await autoscaler?.stop();
    await env?.stop();
    await cluster
      .kubectl(["delete", "crd", CRD, "--ignore-not-found", "--wait=false"])
      .catch(() => undefined);
  });

  it("holds the size without metrics, names the failing target or spec, and keeps syncing the other HPAs", async () => {
    const k = kube(cluster, ns.name);
    const t0 = Date.now();
    const low = { load: 0.05, queue: 0.05, cpu: 0.025, memory: 0 };
    for (const app of ["f-pods", "f-ext", "f-cpu", "f-partial", "f-late", "f-amb"]) env!.setLevels(app, low);
    env!.setLevels("f-ok", { load: 0.16 });
    await k.apply([
      ...["f-pods", "f-ext", "f-cpu", "f-partial"].map((d) => deployment(d, 3)),
      deployment("f-ok", 1),
      deployment("f-amb", 2),
      { apiVersion: `${GROUP}/v1`, kind: "Gadget", metadata: { name: "g-bad" }, spec: { replicas: 2 } },
    ]);
    await cluster.kubectl(
      [
        "patch",
        `gadgets.v1.${GROUP}`,
        "g-bad",
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { replicas: 2, selector: "app in (" } }),
      ],
      { namespace: ns.name },
    );
    await k.apply([
      hpa("f-pods", { name: "f-pods" }, { metrics: [metrics.pods("100m")] }),
      hpa("f-ext", { name: "f-ext" }, { metrics: [metrics.external("f-ext", "100m")] }),
      hpa("f-cpu", { name: "f-cpu" }, { metrics: [metrics.cpu(50)] }),
      hpa(
        "f-partial",
        { name: "f-partial" },
        { metrics: [metrics.pods("100m"), metrics.external("f-partial", "100m", "e2e_nobody_serves_this")] },
      ),
      hpa("f-ok", { name: "f-ok" }, { metrics: [metrics.pods("100m")] }),
      hpa("f-missing", { name: "f-late" }, { metrics: [metrics.pods("100m")] }),
      hpa(
        "f-kind",
        { apiVersion: "nothing.e2e.prom-hpa.io/v1", kind: "Widget", name: "w" },
        { metrics: [metrics.pods("100m")] },
      ),
      hpa(
        "f-badsel",
        { apiVersion: `${GROUP}/v1`, kind: "Gadget", name: "g-bad" },
        { metrics: [metrics.pods("100m")] },
      ),
      hpa("f-amb1", { name: "f-amb" }, { metrics: [metrics.pods("100m")] }),
      hpa("f-amb2", { name: "f-amb" }, { metrics: [metrics.pods("100m")] }),
    ]);
    autoscaler = await startAutoscaler({
      kubeconfig: cluster.kubeconfigPath,
      namespaces: [ns.name],
      syncPeriodMs: SYNC_MS,
      // No stabilization: a scale-down would follow the levels at once, were metrics readable.
      settings: { downscaleStabilizationWindowSeconds: 0 },
      log: createLogger("autoscaler", "warn"),
    });

    const seen: string[][] = [];
    let onPoll: () => Promise<void> = async () => undefined;
    const conditionsMatch = async (label: string, want: Record<string, Expect[]>, timeoutMs = 90_000) => {
      let last: HpaObject[] = [];
      const failing = () =>
        Object.entries(want).flatMap(([name, expects]) => {
          const h = last.find((x) => x.metadata.name === name);
          return expects
            .filter((e) => {
              const c = h?.status?.conditions?.find((x) => x.type === e.type);
              return !(
                c?.status === e.status &&
                c.reason === e.reason &&
                (e.message === undefined || e.message.test(c.message ?? ""))
              );
            })
            .map((e) => {
              const c = h?.status?.conditions?.find((x) => x.type === e.type);
              return `${name}: want ${e.type}=${e.status} ${e.reason}, have ${c ? `${c.status} ${c.reason ?? ""}: ${c.message ?? ""}` : "none"}`;
            });
        });
      try {
        await waitFor(
          label,
          async () => {
            await onPoll();
            last = await k.hpas();
            return failing().length === 0;
          },
          { timeoutMs, intervalMs: 1000 },
        );
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}:\n${failing().join("\n")}`);
      }
      for (const [name] of Object.entries(want)) {
        const h = last.find((x) => x.metadata.name === name);
        for (const c of h?.status?.conditions ?? [])
          if (c.status === "False" || c.type === "ScalingActive")
            seen.push([
              label,
              name,
              `${c.type}=${c.status}`,
              c.reason ?? "",
              (c.message ?? "").slice(0, 110),
            ]);
      }
    };
    const unavailable = /^the HPA was unable to compute the replica count: /;
    const sizes = async (names: string[]) => Promise.all(names.map((n) => k.replicas(n)));

    // Phase A: metrics APIs down.
    const held = ["f-pods", "f-ext", "f-cpu", "f-partial"];
    const minSeen = new Map(held.map((n) => [n, 3]));
    const watchSizes = async () => {
      const now = await sizes(held);
      held.forEach((n, i) => minSeen.set(n, Math.min(minSeen.get(n) ?? 3, now[i] ?? 3)));
    };
    onPoll = watchSizes;
    await conditionsMatch("metrics APIs unavailable", {
      "f-pods": [
        { type: "ScalingActive", status: "False", reason: "FailedGetPodsMetric", message: unavailable },
      ],
      "f-ext": [
        { type: "ScalingActive", status: "False", reason: "FailedGetExternalMetric", message: unavailable },
      ],
      "f-cpu": [
        { type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric", message: unavailable },
      ],
      "f-partial": [{ type: "ScalingActive", status: "False", reason: "FailedGetPodsMetric" }],
      "f-ok": [{ type: "ScalingActive", status: "False", reason: "FailedGetPodsMetric" }],
      "f-missing": [
        {
          type: "AbleToScale",
          status: "False",
          reason: "FailedGetScale",
          message:
            /^the HPA controller was unable to get the target's current scale: deployments.apps "f-late" not found$/,
        },
      ],
      "f-kind": [
        {
          type: "AbleToScale",
          status: "False",
          reason: "FailedGetScale",
          message: /^the HPA controller was unable to get the target's current scale: .*Widget/,
        },
      ],
      "f-badsel": [
        {
          type: "ScalingActive",
          status: "False",
          reason: "InvalidSelector",
          message: /^couldn't convert selector into a corresponding internal selector object: /,
        },
      ],
      "f-amb1": [
        {
          type: "ScalingActive",
          status: "False",
          reason: "AmbiguousSelector",
          message: /are controlled by more than one HPA/,
        },
      ],
      "f-amb2": [{ type: "ScalingActive", status: "False", reason: "AmbiguousSelector" }],
    });
    // Several more syncs without metrics: nothing moves.
    const holdUntil = Date.now() + 3 * SYNC_MS;
    while (Date.now() < holdUntil) await watchSizes();
    await watchSizes();
    onPoll = async () => undefined;
    const phaseA = (Date.now() - t0) / 1000;

    // Phase B: the metrics APIs come back; the Deployment f-late appears.
    await env!.relay.restore();
    await env!.waitApiServices(true);
    await k.apply([deployment("f-late", 3)]);
    const scaledDown = waitFor(
      "f-pods, f-ext, f-cpu, f-late at 1 and f-ok at 2 once metrics are back",
      async () => {
        const [pods, ext, cpu, ok, late] = await sizes(["f-pods", "f-ext", "f-cpu", "f-ok", "f-late"]);
        return pods === 1 && ext === 1 && cpu === 1 && ok === 2 && late === 1;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    await scaledDown;
    await conditionsMatch("metrics APIs back", {
      "f-pods": [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
      "f-ext": [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
      "f-cpu": [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
      "f-ok": [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
      "f-partial": [
        { type: "ScalingActive", status: "False", reason: "FailedGetExternalMetric", message: unavailable },
      ],
      "f-missing": [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
      "f-kind": [{ type: "AbleToScale", status: "False", reason: "FailedGetScale" }],
      "f-badsel": [{ type: "ScalingActive", status: "False", reason: "InvalidSelector" }],
      "f-amb1": [{ type: "ScalingActive", status: "False", reason: "AmbiguousSelector" }],
    });
    const [partial, late, amb] = await sizes(["f-partial", "f-late", "f-amb"]);

    const events = await k.events();
    const reasons = (name: string) =>
      [
        ...new Set(events.filter((e) => e.involvedObject.name === name).map((e) => `${e.type}/${e.reason}`)),
      ].sort();
    console.log(
      `faults (phase A ${phaseA.toFixed(0)}s, total ${((Date.now() - t0) / 1000).toFixed(0)}s): conditions seen\n` +
        textTable(["phase", "hpa", "condition", "reason", "message"], seen) +
        `\nsmallest size seen while metrics were unavailable: ${[...minSeen].map(([n, v]) => `${n}=${v}`).join(", ")}` +
        `\nEvents: ${["f-pods", "f-ext", "f-cpu", "f-partial", "f-missing", "f-kind", "f-badsel", "f-amb1", "f-ok"].map((n) => `${n}: ${reasons(n).join(" ")}`).join("; ")}`,
    );

    // No scale-down while any metric was unreadable.
    expect(Object.fromEntries(minSeen)).toEqual({ "f-pods": 3, "f-ext": 3, "f-cpu": 3, "f-partial": 3 });
    expect(partial).toBe(3);
    // f-late came up at 3 with a low level: its HPA, no longer missing a target, scaled it in.
    expect(late).toBe(1);
    expect(amb).toBe(2);
    // The Events upstream records for each.
    expect(reasons("f-pods")).toEqual(
      expect.arrayContaining(["Warning/FailedGetPodsMetric", "Normal/SuccessfulRescale"]),
    );
    expect(reasons("f-ext")).toContain("Warning/FailedGetExternalMetric");
    expect(reasons("f-cpu")).toContain("Warning/FailedGetResourceMetric");
    expect(reasons("f-partial")).toEqual(
      expect.arrayContaining(["Warning/FailedGetPodsMetric", "Warning/FailedGetExternalMetric"]),
    );
    expect(reasons("f-partial")).not.toContain("Normal/SuccessfulRescale");
    expect(reasons("f-missing")).toEqual(
      expect.arrayContaining(["Warning/FailedGetScale", "Normal/SuccessfulRescale"]),
    );
    expect(reasons("f-kind")).toContain("Warning/FailedGetScale");
    expect(reasons("f-badsel")).toContain("Warning/InvalidSelector");
    expect(reasons("f-amb1")).toContain("Warning/AmbiguousSelector");
    expect(reasons("f-ok")).toContain("Normal/SuccessfulRescale");
    // Our /metrics counts the failures by reason.
    const text = await (await fetch(`${autoscaler!.url}/metrics`)).text();
    for (const reason of ["FailedGetPodsMetric", "FailedGetScale", "InvalidSelector", "AmbiguousSelector"])
      expect(text).toMatch(
        new RegExp(`prom_hpa_autoscaler_errors_total\\{[^}]*reason="${reason}"[^}]*\\} [1-9]`),
      );
  }, 300_000);
});
