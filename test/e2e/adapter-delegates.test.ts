// One APIService, three providers: our adapter registered with the aggregator serves external
// metrics from two real Prometheus servers (the harness's, and a second one this file starts,
// as a `backends:` entry sent an X-Scope-OrgID header) and forwards a third metric to a
// delegate — a second prom-hpa adapter with other rules, standing in for KEDA's — with the
// caller's identity in front-proxy headers and our front-proxy client certificate. Stopping the
// delegate makes only its metric 503; stopping the second Prometheus, only its metric.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig, type MetricsDiscoveryConfig } from "../../src/adapter/config/index.js";
import type { RunningAdapter } from "../../src/adapter/index.js";
import { findPrometheus } from "../../scripts/cluster/binaries.js";
import { KubectlError } from "../../scripts/cluster/handle.js";
import { freePort } from "../../scripts/cluster/ports.js";
import { startProcess, type Component } from "../../scripts/cluster/process.js";
import { okProbe } from "../../scripts/cluster/http.js";
import { prometheusArgs } from "../../scripts/cluster/render.js";
import {
  resourceRulesYaml,
  startRegisteredAdapter,
  startServingAdapter,
  type RegisteredAdapter,
} from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

function config(yaml: string): MetricsDiscoveryConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

/** A /metrics endpoint serving fixed samples. */
async function exporter(text: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port };
}

const externalList = z.object({
  items: z.array(z.object({ metricName: z.string(), value: z.string() })),
});

async function externalValue(ns: string, metric: string): Promise<string | undefined> {
  try {
    const list = externalList.parse(
      await getRaw(cluster, `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/${metric}`),
    );
    return list.items[0]?.value;
  } catch {
    return undefined;
  }
}

async function externalError(ns: string, metric: string): Promise<string> {
  try {
    await getRaw(cluster, `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/${metric}`);
    return "200";
  } catch (err) {
    if (err instanceof KubectlError) return err.stderr.trim();
    throw err;
  }
}

