// A rules file changed while the adapter serves: a valid version applies without a restart and
// without one failed request; an invalid one is refused, the old rules stay, /readyz?verbose
// warns but stays ready, and /metrics counts it.
import { request } from "node:https";
import { mkdtemp, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/adapter/config/index.js";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { resourceRulesYaml, startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw, sampleDeployment } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const rule = (as: string) => `- seriesQuery: 'up{job="pods",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^up$", as: "${as}"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`;
// resourceRules too: the registration waits for all four APIServices, metrics.k8s.io included.
const V1 = `rules:\n${rule("pod_up")}${resourceRulesYaml()}`;
const V2 = `rules:\n${rule("pod_up")}${rule("pod_alive")}${resourceRulesYaml()}`;

function get(
  port: number,
  path: string,
  tls: { cert: string; key: string },
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, rejectUnauthorized: false, ...tls }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rules that change while the adapter runs", () => {
  const ns = useNamespace(() => cluster, "reload");
  let registered: RegisteredAdapter | undefined;
  let runner: PodRunner | undefined;
  let file = "";

  beforeAll(async () => {
    file = join(await mkdtemp(join(tmpdir(), "prom-hpa-rules-")), "config.yaml");
    await writeFile(file, V1);
    const config = parseConfig(V1);
    if (!config.ok) throw new Error(JSON.stringify(config.issues));
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: sampleDeployment("web", 1) });
    runner = await cluster.startPodRunner({ namespace: ns.name, labelSelector: "app=web", burnMs: 1 });
    await runner.waitForRunning(1);
    registered = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      service: "prom-hpa-reload",
      config: config.config,
      configFile: { path: file, text: V1, pollIntervalMs: 500 },
      prometheusUrl: cluster.info.prometheusUrl,
    });
  }, 180_000);

  afterAll(async () => {
    await registered?.stop();
    await runner?.stop();
  });

  it("applies a valid new version with no failed request, and refuses an invalid one keeping the old rules", async () => {
    const admin = cluster.info.pki.admin;
    const tls = { cert: await readFile(admin.certFile, "utf8"), key: await readFile(admin.keyFile, "utf8") };
    const port = registered!.adapter.port;
    const base = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*`;
    await waitFor(
      "pod_up served",
      async () => ((await get(port, `${base}/pod_up`, tls)).code === 200 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    // A client polling all the while: every answer must be 200.
    const codes: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) codes.push((await get(port, `${base}/pod_up`, tls)).code);
    })();
    try {
      // As the kubelet updates a ConfigMap: the new file swapped in whole.
      await writeFile(`${file}.new`, V2);
      await rename(`${file}.new`, file);
      await waitFor(
        "pod_alive served after the reload",
        async () =>
          (await getRaw(cluster, `${base}/pod_alive`).catch(() => undefined)) !== undefined
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      await writeFile(
        `${file}.new`,
        "rules:\n- seriesQuery: up\n  metricsQuery: x\n  name: {matches: '(a'}\n",
      );
      await rename(`${file}.new`, file);
      const readyz = await waitFor(
        "the refusal shown in /readyz?verbose",
        async () => {
          const r = await get(port, "/readyz?verbose", tls);
          return r.body.includes("rules-reload ok (warning") ? r : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(readyz.code).toBe(200);
      expect(readyz.body).toContain("rules[0].name.matches");
      // The old (V2) rules are still in force.
      expect(await getRaw(cluster, `${base}/pod_alive`)).toBeDefined();
    } finally {
      polling = false;
      await poller;
    }
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter((c) => c !== 200)).toEqual([]);
    const metrics = (await get(port, "/metrics", tls)).body;
    expect(metrics).toMatch(/prom_hpa_adapter_config_reloads_total\{result="applied"\} 1/);
    expect(metrics).toMatch(/prom_hpa_adapter_config_reloads_total\{result="invalid"\} 1/);
  }, 120_000);
});
