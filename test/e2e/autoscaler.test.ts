// prom-hpa autoscaler against the real control plane, kwok, Prometheus and our adapter behind
// the aggregator. Metric levels are scripted: each "pod" is a tiny process (started by the pod
// runner) that exports the level the test writes into a file, so decisions are deterministic.
//
// The built-in HPA controller stays off; every HPA carries an ownership annotation so that each
// autoscaler instance here touches only its own HPAs. The dry-run differential against
// kube-controller-manager lives in autoscaler-differential.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/adapter/config/index.js";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { createLogger } from "../../src/log/logger.js";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";
import { resourceRulesYaml, startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const OWNER = "e2e.prom-hpa.io/owner";
const TIER = "e2e-autoscaler";

const ADAPTER_CONFIG = `
rules:
- seriesQuery: 'cpu_system{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name: {matches: "^cpu_system$", as: "cpu_system"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'e2e_object{namespace!="",service!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      service: {resource: "service"}
  name: {matches: "^e2e_object$", as: "e2e_object"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'e2e_queue{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name: {matches: "^e2e_queue$", as: "e2e_queue"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>})'
${resourceRulesYaml()}`;

/** One "pod": serves the levels the test wrote for its Deployment (the pod name's prefix). */
const LEVEL_PROGRAM = `
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
const app = (process.env.POD ?? "").split("-").slice(0, -2).join("-");
const level = (k) => {
  try { return Number(JSON.parse(readFileSync(process.env.LEVEL_FILE, "utf8"))[app]?.[k] ?? 0); } catch { return 0; }
};
const server = createServer((req, res) => {
  res.setHeader("content-type", "text/plain; version=0.0.4");
  res.end([
    "# TYPE cpu_system gauge", "cpu_system " + level("cpu_system"),
    "# TYPE e2e_object gauge", 'e2e_object{service="front"} ' + level("object"),
    "# TYPE e2e_queue gauge", 'e2e_queue{queue="jobs"} ' + level("queue"), ""].join("\\n"));
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ event: "listening", port: server.address().port })));
`;

const hpaSchema = z.object({
  metadata: z.object({ annotations: z.record(z.string(), z.string()).nullish() }),
  status: z
    .object({
      desiredReplicas: z.number().optional(),
      currentReplicas: z.number().optional(),
      lastScaleTime: z.string().nullish(),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional() }))
        .nullish(),
    })
    .optional(),
});
const eventListSchema = z.object({
  items: z.array(
    z.object({
      reason: z.string(),
      message: z.string(),
      type: z.string(),
      count: z.number().nullish(),
      source: z.object({ component: z.string().optional() }).nullish(),
      involvedObject: z.object({ name: z.string() }),
      lastTimestamp: z.string().nullish(),
      firstTimestamp: z.string().nullish(),
    }),
  ),
});

function deployment(name: string, replicas: number): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name, tier: TIER } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: TIER } },
        spec: {
          containers: [
            {
              name: "web",
              image: "prom-hpa/sample-workload:local",
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        },
      },
    },
  };
}

function hpa(
  name: string,
  target: string,
  owner: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): unknown {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, annotations: { [OWNER]: owner, ...annotations } },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      minReplicas: 1,
      maxReplicas: 3,
      ...spec,
    },
  };
}

const podsMetric = (averageValue: string) => ({
  type: "Pods",
  pods: { metric: { name: "cpu_system" }, target: { type: "AverageValue", averageValue } },
});
const cpuMetric = (averageUtilization: number) => ({
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", averageUtilization } },
});

