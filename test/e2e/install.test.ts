// Installed as users install: the prom-hpa image as pods on the real node, first from an
// overlay of manifests/ (`kubectl apply -k`), then from charts/prom-hpa (`helm install`) with
// a values file written as prometheus-adapter's users write theirs. The pods reach
// kube-apiserver with their ServiceAccount tokens through the `kubernetes` Service's address
// on the bridge, and Prometheus on the bridge; the aggregator routes to their pod IPs from the
// Service's EndpointSlices (no kube-proxy on this machine: nothing is added to its iptables).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { z } from "zod";
import { REPO_ROOT } from "../../scripts/cluster/binaries.js";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster.js";
import { KUBELET_JOBS } from "../../scripts/cluster/render.js";
import { BRIDGE, REAL_NODE_NAME } from "../../scripts/cluster/realnode/render.js";
import { buildImage, type BuiltImage } from "../../scripts/image/build.js";
import { HISTORY_ANNOTATION } from "../../src/autoscaler/index.js";
import {
  apiServicesUnavailable,
  isReady,
  METRICS_APISERVICES,
  listPods,
  pollThroughApiserver,
  splitImageRef,
  startCpuSystemExporter,
  startToReadySeconds,
  writeInstallOverlay,
  type PodItem,
} from "./support/install.js";
import { deploymentObject } from "./support/kube.js";
import { waitFor } from "./support/wait.js";

const run = promisify(execFile);
const canRun = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup/memory");

