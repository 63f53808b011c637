import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  adapterPermissions,
  autoscalerPermissions,
  checkPermissions,
  checksOf,
  describeCheck,
  formatPermissionReport,
  metricsReaderRbac,
  MissingPermissionsError,
  reviewPermissions,
  rolesForProgram,
  type AccessCheck,
  type AccessReviewer,
} from "../../../src/rbac/index.js";

const key = (c: AccessCheck): string =>
  `${c.verb} ${c.group || "core"}/${c.resource}${c.subresource ? `/${c.subresource}` : ""}${c.namespace ? ` ns=${c.namespace}` : ""}${c.name ? ` name=${c.name}` : ""}`;

const allChecks = (reqs: ReturnType<typeof adapterPermissions>["requirements"]): string[] =>
  reqs.flatMap(checksOf).map(key);

/** A reviewer that allows everything except the listed checks. */
function denying(...denied: string[]): AccessReviewer {
  return async (check) => ({
    allowed: !denied.includes(key(check)),
    ...(denied.includes(key(check)) ? { reason: "no RBAC rule" } : {}),
  });
}

describe("adapter permissions", () => {
  it("read the objects it resolves, delegate authn/authz and read the authentication ConfigMap", () => {
    expect(allChecks(adapterPermissions().requirements)).toEqual([
      "get core/namespaces",
      "list core/namespaces",
      "watch core/namespaces",
      "get core/pods",
      "list core/pods",
      "watch core/pods",
      "get core/nodes",
      "list core/nodes",
      "watch core/nodes",
      "get core/services",
      "list core/services",
      "watch core/services",
      "create authentication.k8s.io/tokenreviews",
      "create authorization.k8s.io/subjectaccessreviews",
      "get core/configmaps ns=kube-system name=extension-apiserver-authentication",
    ]);
  });

  it("add read access for every extra resource the rules describe, once per API group", () => {
    const perms = adapterPermissions({
      extraResources: [
        { group: "apps", resource: "deployments" },
        { group: "", resource: "pods" },
        { group: "apps", resource: "statefulsets" },
        { group: "networking.k8s.io", resource: "ingresses" },
      ],
    });
    const extra = perms.requirements
      .filter((r) => r.why === "resolve the objects the rules describe")
      .map((r) => r.rule);
    expect(extra).toEqual([
      { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
    ]);
  });

  it("are granted by a ClusterRole, system:auth-delegator and the kube-system authentication reader", () => {
    const objs = rolesForProgram(adapterPermissions());
    expect(objs.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual([
      "ClusterRole /prom-hpa-adapter",
      "ClusterRoleBinding /prom-hpa-adapter",
      "ClusterRoleBinding /prom-hpa-adapter:system:auth-delegator",
      "RoleBinding kube-system/prom-hpa-adapter:extension-apiserver-authentication-reader",
    ]);
    expect(objs[2]?.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "system:auth-delegator",
    });
    expect(objs[3]?.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "extension-apiserver-authentication-reader",
    });
  });
});