describe("prom-hpa autoscaler on the real control plane", () => {
  const ns = useNamespace(() => cluster, "autoscaler");
  const dir = mkdtempSync(join(tmpdir(), "prom-hpa-e2e-autoscaler-"));
  const levelFile = join(dir, "levels.json");
  const programFile = join(dir, "level-pod.mjs");
  const levels: Record<string, Record<string, number>> = {};
  let registered: RegisteredAdapter | undefined;
  let runner: PodRunner | undefined;

  const setLevel = (app: string, values: Record<string, number>) => {
    levels[app] = values;
    writeFileSync(levelFile, JSON.stringify(levels));
  };
  const apply = (objects: unknown[]) =>
    cluster.kubectl(["apply", "-f", "-"], {
      namespace: ns.name,
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    });
  const replicas = async (name: string) =>
    Number(
      await cluster.kubectl(["get", "deployment", name, "-o", "jsonpath={.spec.replicas}"], {
        namespace: ns.name,
      }),
    );
  const getHpa = async (name: string) =>
    hpaSchema.parse(
      JSON.parse(await cluster.kubectl(["get", "hpa", name, "-o", "json"], { namespace: ns.name })),
    );
  const events = async (name: string) =>
    eventListSchema.parse(
      JSON.parse(
        await cluster.kubectl(
          [
            "get",
            "events",
            "-o",
            "json",
            "--field-selector",
            `involvedObject.name=${name},involvedObject.kind=HorizontalPodAutoscaler`,
          ],
          { namespace: ns.name },
        ),
      ),
    ).items;
  const condition = async (name: string, type: string) =>
    (await getHpa(name)).status?.conditions?.find((c) => c.type === type);
  /** Waits for the Deployment to have n replicas; on a timeout prints `kubectl describe hpa <hpaName>`. */
  const scaledTo = async (name: string, n: number, timeoutMs = 120_000, hpaName = name) => {
    try {
      return await waitFor(
        `${name} at ${n} replicas`,
        async () => ((await replicas(name)) === n ? Date.now() : undefined),
        { timeoutMs, intervalMs: 500 },
      );
    } catch (err) {
      console.error(
        await cluster
          .kubectl(["describe", "hpa", hpaName], { namespace: ns.name })
          .catch((e: unknown) => String(e)),
      );
      throw err;
    }
  };
  const lastScaleTime = async (name: string) => Date.parse((await getHpa(name)).status?.lastScaleTime ?? "");
  const metricAvailable = (path: string) =>
    waitFor(
      `${path} served`,
      async () => {
        const out = z.object({ items: z.array(z.unknown()) }).parse(await getRaw(cluster, path));
        return out.items.length > 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );

  beforeAll(async () => {
    writeFileSync(programFile, LEVEL_PROGRAM);
    writeFileSync(levelFile, "{}");
    const config = parseConfig(ADAPTER_CONFIG);
    if (!config.ok) throw new Error(`adapter config: ${JSON.stringify(config.issues)}`);
    runner = await cluster.startPodRunner({
      namespace: ns.name,
      labelSelector: `tier=${TIER}`,
      command: (t) => ({
        command: process.execPath,
        args: [programFile],
        env: { ...process.env, POD: t.pod, LEVEL_FILE: levelFile },
      }),
    });
    await apply([
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "front" },
        spec: { ports: [{ port: 80 }], selector: { app: "nothing" } },
      },
    ]);
    registered = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      service: "prom-hpa-adapter-as",
      config: config.config,
      prometheusUrl: cluster.info.prometheusUrl,
      hpaReaderRole: "e2e-autoscaler-metrics-reader",
    });
  }, 240_000);

  afterAll(async () => {
    await registered?.stop();
    await runner?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("active, with the legacy delays set per HPA by annotation", () => {
    let autoscaler: AutoscalerHandle | undefined;
    beforeAll(async () => {
      autoscaler = await startAutoscaler({
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [ns.name],
        ownershipAnnotation: `${OWNER}=active`,
        syncPeriodMs: 2_000,
        settings: { downscaleStabilizationWindowSeconds: 0 },
        log: createLogger("autoscaler", "warn"),
      });
    });
    afterAll(async () => {
      await autoscaler?.stop();
    });

    it("the seed scenario: scales 1→2→3 under load, one step per upscale delay, and back to 1 once the downscale delay has passed", async () => {
      const upscaleDelayS = 20;
      const downscaleDelayS = 30;
      setLevel("seed", { cpu_system: 0.15 });
      await apply([
        deployment("seed", 1),
        hpa(
          "seed",
          "seed",
          "active",
          { metrics: [cpuMetric(80), podsMetric("100m")] },
          {
            "autoscaler.prom-hpa.io/upscale-delay": `${upscaleDelayS}s`,
            "autoscaler.prom-hpa.io/downscale-delay": `${downscaleDelayS}s`,
          },
        ),
      ]);
      await metricAvailable(
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/cpu_system?labelSelector=app%3Dseed`,
      );
      await scaledTo("seed", 2);
      const t1 = await lastScaleTime("seed");
      await scaledTo("seed", 3, 180_000);
      const t2 = await lastScaleTime("seed");
      setLevel("seed", { cpu_system: 0.01 });
      await scaledTo("seed", 1, 180_000);
      const t3 = await lastScaleTime("seed");
      console.log(`seed: 1→2 at +0s, 2→3 at +${(t2 - t1) / 1000}s, 3→1 at +${(t3 - t1) / 1000}s`);
      // lastScaleTime has whole seconds; a step waits until the delay has fully passed
      expect(t2 - t1).toBeGreaterThanOrEqual((upscaleDelayS - 1) * 1000);
      expect(t3 - t2).toBeGreaterThanOrEqual((downscaleDelayS - 1) * 1000);

      const describe = await cluster.kubectl(["describe", "hpa", "seed"], { namespace: ns.name });
      console.log(describe);
      // True after the scale; a sync that lands between the scale and this read may already be
      // held by the legacy delays (the remaining pod's share of the load proposes another size).
      expect(describe).toMatch(/AbleToScale\s+(True|False\s+Backoff(Both|Upscale|Downscale))/);
      expect(describe).toMatch(/ScalingActive\s+True/);
      expect(describe).toMatch(
        /SuccessfulRescale\s.*horizontal-pod-autoscaler\s+New size: 2; reason: pods metric cpu_system above target/,
      );
      expect(describe).toMatch(
        /SuccessfulRescale\s.*New size: 3; reason: pods metric cpu_system above target/,
      );
      expect(describe).toMatch(/SuccessfulRescale\s.*New size: 1; reason: All metrics below target/);
      await cluster.kubectl(["delete", "hpa", "seed"], { namespace: ns.name });
    }, 600_000);

    it("faults: metrics unavailable holds the size (ScalingActive=False), a missing target is FailedGetScale, a bad annotation is reported, and the other HPAs carry on", async () => {
      await apply([
        deployment("faults", 2),
        hpa("nometric", "faults", "active", {
          metrics: [
            {
              type: "Pods",
              pods: {
                metric: { name: "no_such_metric" },
                target: { type: "AverageValue", averageValue: "1" },
              },
            },
          ],
        }),
        hpa("notarget", "nope", "active", { metrics: [cpuMetric(50)] }),
        hpa(
          "badannotation",
          "nope2",
          "active",
          { metrics: [cpuMetric(50)] },
          { "autoscaler.prom-hpa.io/sync-period": "soon" },
        ),
      ]);
      const active = await waitFor("nometric ScalingActive=False", async () => {
        const c = await condition("nometric", "ScalingActive");
        return c?.status === "False" ? c : undefined;
      });
      expect(active.reason).toBe("FailedGetPodsMetric");
      const able = await waitFor("notarget AbleToScale=False", async () => {
        const c = await condition("notarget", "AbleToScale");
        return c?.status === "False" ? c : undefined;
      });
      expect(able.reason).toBe("FailedGetScale");
      const notargetEvents = await waitFor("FailedGetScale event", async () => {
        const e = await events("notarget");
        return e.some((x) => x.reason === "FailedGetScale") ? e : undefined;
      });
      expect(notargetEvents.find((x) => x.reason === "FailedGetScale")).toMatchObject({
        type: "Warning",
        message: 'deployments.apps "nope" not found',
        source: { component: "horizontal-pod-autoscaler" },
      });
      const bad = await waitFor("InvalidAnnotation event", async () => {
        const e = await events("badannotation");
        return e.find((x) => x.reason === "InvalidAnnotation");
      });
      expect(bad.message).toContain('annotation autoscaler.prom-hpa.io/sync-period: invalid duration "soon"');
      // still synced with the default period: the target problem is reported as well
      await waitFor("badannotation synced", async () =>
        (await condition("badannotation", "AbleToScale"))?.reason === "FailedGetScale" ? true : undefined,
      );
      // no scale-down without metrics, over several sync periods
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        expect(await replicas("faults")).toBe(2);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      await cluster.kubectl(["delete", "hpa", "nometric", "notarget", "badannotation"], {
        namespace: ns.name,
      });
    }, 300_000);
  });

  it("failover: the leader is killed mid-run, the standby takes over within the lease duration and no early scale-down happens", async () => {
    const leaseDurationS = 6;
    const policyPeriodS = 60;
    const start = (id: string): ChildProcess =>
      spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(REPO_ROOT, "src", "cli.ts"),
          "autoscaler",
          `--kubeconfig=${cluster.kubeconfigPath}`,
          `--namespaces=${ns.name}`,
          `--ownership-annotation=${OWNER}=failover`,
          "--sync-period=2s",
          "--downscale-stabilization=0",
          "--leader-elect",
          `--leader-elect-lease-namespace=${ns.name}`,
          "--leader-elect-lease-name=e2e-autoscaler",
          `--leader-elect-lease-duration=${leaseDurationS}s`,
          "--leader-elect-renew-deadline=4s",
          "--leader-elect-retry-period=1s",
          `--leader-elect-identity=${id}`,
          "--metrics-bind-address=127.0.0.1:0",
        ],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "inherit"],
          env: { ...process.env, LOG_LEVEL: "warn" },
        },
      );
    const holder = async () =>
      z
        .object({ spec: z.object({ holderIdentity: z.string().nullish() }) })
        .parse(
          JSON.parse(
            await cluster.kubectl(["get", "lease", "e2e-autoscaler", "-o", "json"], { namespace: ns.name }),
          ),
        ).spec.holderIdentity ?? "";
    const replicasA = start("replica-a");
    const replicasB = start("replica-b");
    const procs = { "replica-a": replicasA, "replica-b": replicasB };
    try {
      // start at 3 with the metric on target: no scale-up event inside the policy period
      setLevel("fo", { cpu_system: 0.1 });
      await apply([
        deployment("fo", 3),
        hpa("fo", "fo", "failover", {
          metrics: [podsMetric("100m")],
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 0,
              policies: [{ type: "Pods", value: 1, periodSeconds: policyPeriodS }],
            },
          },
        }),
      ]);
      await metricAvailable(
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/cpu_system?labelSelector=app%3Dfo`,
      );
      await waitFor("fo synced by the leader", async () =>
        (await condition("fo", "ScalingActive"))?.status === "True" ? true : undefined,
      );
      setLevel("fo", { cpu_system: 0.01 });
      await scaledTo("fo", 2, 120_000);
      const firstDown = await lastScaleTime("fo");
      const leader = await holder();
      expect(["replica-a", "replica-b"]).toContain(leader);
      procs[leader as keyof typeof procs].kill("SIGKILL");
      const killedAt = Date.now();
      const other = leader === "replica-a" ? "replica-b" : "replica-a";
      await waitFor(`${other} holds the lease`, async () => ((await holder()) === other ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      const tookOverS = (Date.now() - killedAt) / 1000;
      // the policy allows the next step down one period after the first; not before
      let nextDown = 0;
      while (nextDown === 0) {
        const n = await replicas("fo");
        if (n < 2) nextDown = Date.now();
        else if (Date.now() - firstDown > (policyPeriodS + 60) * 1000)
          throw new Error("no second scale-down");
        else await new Promise((r) => setTimeout(r, 500));
      }
      console.log(
        `failover: ${leader} killed ${((killedAt - firstDown) / 1000).toFixed(1)}s after 3→2; ${other} took over in ${tookOverS.toFixed(1)}s; 2→1 at +${((nextDown - firstDown) / 1000).toFixed(1)}s (policy period ${policyPeriodS}s)`,
      );
      expect(tookOverS).toBeLessThanOrEqual(leaseDurationS + 5);
      expect(nextDown - firstDown).toBeGreaterThanOrEqual((policyPeriodS - 1) * 1000);
      await cluster.kubectl(["delete", "hpa", "fo"], { namespace: ns.name });
    } finally {
      replicasA.kill("SIGTERM");
      replicasB.kill("SIGTERM");
    }
  }, 600_000);
});
