// The local control plane and Prometheus harness does what e2e tests and the demo rely on:
// the pinned release, kwok nodes running pods, the aggregation layer as in production, the
// pod runner feeding Prometheus, and bad setups failing fast with a clear message.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { REPO_ROOT, ensureKubeBinaries } from "../../scripts/cluster/binaries.js";
import { startCluster } from "../../scripts/cluster/cluster.js";
import { freePort, isPortFree, PortInUseError } from "../../scripts/cluster/ports.js";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw, listPods, sampleDeployment } from "./support/kube.js";
import { createNamespace, useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const pinnedVersion = /^KUBE_VERSION=(\S+)$/m.exec(
  readFileSync(join(REPO_ROOT, "scripts", "kube", "versions.env"), "utf8"),
)?.[1];

describe("the control plane", () => {
  const ns = useNamespace(() => cluster, "cp");

  it("kubectl version shows the pinned release for client and server", async () => {
    const out = z
      .object({
        clientVersion: z.object({ gitVersion: z.string() }),
        serverVersion: z.object({ gitVersion: z.string() }),
      })
      .parse(JSON.parse(await cluster.kubectl(["version", "-o", "json"])));
    expect(pinnedVersion).toMatch(/^v1\.3[67]\.\d+$/);
    expect(out.clientVersion.gitVersion).toBe(pinnedVersion);
    expect(out.serverVersion.gitVersion).toBe(pinnedVersion);
  });

  it("kubectl get nodes lists the kwok nodes, all Ready", async () => {
    const out = await cluster.kubectl(["get", "nodes", "--no-headers"]);
    const rows = out
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[0]).sort()).toEqual([...cluster.info.nodes].sort());
    expect(rows.map((r) => r[1])).toEqual(cluster.info.nodes.map(() => "Ready"));
  });

  it("a Deployment scaled to 3 has 3 Running pods with IPs, and scaled to 1 has 1", async () => {
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: sampleDeployment("scale", 1) });
    const running = (n: number) => async () => {
      const pods = await listPods(cluster, ns.name, "app=scale");
      return pods.length === n && pods.every((p) => p.phase === "Running" && p.podIP !== "" && !p.terminating)
        ? pods
        : undefined;
    };
    await waitFor("1 Running pod", running(1));
    await cluster.kubectl(["scale", "deployment/scale", "--replicas=3"], { namespace: ns.name });
    const three = await waitFor("3 Running pods", running(3));
    expect(new Set(three.map((p) => p.podIP)).size).toBe(3);
    expect(three.every((p) => cluster.info.nodes.includes(p.nodeName))).toBe(true);
    await cluster.kubectl(["scale", "deployment/scale", "--replicas=1"], { namespace: ns.name });
    const one = await waitFor("1 pod left", running(1));
    expect(one).toHaveLength(1);
  });
});

describe("kube-controller-manager's HPA controller", () => {
  const ns = useNamespace(() => cluster, "hpa");

  it("is off in the shared cluster and can be started beside it with its flags, acting as its own service account", async () => {
    expect(cluster.info.hpaController).toBe(false);
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: sampleDeployment("target", 1) });
    const hpa = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "target" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "target" },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
          },
        ],
      },
    };
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: JSON.stringify(hpa) });
    const controller = await cluster.startHpaController({
      syncPeriodSeconds: 1,
      tolerance: 0.1,
      downscaleStabilizationSeconds: 10,
    });
    try {
      // No metrics API is registered yet, so the controller reports that it cannot get CPU:
      // proof that it synced this HPA and wrote its status.
      const scalingActive = await waitFor("the HPA controller to set ScalingActive", async () => {
        const out = z
          .object({
            status: z
              .object({
                conditions: z
                  .array(z.object({ type: z.string(), status: z.string(), reason: z.string() }))
                  .optional(),
              })
              .optional(),
          })
          .parse(
            JSON.parse(await cluster.kubectl(["get", "hpa", "target", "-o", "json"], { namespace: ns.name })),
          );
        return out.status?.conditions?.find((c) => c.type === "ScalingActive");
      });
      expect(scalingActive).toMatchObject({ status: "False", reason: "FailedGetResourceMetric" });
      expect(readFileSync(controller.logFile, "utf8")).toContain("Starting HPA controller");
    } finally {
      await controller.stop();
    }
  });
});