const NS = "prom-hpa";
const HELM_NS = "monitoring";
const LOAD_NS = "install-load";
const ADAPTER = "app.kubernetes.io/component=adapter";
const AUTOSCALER = "app.kubernetes.io/component=autoscaler";
const STABILIZATION_S = 40;
const CPU_SYSTEM_PATH = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${LOAD_NS}/pods/*/cpu_system`;

const leaseSchema = z.object({ spec: z.object({ holderIdentity: z.string().nullish() }) });
const historySchema = z.object({
  rec: z.array(z.tuple([z.number(), z.number()])),
  cur: z.number().nullable(),
});
const metricListSchema = z.object({
  items: z.array(z.object({ describedObject: z.object({ name: z.string() }), value: z.string() })),
});

describe.skipIf(!canRun)("installed as users install, on the real node", () => {
  let cluster: Cluster;
  let image: BuiltImage;
  let work = "";
  let exporter: Awaited<ReturnType<typeof startCpuSystemExporter>> | undefined;
  const figures: string[] = [];
  const note = (line: string) => {
    figures.push(line);
    console.log(`[install] ${line}`);
  };

  const readyPods = async (ns: string, selector: string, n: number): Promise<PodItem[]> =>
    waitFor(
      `${n} Ready ${selector} pods in ${ns}`,
      async () => {
        const pods = (await listPods(cluster, ns, selector)).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === n && pods.every(isReady) ? pods : undefined;
      },
      { timeoutMs: 400_000, intervalMs: 2000 },
    );
  const replicas = async (name: string) =>
    Number(await cluster.kubectl(["get", "deploy", name, "-n", LOAD_NS, "-o", "jsonpath={.spec.replicas}"]));
  const topPods = async (ns: string) =>
    waitFor(
      `kubectl top pods -n ${ns} through the adapter`,
      async () => {
        const out = await cluster.kubectl(["top", "pods", "-n", ns, "--no-headers"]);
        const rows = out.trim().split("\n").filter(Boolean);
        return rows.length > 0 && rows.every((r) => /\d+m\s+\d+Mi$/.test(r.trim())) ? rows : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 3000 },
    );

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, realNode: true, aggregatorRouting: "endpoints" });
    image = await buildImage(() => undefined);
    await mkdir(join(REPO_ROOT, ".run"), { recursive: true });
    // Inside the repository, so the overlays name manifests/ by a relative path.
    work = await mkdtemp(join(REPO_ROOT, ".run", "install-e2e-"));
    note(
      `load average at start: ${(await import("node:os"))
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
  });

  afterAll(async () => {
    await exporter?.stop();
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (figures.length > 0) console.log(`[install] figures:\n  ${figures.join("\n  ")}`);
  });

  describe("kubectl apply -k an overlay of manifests/", () => {
    let overlay = "";

    it("runs the adapter's two replicas and the autoscaler's on the real node, Ready through their probes, authenticated by their ServiceAccount tokens", async () => {
      overlay = await writeInstallOverlay({
        dir: join(work, "kustomize"),
        image: image.ref,
        prometheusUrl: cluster.info.bridgePrometheusUrl ?? "",
        nodeName: REAL_NODE_NAME,
        autoscalerFlags: {
          "--sync-period": "5s",
          "--upscale-delay": "0s",
          "--downscale-delay": "0s",
          "--downscale-stabilization": `${STABILIZATION_S}s`,
        },
      });
      expect(cluster.info.bridgePrometheusUrl).toMatch(/^http:\/\/10\.88\.0\.1:\d+$/);
      await cluster.kubectl(["apply", "-k", overlay]);
      const adapters = await readyPods(NS, ADAPTER, 2);
      const autoscalers = await readyPods(NS, AUTOSCALER, 2);
      for (const p of [...adapters, ...autoscalers]) {
        expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
        expect(p.status.podIP).toMatch(/^10\.88\.0\.\d+$/);
      }
      for (const [p, program] of [
        ...adapters.map((a) => [a, "adapter"] as const),
        ...autoscalers.map((a) => [a, "autoscaler"] as const),
      ]) {
        const started = startToReadySeconds(p);
        note(
          `${program} ${p.metadata.name}: container start → Ready ${String(started)}s (restarts ${p.status.containerStatuses?.[0]?.restartCount ?? "?"})`,
        );
        // The in-cluster path of src/kube/config.ts: the mounted token, KUBERNETES_SERVICE_HOST.
        const logs = await cluster.kubectl(["logs", p.metadata.name, "-n", NS]);
        expect(logs).toContain(`"user":"system:serviceaccount:${NS}:prom-hpa-${program}"`);
        expect(logs).toContain("permission check passed");
      }
    });

    it("makes the four APIServices Available through the Service's endpoints, the adapter pods' IPs", async () => {
      await waitFor(
        "the metrics APIServices Available",
        async () => (await apiServicesUnavailable(cluster)) === undefined,
        {
          timeoutMs: 240_000,
          intervalMs: 2000,
        },
      );
      const slices = z
        .object({
          items: z.array(
            z.object({ endpoints: z.array(z.object({ addresses: z.array(z.string()) })).nullish() }),
          ),
        })
        .parse(
          JSON.parse(
            await cluster.kubectl([
              "get",
              "endpointslices",
              "-n",
              NS,
              "-l",
              "kubernetes.io/service-name=prom-hpa-adapter",
              "-o",
              "json",
            ]),
          ),
        );
      const ips = slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
      const podIps = (await listPods(cluster, NS, ADAPTER)).map((p) => p.status.podIP ?? "").sort();
      expect(ips).toEqual(podIps);
    });

    it("serves kubectl top pods from the kubelet's cAdvisor series", async () => {
      const rows = await topPods(NS);
      expect(rows.filter((r) => r.startsWith("prom-hpa-adapter-"))).toHaveLength(2);
    });

    it("serves cpu_system to an HPA that the installed autoscaler's leader scales by", async () => {
      await cluster.kubectl(["create", "namespace", LOAD_NS]);
      const busy = deploymentObject("busy", 1) as { spec: { template: { spec: Record<string, unknown> } } };
      // A kwok Deployment: its pods are API objects only; the exporter plays their /metrics.
      busy.spec.template.spec.nodeSelector = { type: "kwok" };
      exporter = await startCpuSystemExporter(cluster, LOAD_NS, "busy");
      // 400m a pod against a target of 100m: 1 → 4 in one step, held there by maxReplicas.
      exporter.set(0.4);
      const hpa = {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "busy" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "busy" },
          minReplicas: 1,
          maxReplicas: 4,
          metrics: [
            {
              type: "Pods",
              pods: {
                metric: { name: "cpu_system" },
                target: { type: "AverageValue", averageValue: "100m" },
              },
            },
          ],
        },
      };
      await cluster.kubectl(["apply", "-n", LOAD_NS, "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: [busy, hpa] }),
      });
      const metric = await waitFor(
        "cpu_system of busy's pod through the aggregator",
        async () => {
          const list = metricListSchema.parse(
            JSON.parse(await cluster.kubectl(["get", "--raw", CPU_SYSTEM_PATH])),
          );
          return list.items.length > 0 ? list.items : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 2000 },
      );
      expect(metric[0]?.describedObject.name).toMatch(/^busy-/);
      await waitFor("busy scaled to 4", async () => (await replicas("busy")) === 4, {
        timeoutMs: 240_000,
        intervalMs: 1000,
      });
      const holder = leaseSchema.parse(
        JSON.parse(await cluster.kubectl(["get", "lease", "prom-hpa-autoscaler", "-n", NS, "-o", "json"])),
      ).spec.holderIdentity;
      expect((await listPods(cluster, NS, AUTOSCALER)).map((p) => p.metadata.name)).toContain(holder);
    });

    it("hands over when the leader pod is deleted, without scaling down before the stabilization window ends", async () => {
      const lease = async () =>
        leaseSchema.parse(
          JSON.parse(await cluster.kubectl(["get", "lease", "prom-hpa-autoscaler", "-n", NS, "-o", "json"])),
        ).spec.holderIdentity ?? "";
      const history = async () => {
        const text = z
          .object({ metadata: z.object({ annotations: z.record(z.string(), z.string()).nullish() }) })
          .parse(JSON.parse(await cluster.kubectl(["get", "hpa", "busy", "-n", LOAD_NS, "-o", "json"])))
          .metadata.annotations?.[HISTORY_ANNOTATION];
        return text === undefined ? undefined : historySchema.parse(JSON.parse(text));
      };
      // 10m a pod: the metric asks for 1; the window holds 4 until 40s after the last 4.
      exporter?.set(0.01);
      const held = await waitFor(
        "the leader recommending fewer than 4 while its window still holds a recommendation of 4",
        async () => {
          const h = await history();
          const fours = (h?.rec ?? []).filter(([, n]) => n === 4).map(([t]) => t);
          // The 1m rate falls over a minute: 3, 2, then 1; from the first, no 4 comes again.
          return h?.cur != null && h.cur < 4 && fours.length > 0 ? Math.max(...fours) : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 1000 },
      );
      const leader = await lease();
      await cluster.kubectl(["delete", "pod", leader, "-n", NS, "--wait=false"]);
      const deletedAt = Date.now();
      let newLeader = "";
      let newLeaderAt = 0;
      const downAt = await waitFor(
        "busy scaled in below 4",
        async () => {
          if (!newLeader) {
            const l = await lease();
            if (l && l !== leader) {
              newLeader = l;
              newLeaderAt = Date.now();
            }
          }
          return (await replicas("busy")) < 4 ? Date.now() : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      );
      note(
        `leader ${leader} deleted ${((deletedAt - held) / 1000).toFixed(1)}s after its last recommendation of 4; ${newLeader} leads ${((newLeaderAt - deletedAt) / 1000).toFixed(1)}s later; first scale-in ${((downAt - held) / 1000).toFixed(1)}s after that recommendation (window ${STABILIZATION_S}s)`,
      );
      expect(newLeader).not.toBe("");
      expect(newLeaderAt).toBeLessThan(downAt);
      expect(downAt - held).toBeGreaterThanOrEqual(STABILIZATION_S * 1000 - 1000);
    });

    it("keeps serving through a rolling update of the adapter: a client polling a metric sees no failed request", async () => {
      const poll = pollThroughApiserver(cluster, CPU_SYSTEM_PATH);
      await new Promise((r) => setTimeout(r, 3000));
      const t0 = Date.now();
      await cluster.kubectl(["rollout", "restart", "deployment/prom-hpa-adapter", "-n", NS]);
      await cluster.kubectl(["rollout", "status", "deployment/prom-hpa-adapter", "-n", NS, "--timeout=600s"]);
      // The old pods' preStop and shutdown, and the EndpointSlices settling.
      await new Promise((r) => setTimeout(r, 15_000));
      const result = await poll.stop();
      note(
        `rolling update: ${result.requests} requests in ${((Date.now() - t0) / 1000).toFixed(0)}s, ${result.failures.length} failed`,
      );
      expect(result.failures).toEqual([]);
      expect(result.requests).toBeGreaterThan(50);
      for (const p of await readyPods(NS, ADAPTER, 2))
        note(
          `adapter ${p.metadata.name} (rolled out): container start → Ready ${String(startToReadySeconds(p))}s`,
        );
    });

    it("measures the installed programs' memory from the kubelet's cAdvisor series", async () => {
      const current = new Set(
        (await listPods(cluster, NS, "app.kubernetes.io/name=prom-hpa")).map((p) => p.metadata.name),
      );
      for (const series of ["container_memory_rss", "container_memory_working_set_bytes"]) {
        const samples = await waitFor(
          `${series} of the installed containers`,
          async () => {
            const s = await cluster.promQuery(
              `${series}{job="${KUBELET_JOBS.cadvisor}",namespace="${NS}",container=~"adapter|autoscaler"}`,
            );
            const live = s.filter((x) => current.has(x.labels.pod ?? ""));
            return live.length >= 4 ? live : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 2000 },
        );
        for (const program of ["adapter", "autoscaler"]) {
          const mib = samples.filter((s) => s.labels.container === program).map((s) => s.value / 2 ** 20);
          expect(mib.length).toBeGreaterThan(0);
          note(`${program} ${series}: ${mib.map((m) => m.toFixed(1)).join(", ")} MiB`);
        }
      }
    });

    it("is removed by kubectl delete -k, APIServices included", async () => {
      await cluster.kubectl(["delete", "-k", overlay, "--wait=true", "--timeout=300s"]);
      const left = await cluster.kubectl(["get", "apiservices", "-o", "name"]);
      expect(left).not.toMatch(/metrics\.k8s\.io/);
    });
  });

  describe("helm install charts/prom-hpa with a prometheus-adapter values file", () => {
    it("installs on the real node: APIServices Available, cpu_system and kubectl top served", async () => {
      const prometheus = new URL(cluster.info.bridgePrometheusUrl ?? "");
      // Written as prometheus-adapter's users write theirs, plus the image and this machine's node.
      const values = {
        prometheus: { url: `http://${BRIDGE.hostIp}`, port: Number(prometheus.port), path: "" },
        replicas: 2,
        metricsRelistInterval: "10s",
        rules: {
          default: true,
          custom: [
            {
              seriesQuery: 'process_cpu_system_seconds_total{namespace!="",pod!=""}',
              resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
              name: { matches: "^process_cpu_system_seconds_total$", as: "cpu_system" },
              metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)",
            },
          ],
          resource: {
            cpu: {
              containerQuery:
                'sum by (<<.GroupBy>>) (rate(container_cpu_usage_seconds_total{container!="",<<.LabelMatchers>>}[1m]))',
              nodeQuery:
                'sum by (<<.GroupBy>>) (rate(container_cpu_usage_seconds_total{id="/",<<.LabelMatchers>>}[1m]))',
              resources: {
                overrides: {
                  node: { resource: "node" },
                  namespace: { resource: "namespace" },
                  pod: { resource: "pod" },
                },
              },
              containerLabel: "container",
            },
            memory: {
              containerQuery:
                'sum by (<<.GroupBy>>) (container_memory_working_set_bytes{container!="",<<.LabelMatchers>>})',
              nodeQuery:
                'sum by (<<.GroupBy>>) (container_memory_working_set_bytes{id="/",<<.LabelMatchers>>})',
              resources: {
                overrides: {
                  node: { resource: "node" },
                  namespace: { resource: "namespace" },
                  pod: { resource: "pod" },
                },
              },
              containerLabel: "container",
            },
            window: "1m",
          },
        },
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        nodeSelector: { "kubernetes.io/hostname": REAL_NODE_NAME },
        // This shared machine starves pods of CPU at start (see support/install.ts).
        startupProbe: {
          httpGet: { path: "/livez", port: "https", scheme: "HTTPS" },
          periodSeconds: 2,
          failureThreshold: 90,
          timeoutSeconds: 5,
        },
        image: {
          repository: splitImageRef(image.ref).newName,
          tag: splitImageRef(image.ref).newTag,
          pullPolicy: "Never",
        },
      };
      const valuesFile = join(work, "values.yaml");
      await writeFile(valuesFile, stringify(values));
      await run(
        "bash",
        [
          join(REPO_ROOT, "scripts", "helm", "run.sh"),
          "install",
          "prometheus-adapter",
          join(REPO_ROOT, "charts", "prom-hpa"),
          "--namespace",
          HELM_NS,
          "--create-namespace",
          "-f",
          valuesFile,
        ],
        { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } },
      );
      const adapters = await readyPods(HELM_NS, ADAPTER, 2);
      for (const p of adapters) {
        expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
        note(`helm adapter ${p.metadata.name}: container start → Ready ${String(startToReadySeconds(p))}s`);
      }
      // As prometheus-adapter's chart: external metrics only with rules.external.
      const registered = METRICS_APISERVICES.filter((n) => !n.includes("external"));
      await waitFor(
        "the custom and resource metrics APIServices Available",
        async () => (await apiServicesUnavailable(cluster, registered)) === undefined,
        {
          timeoutMs: 240_000,
          intervalMs: 2000,
        },
      );
      expect(await cluster.kubectl(["get", "apiservices", "-o", "name"])).not.toContain("external.metrics");
      const metric = await waitFor(
        "cpu_system through the chart's adapter",
        async () => {
          const list = metricListSchema.parse(
            JSON.parse(await cluster.kubectl(["get", "--raw", CPU_SYSTEM_PATH])),
          );
          return list.items.length > 0 ? list.items : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 2000 },
      );
      expect(metric.every((m) => m.describedObject.name.startsWith("busy-"))).toBe(true);
      const rows = await topPods(HELM_NS);
      expect(rows.filter((r) => r.includes("adapter"))).toHaveLength(2);
    });
  });
});
