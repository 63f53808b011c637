// The install manifests are accepted by the real kube-apiserver (server-side dry-run: every
// object validated and admitted, nothing stored), alone and with the TLS overlay.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { z } from "zod";
import type { PodRunner } from "../../scripts/cluster/podrunner/runner.js";
import { parseConfig } from "../../src/adapter/config/index.js";
import { writeTlsOverlay } from "../../src/manifests/tls.js";
import { startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { ensureInstallNamespace } from "./support/install-namespace.js";
import { getRaw } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const manifestsDir = resolve(import.meta.dirname, "../../manifests");

describe("kubectl apply --dry-run=server -k manifests/", () => {
  let overlayParent: string | undefined;

  // Server-side dry-run admits namespaced objects only into a namespace that exists.
  beforeAll(() => ensureInstallNamespace(cluster));

  afterAll(async () => {
    if (overlayParent) await rm(overlayParent, { recursive: true, force: true });
  });

  it("accepts every object of the install", async () => {
    const out = await cluster.kubectl(["apply", "--dry-run=server", "-k", manifestsDir]);
    const lines = out.trim().split("\n");
    expect(lines.every((l) => l.endsWith("(server dry run)"))).toBe(true);
    for (const object of [
      "apiservice.apiregistration.k8s.io/v1beta1.custom.metrics.k8s.io",
      "apiservice.apiregistration.k8s.io/v1beta2.custom.metrics.k8s.io",
      "apiservice.apiregistration.k8s.io/v1beta1.external.metrics.k8s.io",
      "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io",
      "deployment.apps/prom-hpa-adapter",
      "deployment.apps/prom-hpa-autoscaler",
      "poddisruptionbudget.policy/prom-hpa-adapter",
      "configmap/prom-hpa-adapter-config",
      "clusterrolebinding.rbac.authorization.k8s.io/prom-hpa:custom-metrics-reader",
      "rolebinding.rbac.authorization.k8s.io/prom-hpa-adapter:extension-apiserver-authentication-reader",
    ]) {
      expect(lines.some((l) => l.startsWith(`${object} `))).toBe(true);
    }
  });

  it("accepts the examples (hello-world and the seed's HPA)", async () => {
    const out = await cluster.kubectl(["apply", "--dry-run=server", "-k", join(manifestsDir, "examples")]);
    expect(out).toContain("horizontalpodautoscaler.autoscaling/hello-world");
    const resourceOnly = await cluster.kubectl([
      "apply",
      "--dry-run=server",
      "-f",
      join(manifestsDir, "examples", "hpa-resource-metrics.yaml"),
    ]);
    expect(resourceOnly).toContain("(server dry run)");
  });

  it("accepts the generated TLS overlay: Secret plus a caBundle on each APIService", async () => {
    // Inside the repository (git-ignored .run/) so the overlay can name the base by a relative path.
    await mkdir(join(manifestsDir, "..", ".run"), { recursive: true });
    overlayParent = await mkdtemp(join(manifestsDir, "..", ".run", "tls-e2e-"));
    const overlay = join(overlayParent, "install");
    await writeTlsOverlay(overlay, manifestsDir);
    const out = await cluster.kubectl(["apply", "--dry-run=server", "-k", overlay, "-o", "json"]);
    const list = JSON.parse(out) as {
      items: Array<{ kind: string; metadata: { name: string }; spec?: { caBundle?: string } }>;
    };
    const apiServices = list.items.filter((i) => i.kind === "APIService");
    expect(apiServices).toHaveLength(4);
    for (const a of apiServices) expect(a.spec?.caBundle?.length ?? 0).toBeGreaterThan(100);
    expect(list.items.some((i) => i.kind === "Secret" && i.metadata.name === "prom-hpa-adapter-tls")).toBe(
      true,
    );
  });
});

// The rules ConfigMap shipped in manifests/ and the seed's hello-world, run for real: the
// adapter loads the shipped config, and through the aggregator serves the seed's pods metric
// cpu_system and the resource metrics its HPA reads.
describe("the shipped rules config with the seed's hello-world", () => {
  const ns = useNamespace(() => cluster, "rules");
  let registered: RegisteredAdapter | undefined;
  let runner: PodRunner | undefined;
  let pod = "";

  beforeAll(async () => {
    const configText = (
      parse(await readFile(join(manifestsDir, "adapter", "config.yaml"), "utf8")) as {
        data: Record<string, string>;
      }
    ).data["config.yaml"];
    const config = parseConfig(configText ?? "");
    if (!config.ok) throw new Error(`shipped config rejected: ${JSON.stringify(config.issues)}`);

    // hello-world from manifests/examples, in this test's namespace.
    const docs = parseAllDocuments(
      await readFile(join(manifestsDir, "examples", "hello-world.yaml"), "utf8"),
    ).map((d) => d.toJS() as { metadata: { namespace?: string } });
    for (const d of docs) delete d.metadata.namespace;
    await cluster.kubectl(["apply", "-f", "-"], {
      namespace: ns.name,
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }),
    });
    runner = await cluster.startPodRunner({
      namespace: ns.name,
      labelSelector: "app=hello-world",
      burnMs: 2,
    });
    pod = (await runner.waitForRunning(1))[0]?.pod ?? "";

    registered = await startRegisteredAdapter(cluster, {
      namespace: ns.name,
      config: config.config,
      prometheusUrl: cluster.prometheusUrl,
    });
  }, 180_000);

  afterAll(async () => {
    await registered?.stop();
    await runner?.stop();
  });

  it("serves the seed's pods metric cpu_system for each hello-world pod", async () => {
    const list = await waitFor(
      "cpu_system for the hello-world pod",
      async () => {
        const out = await getRaw(
          cluster,
          `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/cpu_system`,
        ).catch(() => undefined);
        if (out === undefined) return undefined;
        const l = metricValueListSchema.parse(out);
        return l.items.length > 0 ? l : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(list.items.map((i) => [i.describedObject.kind, i.describedObject.name, i.metric.name])).toEqual([
      ["Pod", pod, "cpu_system"],
    ]);
  }, 120_000);

  it("serves cpu and memory of the hello-world pod on metrics.k8s.io", async () => {
    const podMetrics = await waitFor(
      "PodMetrics of the hello-world pod",
      async () => {
        const out = await getRaw(
          cluster,
          `/apis/metrics.k8s.io/v1beta1/namespaces/${ns.name}/pods/${pod}`,
        ).catch(() => undefined);
        return out === undefined ? undefined : podMetricsSchema.parse(out);
      },
      { timeoutMs: 90_000 },
    );
    expect(podMetrics.containers.map((c) => c.name)).toEqual(["hello-world"]);
    expect(Object.keys(podMetrics.containers[0]?.usage ?? {}).sort()).toEqual(["cpu", "memory"]);
  }, 120_000);
});

const metricValueListSchema = z.object({
  kind: z.literal("MetricValueList"),
  items: z.array(
    z.object({
      describedObject: z.object({ kind: z.string(), name: z.string() }),
      metric: z.object({ name: z.string() }),
      value: z.string(),
    }),
  ),
});

const podMetricsSchema = z.object({
  kind: z.literal("PodMetrics"),
  containers: z.array(z.object({ name: z.string(), usage: z.record(z.string(), z.string()) })),
});