describe("the aggregation layer", () => {
  const ns = useNamespace(() => cluster, "agg");
  const group = `e2e-${randomBytes(3).toString("hex")}.prom-hpa.test`;
  const version = "v1";
  const apiServiceName = `${version}.${group}`;
  interface Seen {
    path: string;
    verifiedProxy: boolean;
    user?: string;
    groups: string[];
  }
  const seen: Seen[] = [];
  let server: Server | undefined;
  let port = 0;

  beforeAll(async () => {
    // As a real aggregated server does: trust identity headers only from a client certificate
    // that chains to the requestheader CA and carries an allowed name, both read from
    // kube-system/extension-apiserver-authentication.
    const cm = z
      .object({ data: z.record(z.string(), z.string()) })
      .parse(
        JSON.parse(
          await cluster.kubectl([
            "get",
            "configmap",
            "extension-apiserver-authentication",
            "-n",
            "kube-system",
            "-o",
            "json",
          ]),
        ),
      );
    const requestheaderCa = cm.data["requestheader-client-ca-file"];
    const allowedNames = z
      .array(z.string())
      .parse(JSON.parse(cm.data["requestheader-allowed-names"] ?? "[]"));
    const userHeaders = z
      .array(z.string())
      .parse(JSON.parse(cm.data["requestheader-username-headers"] ?? "[]"));
    const groupHeaders = z
      .array(z.string())
      .parse(JSON.parse(cm.data["requestheader-group-headers"] ?? "[]"));
    expect(requestheaderCa).toContain("BEGIN CERTIFICATE");
    expect(userHeaders).toEqual(["X-Remote-User"]);
    expect(groupHeaders).toEqual(["X-Remote-Group"]);
    expect(JSON.parse(cm.data["requestheader-extra-headers-prefix"] ?? "[]")).toEqual(["X-Remote-Extra-"]);

    const cert = await cluster.issueServingCert({ service: "e2e-api", namespace: ns.name });
    server = createHttpsServer(
      {
        key: cert.keyPem,
        cert: cert.certPem,
        ca: requestheaderCa,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const verifiedProxy =
          socket.authorized && peer.subject !== undefined && allowedNames.includes(String(peer.subject.CN));
        const header = (name: string) => req.headers[name.toLowerCase()];
        const user = header(userHeaders[0] ?? "");
        const groupsRaw = header(groupHeaders[0] ?? "");
        seen.push({
          path: req.url ?? "",
          verifiedProxy,
          user: typeof user === "string" ? user : undefined,
          // Node joins repeated headers with ", ".
          groups: (Array.isArray(groupsRaw)
            ? groupsRaw
            : typeof groupsRaw === "string"
              ? groupsRaw.split(",")
              : []
          ).map((g) => g.trim()),
        });
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (!verifiedProxy)
          return json(401, {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "Unauthorized",
            code: 401,
          });
        const gv = { groupVersion: `${group}/${version}`, version };
        if (req.url === `/apis/${group}/${version}`) {
          return json(200, {
            kind: "APIResourceList",
            apiVersion: "v1",
            groupVersion: gv.groupVersion,
            resources: [
              { name: "echoes", singularName: "echo", namespaced: true, kind: "Echo", verbs: ["get"] },
            ],
          });
        }
        if (req.url === "/apis")
          return json(200, {
            kind: "APIGroupList",
            apiVersion: "v1",
            groups: [{ name: group, versions: [gv], preferredVersion: gv }],
          });
        if (req.url === `/apis/${group}`)
          return json(200, {
            kind: "APIGroup",
            apiVersion: "v1",
            name: group,
            versions: [gv],
            preferredVersion: gv,
          });
        return json(404, {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
        });
      },
    );
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    port = typeof address === "object" && address !== null ? address.port : 0;

    const objects = [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "e2e-api", namespace: ns.name },
        spec: {
          type: "ExternalName",
          externalName: "127.0.0.1",
          ports: [{ name: "https", port, targetPort: port }],
        },
      },
      {
        apiVersion: "apiregistration.k8s.io/v1",
        kind: "APIService",
        metadata: { name: apiServiceName },
        spec: {
          group,
          version,
          service: { namespace: ns.name, name: "e2e-api", port },
          caBundle: Buffer.from(cert.caPem).toString("base64"),
          groupPriorityMinimum: 1000,
          versionPriority: 15,
        },
      },
    ];
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    });
  });

  afterAll(async () => {
    // APIService first: with its server gone, namespace deletion would hang on discovery.
    await cluster.kubectl(["delete", "apiservice", apiServiceName, "--ignore-not-found"]);
    // The aggregator keeps connections alive; close them or close() waits for their timeout.
    await new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it("an APIService backed by a loopback server through an ExternalName Service becomes Available", async () => {
    const condition = await waitFor(`APIService ${apiServiceName} Available=True`, async () => {
      const out = z
        .object({
          status: z
            .object({
              conditions: z
                .array(z.object({ type: z.string(), status: z.string(), message: z.string().optional() }))
                .optional(),
            })
            .optional(),
        })
        .parse(JSON.parse(await cluster.kubectl(["get", "apiservice", apiServiceName, "-o", "json"])));
      const available = out.status?.conditions?.find((c) => c.type === "Available");
      if (available?.status !== "True")
        throw new Error(`Available=${available?.status ?? "?"}: ${available?.message ?? ""}`);
      return available;
    });
    expect(condition.status).toBe("True");
  });

  it("kubectl get --raw reaches it with front-proxy identity headers that verify against the requestheader CA", async () => {
    seen.length = 0;
    const list = z
      .object({
        kind: z.string(),
        groupVersion: z.string(),
        resources: z.array(z.object({ name: z.string() })),
      })
      .parse(await getRaw(cluster, `/apis/${group}/${version}`));
    expect(list).toMatchObject({ kind: "APIResourceList", groupVersion: `${group}/${version}` });
    expect(list.resources.map((r) => r.name)).toEqual(["echoes"]);
    const ours = seen.filter((s) => s.path === `/apis/${group}/${version}` && s.user === "kubernetes-admin");
    expect(ours.length).toBeGreaterThanOrEqual(1);
    expect(ours[0]?.verifiedProxy).toBe(true);
    expect(ours[0]?.groups).toEqual(expect.arrayContaining(["system:masters", "system:authenticated"]));
  });

  it("the same headers without the front-proxy client certificate are refused", async () => {
    const res = await new Promise<number>((resolve, reject) => {
      import("node:https")
        .then(({ request }) => {
          const req = request(
            {
              host: "127.0.0.1",
              port,
              path: `/apis/${group}/${version}`,
              headers: { "X-Remote-User": "mallory", "X-Remote-Group": "system:masters" },
              ca: readFileSync(cluster.info.servingCaCertPath, "utf8"),
              servername: `e2e-api.${ns.name}.svc`,
            },
            (r) => {
              r.resume();
              resolve(r.statusCode ?? 0);
            },
          );
          req.on("error", reject);
          req.end();
        })
        .catch(reject);
    });
    expect(res).toBe(401);
  });
});

