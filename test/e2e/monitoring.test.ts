// The monitoring manifests against real programs: the harness Prometheus scrapes an adapter
// and an autoscaler started here (listed in its `prom-hpa` file_sd job), a short load runs (HPAs
// syncing, one failing to read its metric; bursts of identical metric requests), and then every
// panel query of manifests/monitoring/dashboard.json must return series, and the rules of
// alerts.rules.yaml must load and evaluate without error.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/adapter/config/index.js";
import { startAutoscaler, type AutoscalerHandle } from "../../src/autoscaler/index.js";
import { createLogger } from "../../src/log/logger.js";
import { expandQuery } from "../../src/manifests/monitoring/dashboard.js";
import { JOBS } from "../../src/manifests/monitoring/targets.js";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { RULE_FILES_GLOB, SD_JOBS } from "../../scripts/cluster/render.js";
import { resourceRulesYaml, startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const OWNER = "e2e.prom-hpa.io/owner";
const TIER = "e2e-monitoring";
const ADAPTER_CONFIG = `
rules:
- seriesQuery: 'e2e_load{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name: {matches: "^e2e_load$", as: "e2e_load"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
${resourceRulesYaml()}`;
/** One "pod": a constant load of 1, so an HPA targeting 500m wants twice its pods. */
const POD_PROGRAM = `
import { createServer } from "node:http";
const server = createServer((req, res) => {
  res.setHeader("content-type", "text/plain; version=0.0.4");
  res.end("# TYPE e2e_load gauge\\ne2e_load 1\\n");
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ event: "listening", port: server.address().port })));
`;

const dashboardSchema = z.object({
  panels: z.array(
    z.object({
      type: z.string(),
      title: z.string(),
      targets: z.array(z.object({ expr: z.string() })).optional(),
    }),
  ),
});
const queryAnswerSchema = z.object({
  status: z.literal("success"),
  data: z.object({ result: z.array(z.unknown()) }),
});
const rulesAnswerSchema = z.object({
  data: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        rules: z.array(z.object({ name: z.string(), health: z.string(), lastError: z.string().optional() })),
      }),
    ),
  }),
});

function deployment(name: string): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name, tier: TIER } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: TIER } },
        spec: { containers: [{ name: "web", image: "prom-hpa/sample-workload:local" }] },
      },
    },
  };
}

function hpa(name: string, metric: string, maxReplicas: number): unknown {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, annotations: { [OWNER]: "monitoring" } },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas,
      metrics: [
        {
          type: "Pods",
          pods: { metric: { name: metric }, target: { type: "AverageValue", averageValue: "500m" } },
        },
      ],
    },
  };
}

