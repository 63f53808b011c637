// The adapter against the real control plane and a real Prometheus: registered through four
// APIServices behind an ExternalName Service with a real caBundle, read through the
// aggregator by kubectl and by kube-controller-manager's own HPA controller.
//
// Prometheus is reached through a TCP relay this file controls, so "Prometheus stopped" can be
// asserted without stopping the Prometheus other test files share.
import { request } from "node:https";
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/adapter/config/index.js";
import type { RunningAdapter } from "../../src/adapter/index.js";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { KubectlError } from "../../scripts/cluster/handle.js";
import { resourceRulesYaml, startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw, listPods, sampleDeployment } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const CONFIG = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^(.*)_total$"
    as: "\${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
- seriesQuery: 'up{job="pods",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^up$"
    as: "pod_up"
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'up{job="pods",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^up$"
    as: "pod_nan"
  metricsQuery: '(sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) / 0) * 0'
externalRules:
- seriesQuery: 'up{job="pods",namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name:
    matches: "^up$"
    as: "pods_up_total"
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
${resourceRulesYaml()}`;

/** A TCP relay to Prometheus that can be cut and restored on the same port. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: URL) {}
  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

const metricValueListSchema = z.object({
  kind: z.literal("MetricValueList"),
  items: z.array(
    z.object({
      describedObject: z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() }),
      value: z.string(),
    }),
  ),
});

/** A GET straight to the adapter (no credentials), for its open health endpoints and 401s. */
function get(
  port: number,
  path: string,
  auth: { headers?: Record<string, string>; cert?: string; key?: string } = {},
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, rejectUnauthorized: false, agent: false, ...auth },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** The Status kubectl printed for a failed `get --raw` (it shows the server's message). */
async function rawError(args: string[]): Promise<string> {
  try {
    await cluster.kubectl(["get", "--raw", ...args]);
  } catch (err) {
    if (err instanceof KubectlError) return err.stderr;
    throw err;
  }
  throw new Error(`kubectl get --raw ${args.join(" ")} succeeded`);
}

function quantity(s: string): number {
  const m = /^(-?[0-9.]+)([munkMGTPE]|Ki|Mi|Gi)?$/.exec(s);
  if (!m) throw new Error(`not a quantity: ${s}`);
  const scale: Record<string, number> = {
    "": 1,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
  };
  return Number(m[1]) * (scale[m[2] ?? ""] ?? NaN);
}

describe("prom-hpa adapter behind the aggregator", () => {
  const ns = useNamespace(() => cluster, "adapter");
  let registered: RegisteredAdapter | undefined;
  let adapter: RunningAdapter | undefined;
  let runner: PodRunner | undefined;
  const relay = new Relay(new URL(cluster.info.prometheusUrl));

  beforeAll(async () => {
    const config = parseConfig(CONFIG);
    if (!config.ok) throw new Error(`test config: ${JSON.stringify(config.issues)}`);
    await relay.start();
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: sampleDeployment("web", 1) });
    runner = await cluster.startPodRunner({ namespace: ns.name, labelSelector: "app=web", burnMs: 1 });
    await runner.waitForRunning(1);
    registered = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      config: config.config,
      prometheusUrl: `http://127.0.0.1:${relay.port}`,
      timeoutMs: 2_000,
      // What the HPA controller's service account needs, as the adapter's install manifests grant it.
      hpaReaderRole: "e2e-metrics-reader",
    });
    adapter = registered.adapter;
  }, 180_000);

  afterAll(async () => {
    await registered?.stop();
    await runner?.stop();
    await relay.stop();
  });

  it("lists the discovered metrics in discovery, as resource/metric", async () => {
    const list = await waitFor("pods/pod_up in discovery", async () => {
      const l = z
        .object({
          resources: z.array(
            z.object({
              name: z.string(),
              singularName: z.string(),
              namespaced: z.boolean(),
              kind: z.string(),
              verbs: z.array(z.string()),
            }),
          ),
        })
        .parse(await getRaw(cluster, "/apis/custom.metrics.k8s.io/v1beta2"));
      return l.resources.some((r) => r.name === "pods/pod_up") ? l : undefined;
    });
    expect(list.resources).toContainEqual({
      name: "pods/pod_up",
      singularName: "",
      namespaced: true,
      kind: "MetricValueList",
      verbs: ["get"],
    });
    const external = (await getRaw(cluster, "/apis/external.metrics.k8s.io/v1beta1")) as {
      resources: { name: string }[];
    };
    expect(external.resources.map((r) => r.name)).toContain("pods_up_total");
  });

  it("merges its OpenAPI into kube-apiserver's v2 and v3 documents", async () => {
    // A schema kube-apiserver cannot merge breaks its /openapi/v2 for everyone (and with it
    // kubectl apply's validation), so the whole merged document must still be served.
    await waitFor(
      "our definitions in kube-apiserver's /openapi/v2",
      async () =>
        (await cluster.kubectl(["get", "--raw", "/openapi/v2"], { timeoutMs: 120_000 })).includes(
          "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList",
        )
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    // The aggregator refreshes its OpenAPI v3 index on its own schedule, after v2: wait for it.
    const v3Index = z.object({ paths: z.record(z.string(), z.object({ serverRelativeURL: z.string() })) });
    const wanted = [
      "apis/custom.metrics.k8s.io/v1beta2",
      "apis/external.metrics.k8s.io/v1beta1",
      "apis/metrics.k8s.io/v1beta1",
    ];
    const paths = await waitFor(
      "our groups in kube-apiserver's /openapi/v3 index",
      async () => {
        const keys = Object.keys(v3Index.parse(await getRaw(cluster, "/openapi/v3")).paths);
        return wanted.every((p) => keys.includes(p)) ? keys : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(paths).toEqual(expect.arrayContaining(wanted));
    const explained = await waitFor(
      "kubectl explain podmetrics",
      () => cluster.kubectl(["explain", "podmetrics.containers"]).catch(() => undefined),
      { timeoutMs: 60_000 },
    );
    expect(explained).toContain("metrics.k8s.io");
  });

  it("answers pods/* with the values Prometheus holds for those pods", async () => {
    const pods = (await listPods(cluster, ns.name, "app=web"))
      .filter((p) => p.phase === "Running" && !p.terminating)
      .map((p) => p.name);
    const fromProm = await waitFor(
      "Prometheus scrapes the pod",
      async () => {
        const samples = await cluster.promQuery(`sum(up{job="pods",namespace="${ns.name}"}) by (pod)`);
        return samples.length === pods.length ? samples : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(fromProm.map((s) => s.labels.pod).sort()).toEqual(pods.sort());
    // Discovery relists every 2 s: the metric is served once it has seen the pod's series.
    const list = await waitFor(
      "pods/*/pod_up answered for the pod",
      async () => {
        const parsed = metricValueListSchema.parse(
          await getRaw(
            cluster,
            `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up?labelSelector=app%3Dweb`,
          ),
        );
        return parsed.items.length === pods.length ? parsed : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(list.items.map((i) => i.describedObject.name).sort()).toEqual(pods.sort());
    for (const item of list.items) {
      const prom = fromProm.find((s) => s.labels.pod === item.describedObject.name);
      expect(item.describedObject).toMatchObject({ kind: "Pod", namespace: ns.name });
      expect(quantity(item.value)).toBe(prom?.value);
    }
    // A rate over a counter the workload only exports once it has served: it appears in
    // discovery after the next relist, and answers for every pod.
    await runner!.waitForRunning(1);
    for (let i = 0; i < 5; i++) await fetch(`${runner!.proxyUrl}/`).then((r) => r.text());
    const rate = await waitFor(
      "http_requests_per_second served",
      async () => {
        const out = await getRaw(
          cluster,
          `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods/*/http_requests_per_second`,
        ).catch(() => undefined);
        const parsed = out === undefined ? undefined : metricValueListSchema.parse(out);
        // Keep the counter moving: its first samples give a rate of 0.
        await fetch(`${runner!.proxyUrl}/`).then((r) => r.text());
        return parsed !== undefined &&
          parsed.items.length === pods.length &&
          parsed.items.every((i) => quantity(i.value) > 0)
          ? parsed
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(rate.items.map((i) => i.describedObject.name).sort()).toEqual(pods.sort());
  });

  it("answers an external metric and kubectl top pods from metrics.k8s.io", async () => {
    const ext = z
      .object({
        kind: z.literal("ExternalMetricValueList"),
        items: z.array(z.object({ metricName: z.string(), value: z.string() })),
      })
      .parse(
        await getRaw(cluster, `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods_up_total`),
      );
    expect(ext.items).toHaveLength(1);
    expect(ext.items[0]?.metricName).toBe("pods_up_total");
    const top = await waitFor("kubectl top pods shows the pod", async () => {
      const out = await cluster
        .kubectl(["top", "pods", "--no-headers"], { namespace: ns.name })
        .catch(() => "");
      return out.trim() === "" ? undefined : out;
    });
    const pods = (await listPods(cluster, ns.name, "app=web")).map((p) => p.name);
    expect(
      top
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(expect.arrayContaining(pods.slice(0, 1)));
    expect(top).toMatch(/\d+m\s+\d+Mi/);
  });

  it("answers 404 for an unknown metric and 400 for a malformed selector, as Status objects", async () => {
    expect(
      await rawError([`/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/no_such_metric`]),
    ).toMatch(/NotFound|not found|could not find/i);
    expect(
      await rawError([
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up?labelSelector=app%3D%3D%3D`,
      ]),
    ).toMatch(/BadRequest|labelSelector/);
  });

  it("refuses unauthenticated requests with 401 and unauthorized users with 403", async () => {
    const status = await get(
      adapter!.port,
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`,
    );
    expect(status.code).toBe(401);
    expect(JSON.parse(status.body)).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    const forbidden = await rawError([
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`,
      "--as=e2e-nobody",
    ]);
    expect(forbidden).toMatch(/Forbidden/);
    expect(forbidden).toContain(
      'User "e2e-nobody" cannot get resource "pods/pod_up" in API group "custom.metrics.k8s.io"',
    );
  });

  it("authenticates bearer tokens by TokenReview and client certificates by the cluster CA, and authorizes by SubjectAccessReview", async () => {
    const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`;
    await cluster.kubectl(["create", "serviceaccount", "metrics-reader"], { namespace: ns.name });
    const token = (
      await cluster.kubectl(["create", "token", "metrics-reader", "--duration=10m"], { namespace: ns.name })
    ).trim();
    const bearer = { headers: { Authorization: `Bearer ${token}` } };
    const denied = await get(adapter!.port, path, bearer);
    expect(denied.code).toBe(403);
    expect(JSON.parse(denied.body).message).toContain(
      `User "system:serviceaccount:${ns.name}:metrics-reader" cannot get resource "pods/pod_up"`,
    );
    expect((await get(adapter!.port, path, { headers: { Authorization: "Bearer not-a-token" } })).code).toBe(
      401,
    );

    await cluster.kubectl(
      [
        "create",
        "rolebinding",
        "metrics-reader",
        "--clusterrole=e2e-metrics-reader",
        `--serviceaccount=${ns.name}:metrics-reader`,
      ],
      { namespace: ns.name },
    );
    // Denials are cached for 10 s, as kube's delegated authorizer does.
    const allowed = await waitFor(
      "the bound service account is allowed",
      async () => {
        const r = await get(adapter!.port, path, bearer);
        return r.code === 200 ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(metricValueListSchema.parse(JSON.parse(allowed.body)).items.length).toBeGreaterThan(0);

    // kubernetes-admin's client certificate (O=system:masters), signed by the client CA the
    // extension-apiserver-authentication ConfigMap publishes.
    const { readFile } = await import("node:fs/promises");
    const admin = cluster.info.pki.admin;
    const byCert = await get(adapter!.port, path, {
      cert: await readFile(admin.certFile, "utf8"),
      key: await readFile(admin.keyFile, "utf8"),
    });
    expect(byCert.code).toBe(200);
  });

  it("drops NaN samples: a pod whose value is NaN is missing from the list, not 0", async () => {
    const base = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*`;
    await waitFor(
      "pod_up served",
      async () =>
        metricValueListSchema.parse(await getRaw(cluster, `${base}/pod_up`)).items.length > 0
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    expect(metricValueListSchema.parse(await getRaw(cluster, `${base}/pod_nan`)).items).toEqual([]);
  });

  it("answers a 100 KB labelSelector through the aggregator (it once got no answer at all)", async () => {
    const values = Array.from({ length: 9_500 }, (_, i) => `value-${i}`).join(",");
    const selector = `app in (web,${values})`;
    expect(selector.length).toBeGreaterThan(100_000);
    const base = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`;
    await waitFor(
      "pod_up served",
      async () => (await getRaw(cluster, base).catch(() => undefined)) ?? undefined,
      {
        timeoutMs: 30_000,
      },
    );
    const path = `${base}?labelSelector=${encodeURIComponent(selector)}`;
    const list = metricValueListSchema.parse(await getRaw(cluster, path));
    expect(list.items.length).toBeGreaterThan(0);
  });

  it("serves 3 × 10,000 requests with no answer other than 200 while Prometheus is healthy", async () => {
    const { readFile } = await import("node:fs/promises");
    const { default: autocannon } = await import("autocannon");
    const admin = cluster.info.pki.admin;
    const tls = { cert: await readFile(admin.certFile, "utf8"), key: await readFile(admin.keyFile, "utf8") };
    const paths = [
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`,
      `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods_up_total`,
      `/apis/metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods`,
    ];
    for (const path of paths) {
      const result = await autocannon({
        url: `https://127.0.0.1:${adapter!.port}${path}`,
        amount: 10_000,
        connections: 20,
        timeout: 20,
        tlsOptions: { ...tls, rejectUnauthorized: false },
      });
      expect({ path, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts }).toEqual({
        path,
        non2xx: 0,
        errors: 0,
        timeouts: 0,
      });
      expect(result["2xx"]).toBe(10_000);
    }
  }, 240_000);

  it("answers 503 and turns unready while Prometheus is unreachable, and serves again when it is back", async () => {
    await relay.stop();
    const err = await waitFor(
      "503 from the adapter",
      async () => {
        const e = await rawError([
          `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`,
        ]).catch(() => "");
        return /ServiceUnavailable|unavailable|503/i.test(e) ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(err).toMatch(/ServiceUnavailable|unavailable/i);
    // Any authorised reader sees what failed, never where Prometheus lives.
    expect(err).toContain("Prometheus unreachable");
    expect(err).not.toContain(`127.0.0.1:${relay.port}`);
    const readyz = await waitFor(
      "/readyz failing",
      async () => {
        const r = await get(adapter!.port, "/readyz?verbose");
        return r.code === 500 ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(readyz.body).toContain("[-]metrics-backend failed");
    expect(readyz.body).toContain("[+]informer-sync ok");
    await relay.start();
    await waitFor(
      "served again",
      async () => {
        const out = await getRaw(
          cluster,
          `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/pod_up`,
        ).catch(() => undefined);
        return out !== undefined && metricValueListSchema.parse(out).items.length > 0 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await waitFor(
      "/readyz ok again",
      async () => ((await get(adapter!.port, "/readyz")).body === "ok" ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
  });

  it("lets kube-controller-manager's HPA controller scale a Deployment on a custom pods metric and on an external metric", async () => {
    const hpa = await cluster.startHpaController({ syncPeriodSeconds: 2, downscaleStabilizationSeconds: 0 });
    try {
      // pod_up is 1 per pod; a target average of 500m wants twice the pods, up to maxReplicas.
      const manifest = (name: string, metric: unknown) =>
        JSON.stringify({
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: { name },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
            minReplicas: 1,
            maxReplicas: 3,
            metrics: [metric],
          },
        });
      await cluster.kubectl(["apply", "-f", "-"], {
        namespace: ns.name,
        input: manifest("web-pods", {
          type: "Pods",
          pods: { metric: { name: "pod_up" }, target: { type: "AverageValue", averageValue: "500m" } },
        }),
      });
      const replicas = async () =>
        Number(
          await cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"], {
            namespace: ns.name,
          }),
        );
      await waitFor(
        "Deployment scaled to 3 on pod_up",
        async () => ((await replicas()) === 3 ? true : undefined),
        { timeoutMs: 120_000 },
      );
      const status = JSON.parse(
        await cluster.kubectl(["get", "hpa", "web-pods", "-o", "json"], { namespace: ns.name }),
      ) as { status: { currentMetrics?: { pods?: { current: { averageValue: string } } }[] } };
      expect(status.status.currentMetrics?.[0]?.pods?.current.averageValue).toBeDefined();

      // External: the same Deployment driven by pods_up_total from 1 replica.
      await cluster.kubectl(["delete", "hpa", "web-pods"], { namespace: ns.name });
      await cluster.kubectl(["scale", "deployment/web", "--replicas=1"], { namespace: ns.name });
      await runner!.waitForRunning(1);
      await cluster.kubectl(["apply", "-f", "-"], {
        namespace: ns.name,
        input: manifest("web-external", {
          type: "External",
          external: {
            metric: { name: "pods_up_total" },
            target: { type: "AverageValue", averageValue: "500m" },
          },
        }),
      });
      await waitFor(
        "Deployment scaled to 3 on pods_up_total",
        async () => ((await replicas()) === 3 ? true : undefined),
        { timeoutMs: 120_000 },
      );
      await cluster.kubectl(["delete", "hpa", "web-external"], { namespace: ns.name });
    } finally {
      await hpa.stop();
    }
  });
});