describe("the pod runner", () => {
  const ns = useNamespace(() => cluster, "runner");
  let runner: PodRunner | undefined;
  afterAll(async () => {
    await runner?.stop();
  });

  const upSeries = async (namespace: string) =>
    (await cluster.promQuery(`up{job="pods",namespace="${namespace}"}`)).filter((s) => s.value === 1);

  it("Prometheus reports up == 1 for each Running pod, labelled by namespace and pod, following the replica count", async () => {
    await cluster.kubectl(["apply", "-f", "-"], { namespace: ns.name, input: sampleDeployment("sample", 2) });
    runner = await cluster.startPodRunner({ namespace: ns.name, labelSelector: "app=sample", burnMs: 5 });
    const r = runner;
    for (const replicas of [2, 3, 1]) {
      if (replicas !== 2)
        await cluster.kubectl(["scale", "deployment/sample", `--replicas=${replicas}`], {
          namespace: ns.name,
        });
      await r.waitForRunning(replicas);
      const podNames = (await listPods(cluster, ns.name, "app=sample"))
        .filter((p) => p.phase === "Running" && !p.terminating)
        .map((p) => p.name)
        .sort();
      const series = await waitFor(
        `${replicas} up series in Prometheus`,
        async () => {
          const s = await upSeries(ns.name);
          return s.length === replicas &&
            (await cluster.promQuery(`up{job="pods",namespace="${ns.name}"}`)).length === replicas
            ? s
            : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(series.map((s) => s.labels.pod).sort()).toEqual(podNames);
      expect(series.every((s) => s.labels.namespace === ns.name && s.labels.container === "web")).toBe(true);
    }
  });

  it("exposes cAdvisor-named series for each pod, plus node totals for the default resource rules", async () => {
    const r = runner;
    if (!r) throw new Error("the previous test starts the runner");
    await r.waitForRunning(1);
    const pods = r.running().map((p) => p.pod);
    const cpu = await waitFor(
      "container_cpu_usage_seconds_total per pod",
      async () => {
        const s = await cluster.promQuery(
          `container_cpu_usage_seconds_total{namespace="${ns.name}",container!="",pod!=""}`,
        );
        return s.length === pods.length ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(cpu.map((s) => s.labels.pod).sort()).toEqual(pods);
    expect(
      cpu.every(
        (s) =>
          s.labels.container === "web" && cluster.info.nodes.includes(s.labels.node ?? "") && s.value > 0,
      ),
    ).toBe(true);
    const mem = await cluster.promQuery(
      `container_memory_working_set_bytes{namespace="${ns.name}",container!="",pod!=""}`,
    );
    expect(mem.map((s) => s.labels.pod).sort()).toEqual(pods);
    expect(mem.every((s) => s.value > 1024 * 1024)).toBe(true);
    const node = await cluster.promQuery(
      `container_cpu_usage_seconds_total{id="/",node="${r.running()[0]?.node ?? ""}"}`,
    );
    expect(node.length).toBeGreaterThanOrEqual(1);
  });

  it("spreads requests on its one address over the live processes, and load moves their metrics", async () => {
    const r = runner;
    if (!r) throw new Error("the first test starts the runner");
    await cluster.kubectl(["scale", "deployment/sample", "--replicas=2"], { namespace: ns.name });
    const live = await r.waitForRunning(2);
    const backends = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${r.proxyUrl}/`);
      expect(res.status).toBe(200);
      backends.add(res.headers.get("x-backend") ?? "");
      await res.text();
    }
    expect([...backends].sort()).toEqual(live.map((p) => p.pod).sort());
    const counted = await waitFor(
      "http_requests_total summed over the pods to reach 10",
      async () => {
        const s = await cluster.promQuery(`sum(http_requests_total{namespace="${ns.name}",code="200"})`);
        return (s[0]?.value ?? 0) >= 10 ? s[0]?.value : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(counted).toBeGreaterThanOrEqual(10);
  });
});

describe("bad setups fail fast with a clear message", () => {
  it("a port already in use is named", async () => {
    const holder = createNetServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", () => resolve()));
    try {
      const started = Date.now();
      const err = await startCluster({ ports: { "kube-apiserver": port } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PortInUseError);
      expect(String(err)).toContain(`port ${port} (kube-apiserver) is already in use`);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      holder.close();
    }
  });

  it("Go missing on a cold cache is reported before anything builds", async () => {
    const cache = mkdtempSync(join(tmpdir(), "prom-hpa-nogo-"));
    try {
      await expect(
        ensureKubeBinaries({ PATH: "/usr/bin:/bin", HOME: cache, PROM_HPA_CACHE: cache }),
      ).rejects.toThrow(/Go is not installed/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a component that is not healthy within its timeout is named with its log tail, and everything started is stopped", async () => {
    const ports = { etcd: await freePort(), prometheus: await freePort() };
    const runDir = mkdtempSync(join(tmpdir(), "prom-hpa-timeout-"));
    try {
      const err = await startCluster({ runDir, ports, timeoutsMs: { "kube-apiserver": 1 } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err)).toMatch(/kube-apiserver did not become healthy within 0s/);
      expect(String(err)).toContain(`last lines of ${join(runDir, "logs", "kube-apiserver.log")}`);
      expect(await isPortFree(ports.etcd)).toBe(true);
      expect(await isPortFree(ports.prometheus)).toBe(true);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});

// Keeps the helper exercised here too: a namespace made on the fly is ready for pods.
it("createNamespace gives a namespace whose default ServiceAccount exists", async () => {
  const ns = await createNamespace(cluster, "adhoc");
  try {
    expect(
      await cluster.kubectl(["get", "serviceaccount", "default", "-o", "name"], { namespace: ns.name }),
    ).toBe("serviceaccount/default\n");
  } finally {
    await ns.delete();
  }
});
