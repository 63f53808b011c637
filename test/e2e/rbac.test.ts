// The start-up self-check against the real kube-apiserver's RBAC: the roles rendered into
// manifests/ grant everything each program checks for, and a service account lacking one
// permission gets one message naming exactly that permission.
import { KubeConfig } from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  autoscalerPermissions,
  checkPermissions,
  formatPermissionReport,
  INSTALL,
  permissionCheckClient,
  reviewPermissions,
  rolesForProgram,
  selfSubjectAccessReviewer,
  selfSubjectReview,
  type ProgramPermissions,
} from "../../src/rbac/index.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { ensureInstallNamespace } from "./support/install-namespace.js";
import { useNamespace } from "./support/namespace.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const manifestsDir = resolve(import.meta.dirname, "../../manifests");

/** A kubeconfig that authenticates as `namespace/serviceAccount` with a fresh bound token. */
async function serviceAccountKubeConfig(namespace: string, serviceAccount: string): Promise<KubeConfig> {
  const token = (
    await cluster.kubectl(["create", "token", serviceAccount, "--duration=10m"], { namespace })
  ).trim();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "local",
        server: cluster.apiserverUrl,
        caData: Buffer.from(await readFile(cluster.info.caCertPath)).toString("base64"),
      },
    ],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: "sa", cluster: "local", user: serviceAccount }],
    currentContext: "sa",
  });
  return kc;
}

describe("the RBAC in manifests/", () => {
  beforeAll(async () => {
    await ensureInstallNamespace(cluster);
    for (const file of [
      "service-accounts.yaml",
      "rbac/adapter.yaml",
      "rbac/autoscaler.yaml",
      "rbac/metrics-readers.yaml",
    ]) {
      await cluster.kubectl(["apply", "-f", join(manifestsDir, file)]);
    }
  });

  it("grants the adapter every permission it checks for", async () => {
    const report = await checkPermissions(
      await serviceAccountKubeConfig(INSTALL.namespace, INSTALL.adapterServiceAccount),
      "adapter",
    );
    expect(formatPermissionReport(report)).toBeUndefined();
    expect(report.checked).toBe(15);
    expect(report.user).toBe(`system:serviceaccount:${INSTALL.namespace}:${INSTALL.adapterServiceAccount}`);
  });

  it("grants the autoscaler every permission it checks for", async () => {
    const report = await checkPermissions(
      await serviceAccountKubeConfig(INSTALL.namespace, INSTALL.autoscalerServiceAccount),
      "autoscaler",
    );
    expect(formatPermissionReport(report)).toBeUndefined();
    expect(report.missing).toEqual([]);
  });

  /** Asks the API server (SubjectAccessReview) whether `user` may list `resource` in `group`. */
  async function allowed(user: string, groups: string[], group: string, resource: string): Promise<boolean> {
    const review = {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user, groups, resourceAttributes: { verb: "list", group, resource, namespace: "default" } },
    };
    const out = await cluster.kubectl(["create", "-f", "-", "-o", "json"], { input: JSON.stringify(review) });
    return z.object({ status: z.object({ allowed: z.boolean() }) }).parse(JSON.parse(out)).status.allowed;
  }

  const metricsApis = [
    ["metrics.k8s.io", "pods"],
    ["custom.metrics.k8s.io", "pods"],
    ["external.metrics.k8s.io", "queue_length"],
  ] as const;

  it("lets the built-in HPA controller's service account read all three metrics APIs", async () => {
    const user = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
    const groups = ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"];
    for (const [group, resource] of metricsApis)
      expect(await allowed(user, groups, group, resource)).toBe(true);
  });

  it("does not let anonymous users read metrics", async () => {
    for (const [group, resource] of metricsApis) {
      expect(await allowed("system:anonymous", ["system:unauthenticated"], group, resource)).toBe(false);
    }
  });
});

describe("a service account lacking one permission", () => {
  const ns = useNamespace(() => cluster, "rbac");

  it("is told, in one message, exactly which permission it lacks", async () => {
    // The autoscaler's own roles, for a service account in this namespace, minus one verb.
    const full = autoscalerPermissions({ namespace: ns.name });
    const lacking: ProgramPermissions = {
      ...full,
      serviceAccount: { namespace: ns.name, name: "lacking" },
      requirements: full.requirements.map((r) =>
        r.rule.resources.includes("horizontalpodautoscalers/status")
          ? { ...r, rule: { ...r.rule, verbs: ["patch"] } }
          : r,
      ),
    };
    const objects = rolesForProgram(lacking).map((o) => ({
      ...o,
      metadata: { ...o.metadata, name: `${o.metadata.name}-${ns.name}` },
      ...(o.roleRef
        ? {
            roleRef: { ...(o.roleRef as object), name: `${(o.roleRef as { name: string }).name}-${ns.name}` },
          }
        : {}),
    }));
    await cluster.kubectl(["create", "serviceaccount", "lacking"], { namespace: ns.name });
    await cluster.kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
    // Metrics reading comes from the shared reader roles; bind them for this account too.
    for (const role of ["prom-hpa:resource-metrics-reader", "prom-hpa:custom-metrics-reader"]) {
      await cluster.kubectl([
        "create",
        "clusterrolebinding",
        `${role.replace(":", "-")}-${ns.name}`,
        `--clusterrole=${role}`,
        `--serviceaccount=${ns.name}:lacking`,
      ]);
    }
    try {
      const client = await permissionCheckClient(await serviceAccountKubeConfig(ns.name, "lacking"));
      // Ask with the real reviewer about the real autoscaler list (Lease in this namespace).
      const permissions = await reviewPermissions(
        {
          ...autoscalerPermissions({ namespace: ns.name }),
          serviceAccount: { namespace: ns.name, name: "lacking" },
        },
        selfSubjectAccessReviewer(client),
      );
      const report = { ...permissions, user: await selfSubjectReview(client)() };
      await client.close();
      expect(report.errors).toEqual([]);
      const message = formatPermissionReport(report);
      console.log(message);
      expect(message?.split("\n")).toEqual([
        `prom-hpa autoscaler lacks 1 of the ${report.checked} permissions it needs:`,
        "  - update horizontalpodautoscalers/status (autoscaling) cluster-wide — to write HPA status",
        `Grant them to system:serviceaccount:${ns.name}:lacking (the identity it runs as); in-cluster that is ServiceAccount ${ns.name}/lacking, which \`kubectl apply -k manifests/\` sets up with RBAC rendered from the same list.`,
      ]);
    } finally {
      // Namespaced roles go with the namespace; the cluster-wide ones are removed by name.
      await cluster.kubectl([
        "delete",
        `clusterrole/prom-hpa-autoscaler-${ns.name}`,
        `clusterrolebinding/prom-hpa-autoscaler-${ns.name}`,
        `clusterrolebinding/prom-hpa-resource-metrics-reader-${ns.name}`,
        `clusterrolebinding/prom-hpa-custom-metrics-reader-${ns.name}`,
        "--ignore-not-found",
      ]);
    }
  });
});
