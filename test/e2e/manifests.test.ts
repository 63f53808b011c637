// The install manifests are accepted by the real kube-apiserver (server-side dry-run: every
// object validated and admitted, nothing stored), alone and with the TLS overlay.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTlsOverlay } from "../../src/rbac/manifests/tls.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { ensureInstallNamespace } from "./support/install-namespace.js";

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