describe("autoscaler permissions", () => {
  const checks = allChecks(autoscalerPermissions().requirements);

  it("cover HPAs and their status, scale of the usual targets, pods, events, its Lease and the metrics APIs", () => {
    expect(checks).toEqual(
      expect.arrayContaining([
        "watch autoscaling/horizontalpodautoscalers",
        "update autoscaling/horizontalpodautoscalers",
        "update autoscaling/horizontalpodautoscalers/status",
        "get apps/deployments/scale",
        "update apps/deployments/scale",
        "update apps/statefulsets/scale",
        "update apps/replicasets/scale",
        "update core/replicationcontrollers/scale",
        "list core/pods",
        "create core/events",
        "patch core/events",
        "create events.k8s.io/events",
        "get coordination.k8s.io/leases ns=prom-hpa",
        "create coordination.k8s.io/leases ns=prom-hpa",
        "update coordination.k8s.io/leases ns=prom-hpa",
        "list metrics.k8s.io/pods",
        "get custom.metrics.k8s.io/*",
        "get external.metrics.k8s.io/*",
      ]),
    );
  });

  it("ask about the Lease in the namespace the autoscaler runs in", () => {
    expect(allChecks(autoscalerPermissions({ namespace: "ops" }).requirements)).toContain(
      "update coordination.k8s.io/leases ns=ops",
    );
  });

  it("in dry-run ask to read scale but write neither it nor status, and without leader election for no Lease", () => {
    const dry = allChecks(autoscalerPermissions({ dryRun: true, leaderElection: false }).requirements);
    expect(dry.filter((c) => /\/scale|\/status|leases/.test(c))).toEqual([
      "get apps/deployments/scale",
      "get apps/statefulsets/scale",
      "get apps/replicasets/scale",
      "get core/replicationcontrollers/scale",
    ]);
    expect(dry).toContain("watch autoscaling/horizontalpodautoscalers");
    expect(dry.filter((c) => /^(update|patch) autoscaling\/horizontalpodautoscalers/.test(c))).toEqual([]);
    expect(dry).toContain("create core/events");
  });

  it("in dry-run with --dry-run-annotate ask to patch HPAs (the decision annotation), not to update them", () => {
    const dry = allChecks(autoscalerPermissions({ dryRun: true, dryRunAnnotate: true }).requirements);
    expect(dry.filter((c) => /^(update|patch) autoscaling\/horizontalpodautoscalers/.test(c))).toEqual([
      "patch autoscaling/horizontalpodautoscalers",
    ]);
  });

  it("grant */scale in every group (custom resources too) and Leases only in its namespace", () => {
    const objs = rolesForProgram(autoscalerPermissions());
    const clusterRole = objs.find((o) => o.kind === "ClusterRole");
    expect(clusterRole?.rules).toContainEqual({
      apiGroups: ["*"],
      resources: ["*/scale"],
      verbs: ["get", "update", "patch"],
    });
    const role = objs.find((o) => o.kind === "Role");
    expect(role?.metadata.namespace).toBe("prom-hpa");
    expect(role?.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    ]);
  });
});

describe("metrics API readers", () => {
  it("are the built-in HPA controller and our autoscaler, never system:anonymous", () => {
    const objs = metricsReaderRbac();
    const bindings = objs.filter((o) => o.kind === "ClusterRoleBinding");
    expect(bindings.map((b) => b.roleRef)).toEqual([
      {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "prom-hpa:resource-metrics-reader",
      },
      { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "prom-hpa:custom-metrics-reader" },
    ]);
    for (const b of bindings) {
      expect(b.subjects).toEqual([
        { kind: "ServiceAccount", name: "horizontal-pod-autoscaler", namespace: "kube-system" },
        { kind: "ServiceAccount", name: "prom-hpa-autoscaler", namespace: "prom-hpa" },
      ]);
    }
    const roles = objs.filter((o) => o.kind === "ClusterRole");
    expect(roles.map((r) => r.rules)).toEqual([
      [{ apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] }],
      [
        {
          apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"],
          resources: ["*"],
          verbs: ["get", "list", "watch"],
        },
      ],
    ]);
  });
});