describe("delegates and backends behind one APIService", () => {
  const ns = useNamespace(() => cluster, "delegates");
  const servers: Server[] = [];
  let promB: Component | undefined;
  let promBDir = "";
  let sdFile = "";
  let delegate: RunningAdapter | undefined;
  let ours: RegisteredAdapter | undefined;

  beforeAll(async () => {
    // The harness's Prometheus scrapes alpha_queue_depth through the pods job's file_sd.
    const a = await exporter('alpha_queue_depth{queue="a"} 3\n');
    servers.push(a.server);
    sdFile = join(cluster.info.sdDir, `pods-delegates-${process.pid}.json`);
    await writeFile(
      sdFile,
      JSON.stringify([
        {
          targets: [`127.0.0.1:${a.port}`],
          labels: { namespace: ns.name, pod: "exporter-a", container: "c" },
        },
      ]),
    );

    // A second Prometheus with its own data dir, scraping beta_queue_depth.
    const b = await exporter('beta_queue_depth{queue="b"} 7\n');
    servers.push(b.server);
    promBDir = join(cluster.info.runDir, `prometheus-b-${process.pid}`);
    await mkdir(join(promBDir, "data"), { recursive: true });
    const promBPort = await freePort();
    await writeFile(
      join(promBDir, "prometheus.yml"),
      [
        "global: {scrape_interval: 1s, scrape_timeout: 1s}",
        "scrape_configs:",
        "- job_name: tenant-b",
        `  static_configs: [{targets: ["127.0.0.1:${b.port}"], labels: {namespace: ${ns.name}}}]`,
        "",
      ].join("\n"),
    );
    promB = startProcess({
      name: "prometheus-b",
      command: findPrometheus(),
      args: prometheusArgs({
        configFile: join(promBDir, "prometheus.yml"),
        dataDir: join(promBDir, "data"),
        port: promBPort,
      }),
      logFile: join(cluster.info.logsDir, `prometheus-b-${process.pid}.log`),
    });
    const promBUrl = `http://127.0.0.1:${promBPort}`;
    await promB.waitHealthy({ check: okProbe(`${promBUrl}/-/ready`), timeoutMs: 30_000 });

    // The delegate: another prom-hpa adapter on the harness's Prometheus with other rules.
    // It trusts the cluster's front-proxy CA (from extension-apiserver-authentication).
    const started = await startServingAdapter(cluster, {
      namespace: ns.name,
      service: "keda-standin",
      prometheusUrl: cluster.prometheusUrl,
      config: config(`
externalRules:
- seriesQuery: '{__name__="alpha_queue_depth",namespace!=""}'
  resources: {namespaced: false}
  name: {matches: "^alpha_(.*)$", as: "keda_$1"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) * 10'
`),
    });
    delegate = started.adapter;

    const caBundle = JSON.stringify(started.caPem);
    ours = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      prometheusUrl: cluster.prometheusUrl,
      config: config(`
delegates:
- name: keda
  url: ${delegate.url}
  caBundle: ${caBundle}
  apis: [external]
  metrics: "keda_.*"
backends:
- name: tenant-b
  url: ${promBUrl}
  headers: {X-Scope-OrgID: team-b}
externalRules:
- seriesQuery: '{__name__="alpha_queue_depth",namespace!=""}'
  resources: {namespaced: false}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
- seriesQuery: '{__name__="beta_queue_depth",namespace!=""}'
  resources: {namespaced: false}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
  backend: tenant-b
${resourceRulesYaml()}
`),
      extra: {
        delegateClientCertFile: cluster.info.pki.frontProxyClient.certFile,
        delegateClientKeyFile: cluster.info.pki.frontProxyClient.keyFile,
        delegateRefreshIntervalMs: 1_000,
      },
    });
  }, 180_000);

  afterAll(async () => {
    await ours?.stop();
    await delegate?.stop();
    await promB?.stop();
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    if (sdFile) await rm(sdFile, { force: true });
    if (promBDir) await rm(promBDir, { recursive: true, force: true });
  });

  it("lists and serves a metric from each Prometheus and one from the delegate", async () => {
    const names = await waitFor(
      "all three metrics in external discovery",
      async () => {
        const list = z
          .object({ resources: z.array(z.object({ name: z.string() })) })
          .parse(await getRaw(cluster, "/apis/external.metrics.k8s.io/v1beta1"));
        const n = list.resources.map((r) => r.name).sort();
        return ["alpha_queue_depth", "beta_queue_depth", "keda_queue_depth"].every((m) => n.includes(m)) && n;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(names).toEqual(["alpha_queue_depth", "beta_queue_depth", "keda_queue_depth"]);
    expect(await waitFor("alpha", () => externalValue(ns.name, "alpha_queue_depth"))).toBe("3");
    expect(await waitFor("beta", () => externalValue(ns.name, "beta_queue_depth"))).toBe("7");
    expect(await waitFor("keda", () => externalValue(ns.name, "keda_queue_depth"))).toBe("30");
  }, 120_000);

  it("answers 503 naming the delegate for its metric only when it stops; ours stay 200", async () => {
    await delegate?.stop();
    delegate = undefined;
    const message = await waitFor("keda metric 503", async () => {
      const e = await externalError(ns.name, "keda_queue_depth");
      return e.includes("ServiceUnavailable") && e;
    });
    expect(message).toContain("delegate keda unreachable");
    expect(message).not.toContain("127.0.0.1");
    expect(await externalValue(ns.name, "alpha_queue_depth")).toBe("3");
    expect(await externalValue(ns.name, "beta_queue_depth")).toBe("7");
    expect(ours?.adapter.ready()).toBe(true);
  }, 60_000);

  it("answers 503 naming the backend for its metric only when the second Prometheus stops", async () => {
    await promB?.stop();
    const message = await waitFor("beta metric 503", async () => {
      const e = await externalError(ns.name, "beta_queue_depth");
      return e.includes("ServiceUnavailable") && e;
    });
    expect(message).toContain("backend tenant-b: Prometheus unreachable");
    expect(await externalValue(ns.name, "alpha_queue_depth")).toBe("3");
    expect(ours?.adapter.ready()).toBe(true);
  }, 60_000);
});