describe("monitoring manifests against the running programs", () => {
  const ns = useNamespace(() => cluster, "monitoring");
  const dir = mkdtempSync(join(tmpdir(), "prom-hpa-e2e-monitoring-"));
  const id = randomBytes(3).toString("hex");
  const sdFile = join(cluster.info.sdDir, `${SD_JOBS.programs}-${id}.json`);
  const rulesFile = join(cluster.info.sdDir, RULE_FILES_GLOB.replace("*", `monitoring-${id}`));
  let registered: RegisteredAdapter | undefined;
  let autoscaler: AutoscalerHandle | undefined;
  let runner: PodRunner | undefined;

  const prometheus = async (path: string): Promise<unknown> => {
    const res = await fetch(new URL(path, cluster.info.prometheusUrl));
    if (!res.ok) throw new Error(`Prometheus ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const seriesCount = async (query: string): Promise<number> =>
    queryAnswerSchema.parse(await prometheus(`/api/v1/query?query=${encodeURIComponent(query)}`)).data.result
      .length;

  /** A metrics API request straight to the adapter, as the admin (client certificate). */
  const adapterAgent = new Agent({
    cert: readFileSync(cluster.info.pki.admin.certFile),
    key: readFileSync(cluster.info.pki.admin.keyFile),
    rejectUnauthorized: false,
    keepAlive: true,
  });
  const adapterGet = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const port = registered?.adapter.port;
      const req = request({ host: "127.0.0.1", port, path, agent: adapterAgent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });

  beforeAll(async () => {
    const programFile = join(dir, "pod.mjs");
    writeFileSync(programFile, POD_PROGRAM);
    const config = parseConfig(ADAPTER_CONFIG);
    if (!config.ok) throw new Error(`adapter config: ${JSON.stringify(config.issues)}`);
    runner = await cluster.startPodRunner({
      namespace: ns.name,
      labelSelector: `tier=${TIER}`,
      command: () => ({ command: process.execPath, args: [programFile] }),
    });
    registered = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      service: "prom-hpa-adapter-mon",
      config: config.config,
      prometheusUrl: cluster.info.prometheusUrl,
    });
    autoscaler = await startAutoscaler({
      kubeconfig: cluster.kubeconfigPath,
      namespaces: [ns.name],
      ownershipAnnotation: `${OWNER}=monitoring`,
      syncPeriodMs: 2_000,
      log: createLogger("autoscaler", "warn"),
    });
    const autoscalerUrl = new URL(autoscaler.url ?? "");
    writeFileSync(
      sdFile,
      JSON.stringify([
        {
          targets: [`127.0.0.1:${registered.adapter.port}`],
          labels: { job: JOBS.adapter, __scheme__: "https" },
        },
        { targets: [autoscalerUrl.host], labels: { job: JOBS.autoscaler } },
      ]),
    );
    writeFileSync(rulesFile, readFileSync(join(REPO_ROOT, "manifests/monitoring/alerts.rules.yaml")));
    const reload = await fetch(new URL("/-/reload", cluster.info.prometheusUrl), { method: "POST" });
    if (!reload.ok) throw new Error(`Prometheus reload: HTTP ${reload.status} ${await reload.text()}`);
  }, 240_000);

  afterAll(async () => {
    rmSync(sdFile, { force: true });
    rmSync(rulesFile, { force: true });
    await fetch(new URL("/-/reload", cluster.info.prometheusUrl), { method: "POST" }).catch(() => undefined);
    await autoscaler?.stop();
    await registered?.stop();
    await runner?.stop();
    adapterAgent.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every dashboard panel query returns series after a short load", async () => {
    // two HPAs that read e2e_load (one wants more than its maxReplicas), one a metric nobody exports
    await cluster.kubectl(["apply", "-f", "-"], {
      namespace: ns.name,
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          deployment("web"),
          deployment("capped"),
          deployment("broken"),
          hpa("web", "e2e_load", 3),
          hpa("capped", "e2e_load", 1),
          hpa("broken", "e2e_missing", 3),
        ],
      }),
    });
    const loadPath = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/e2e_load?labelSelector=app%3Dweb`;
    await waitFor("the adapter to serve e2e_load", async () => (await adapterGet(loadPath)) === 200, {
      timeoutMs: 90_000,
      intervalMs: 1_000,
    });

    const dashboard = dashboardSchema.parse(
      JSON.parse(readFileSync(join(REPO_ROOT, "manifests/monitoring/dashboard.json"), "utf8")),
    );
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        panel: p.title,
        query: expandQuery(t.expr, { rateInterval: "1m", namespace: ns.name, hpa: ".*" }),
      })),
    );
    expect(queries.length).toBeGreaterThanOrEqual(15);

    let empty: string[] = [];
    await waitFor(
      "every panel query to return series",
      async () => {
        // bursts of identical requests, so some join a query already in flight
        await Promise.all(Array.from({ length: 8 }, () => adapterGet(loadPath)));
        empty = [];
        for (const q of queries) if ((await seriesCount(q.query)) === 0) empty.push(`${q.panel}: ${q.query}`);
        return empty.length === 0;
      },
      { timeoutMs: 150_000, intervalMs: 3_000 },
    ).catch(() => undefined);
    expect(empty).toEqual([]);
  }, 300_000);

  it("the alert rules load into Prometheus and evaluate without error", async () => {
    const rules = await waitFor(
      "the prom-hpa rule group evaluated",
      async () => {
        const group = rulesAnswerSchema
          .parse(await prometheus("/api/v1/rules"))
          .data.groups.find((g) => g.name === "prom-hpa");
        return group !== undefined && group.rules.every((r) => r.health !== "unknown")
          ? group.rules
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(rules.filter((r) => r.health !== "ok")).toEqual([]);
    expect(rules.length).toBe(8);
  }, 60_000);
});