describe("reviewPermissions", () => {
  it("reports nothing missing when every review is allowed", async () => {
    const report = await reviewPermissions(autoscalerPermissions(), denying());
    expect(report.missing).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(report.checked).toBe(allChecks(autoscalerPermissions().requirements).length);
    expect(formatPermissionReport(report)).toBeUndefined();
  });

  it("names every missing permission in one message", async () => {
    const report = await reviewPermissions(
      autoscalerPermissions(),
      denying(
        "update autoscaling/horizontalpodautoscalers/status",
        "create coordination.k8s.io/leases ns=prom-hpa",
      ),
    );
    expect(report.missing.map((m) => key(m.check))).toEqual([
      "update autoscaling/horizontalpodautoscalers/status",
      "create coordination.k8s.io/leases ns=prom-hpa",
    ]);
    expect(formatPermissionReport(report)).toBe(
      [
        `prom-hpa autoscaler lacks 2 of the ${report.checked} permissions it needs:`,
        "  - update horizontalpodautoscalers/status (autoscaling) cluster-wide — to write HPA status",
        "  - create leases (coordination.k8s.io) in namespace prom-hpa — to take part in leader election",
        "Grant them to the identity it runs as; in-cluster that is ServiceAccount prom-hpa/prom-hpa-autoscaler, which `kubectl apply -k manifests/` sets up with RBAC rendered from the same list.",
      ].join("\n"),
    );
  });

  it("says which existing role grants a missing permission", async () => {
    const report = await reviewPermissions(
      adapterPermissions(),
      denying("create authentication.k8s.io/tokenreviews"),
    );
    expect(formatPermissionReport(report)).toContain(
      "  - create tokenreviews (authentication.k8s.io) cluster-wide — to authenticate bearer tokens (TokenReview); granted by binding ClusterRole system:auth-delegator",
    );
  });

  it("reports reviews that failed instead of throwing", async () => {
    const report = await reviewPermissions(adapterPermissions(), async (c) => {
      if (c.resource === "nodes") throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
      return { allowed: true };
    });
    expect(report.missing).toEqual([]);
    expect(report.errors).toHaveLength(3);
    expect(formatPermissionReport(report)).toContain(
      "  - list nodes (core) cluster-wide: connect ECONNREFUSED 127.0.0.1:6443",
    );
  });

  it("carries the report in MissingPermissionsError", async () => {
    const report = await reviewPermissions(
      adapterPermissions(),
      denying("get core/configmaps ns=kube-system name=extension-apiserver-authentication"),
    );
    const err = new MissingPermissionsError(report);
    expect(err.report).toBe(report);
    expect(err.message).toContain(
      'get configmaps "extension-apiserver-authentication" (core) in namespace kube-system',
    );
  });
});

describe("checkPermissions", () => {
  it("asks about each of the program's permissions through the given reviewer", async () => {
    const asked: string[] = [];
    const report = await checkPermissions(new KubeConfig(), "adapter", {
      reviewer: async (c) => {
        asked.push(key(c));
        return { allowed: true };
      },
      whoAmI: async () => undefined,
    });
    expect(report.program).toBe("adapter");
    expect(report.user).toBeUndefined();
    expect(asked.sort()).toEqual(allChecks(adapterPermissions().requirements).sort());
  });
});

describe("checkPermissions naming the caller", () => {
  it("names the user the API server knows it as", async () => {
    const report = await checkPermissions(new KubeConfig(), "autoscaler", {
      reviewer: denying("create core/events"),
      whoAmI: async () => "system:serviceaccount:ops:scaler",
    });
    expect(report.user).toBe("system:serviceaccount:ops:scaler");
    expect(formatPermissionReport(report)?.split("\n").at(-1)).toBe(
      "Grant them to system:serviceaccount:ops:scaler (the identity it runs as); in-cluster that is ServiceAccount prom-hpa/prom-hpa-autoscaler, which `kubectl apply -k manifests/` sets up with RBAC rendered from the same list.",
    );
  });

  it("still reports when the API server cannot say who we are", async () => {
    const report = await checkPermissions(new KubeConfig(), "autoscaler", {
      reviewer: denying(),
      whoAmI: async () => {
        throw new Error("404 selfsubjectreviews not found");
      },
    });
    expect(report.user).toBeUndefined();
    expect(report.missing).toEqual([]);
  });
});

describe("describeCheck", () => {
  it("reads as verb, resource, group and scope", () => {
    expect(
      describeCheck({ verb: "update", group: "apps", resource: "deployments", subresource: "scale" }),
    ).toBe("update deployments/scale (apps) cluster-wide");
  });
});
