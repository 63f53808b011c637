// The permissions each program needs, defined once. Everything else is derived from these
// lists: the ClusterRoles/Roles/bindings in manifests/ (roles.ts) and the start-up
// self-check (check.ts), so what we install and what we verify cannot drift apart.

/** Where prom-hpa is installed and how its pieces are named (manifests and checks share it). */
export const INSTALL = {
  namespace: "prom-hpa",
  adapterServiceAccount: "prom-hpa-adapter",
  autoscalerServiceAccount: "prom-hpa-autoscaler",
  /** The Lease the autoscaler's replicas elect a leader on. */
  leaseName: "prom-hpa-autoscaler",
} as const;

/** kube-controller-manager's HPA controller identity when it runs with per-controller service accounts. */
export const BUILTIN_HPA_CONTROLLER = {
  namespace: "kube-system",
  name: "horizontal-pod-autoscaler",
} as const;

export type ProgramName = "adapter" | "autoscaler";
export const PROGRAMS: readonly ProgramName[] = ["adapter", "autoscaler"];

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

/** An RBAC PolicyRule (rbac.authorization.k8s.io/v1), as rendered into a Role or ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: Verb[];
  resourceNames?: string[];
}

/** One SelfSubjectAccessReview question (authorization.k8s.io/v1 ResourceAttributes). */
export interface AccessCheck {
  verb: Verb;
  group: string;
  resource: string;
  subresource?: string;
  /** Absent: every namespace (or a cluster-scoped resource). */
  namespace?: string;
  name?: string;
}

/** An existing role the program is bound to instead of one we define. */
export interface ExistingRole {
  kind: "ClusterRole" | "Role";
  name: string;
  /** For a Role: the namespace it lives in (the RoleBinding goes there too). */
  namespace?: string;
}

/** One thing a program must be allowed to do: why, the rule granting it, and where. */
export interface Requirement {
  /** Short reason, shown next to a missing permission. */
  why: string;
  rule: PolicyRule;
  /** cluster → our ClusterRole + ClusterRoleBinding; a namespace → our Role + RoleBinding there. */
  namespace?: string;
  /** Granted by binding this existing role (Kubernetes' own, or one of our shared reader roles). */
  grantedBy?: ExistingRole;
  /**
   * The access reviews that prove the rule is in force. Derived from the rule when absent; given
   * explicitly where the rule holds wildcards that a review cannot ask about usefully.
   */
  checks?: AccessCheck[];
}

export interface ProgramPermissions {
  program: ProgramName;
  serviceAccount: { namespace: string; name: string };
  requirements: Requirement[];
}

export interface GroupResource {
  group: string;
  resource: string;
}

export interface PermissionOptions {
  /** Namespace the program runs in (service account, Lease). */
  namespace?: string;
  /**
   * Adapter only: extra resources its rules describe (e.g. `apps/deployments` for an Object
   * metric on a Deployment). The adapter resolves the objects of every resource a rule maps a
   * label to, so it must be able to list and watch them.
   */
  extraResources?: GroupResource[];
  /**
   * Autoscaler only: running with --dry-run, it writes nothing on HPAs or their targets (no
   * scale, no status, no annotation), so the self-check does not ask for those writes (the
   * installed roles still grant them).
   */
  dryRun?: boolean;
  /** Autoscaler only, with dryRun: --dry-run-annotate patches the decision annotation onto HPAs. */
  dryRunAnnotate?: boolean;
  /** Autoscaler only: without leader election it needs no Lease. Default true. */
  leaderElection?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Readers of the metrics APIs: shared roles, bound to the built-in HPA controller and to our
// autoscaler (never to system:anonymous; see README "RBAC").

export const RESOURCE_METRICS_READER = "prom-hpa:resource-metrics-reader";
export const CUSTOM_METRICS_READER = "prom-hpa:custom-metrics-reader";

export const METRICS_READER_ROLES: ReadonlyArray<{ name: string; rules: PolicyRule[] }> = [
  {
    name: RESOURCE_METRICS_READER,
    rules: [{ apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] }],
  },
  {
    name: CUSTOM_METRICS_READER,
    rules: [
      {
        apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"],
        resources: ["*"],
        verbs: ["get", "list", "watch"],
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Kubernetes' own roles that an aggregated API server binds to.

/** Lets the server create TokenReviews and SubjectAccessReviews (delegated authn/authz). */
export const AUTH_DELEGATOR: ExistingRole = { kind: "ClusterRole", name: "system:auth-delegator" };
/** Lets the server read kube-system/extension-apiserver-authentication (client CA, requestheader). */
export const AUTH_READER: ExistingRole = {
  kind: "Role",
  name: "extension-apiserver-authentication-reader",
  namespace: "kube-system",
};

const READ: Verb[] = ["get", "list", "watch"];

/** The core objects the adapter resolves metric series to (namespace, pod, node, service labels). */
const ADAPTER_CORE_RESOURCES = ["namespaces", "pods", "nodes", "services"];

export function adapterPermissions(options: PermissionOptions = {}): ProgramPermissions {
  const namespace = options.namespace ?? INSTALL.namespace;
  const extra = groupByApiGroup(
    (options.extraResources ?? []).filter(
      (r) => !(r.group === "" && ADAPTER_CORE_RESOURCES.includes(r.resource)),
    ),
  );
  return {
    program: "adapter",
    serviceAccount: { namespace, name: INSTALL.adapterServiceAccount },
    requirements: [
      {
        why: "resolve the objects metric series describe",
        rule: { apiGroups: [""], resources: [...ADAPTER_CORE_RESOURCES], verbs: READ },
      },
      ...extra.map(([group, resources]): Requirement => ({
        why: "resolve the objects the rules describe",
        rule: { apiGroups: [group], resources, verbs: READ },
      })),
      {
        why: "authenticate bearer tokens (TokenReview)",
        rule: { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        grantedBy: AUTH_DELEGATOR,
      },
      {
        why: "authorize requests (SubjectAccessReview)",
        rule: { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
        grantedBy: AUTH_DELEGATOR,
      },
      {
        why: "read the front-proxy client CA and request-header settings",
        rule: {
          apiGroups: [""],
          resources: ["configmaps"],
          verbs: ["get"],
          resourceNames: ["extension-apiserver-authentication"],
        },
        namespace: "kube-system",
        grantedBy: AUTH_READER,
      },
    ],
  };
}

// The scalable kinds the self-check asks about; the rule itself covers any "*/scale" (CRDs too).
const USUAL_SCALE_TARGETS: GroupResource[] = [
  { group: "apps", resource: "deployments" },
  { group: "apps", resource: "statefulsets" },
  { group: "apps", resource: "replicasets" },
  { group: "", resource: "replicationcontrollers" },
];

export function autoscalerPermissions(options: PermissionOptions = {}): ProgramPermissions {
  const namespace = options.namespace ?? INSTALL.namespace;
  const requirements: Requirement[] = [
    {
      // update/patch on the object itself: the scale-event history the next leader reads back
      // (and, with --dry-run-annotate, the dry-run decision).
      why: "watch HorizontalPodAutoscalers and annotate them",
      rule: {
        apiGroups: ["autoscaling"],
        resources: ["horizontalpodautoscalers"],
        verbs: ["get", "list", "watch", "update", "patch"],
      },
    },
    {
      why: "write HPA status",
      rule: {
        apiGroups: ["autoscaling"],
        resources: ["horizontalpodautoscalers/status"],
        verbs: ["update", "patch"],
      },
    },
    {
      why: "read and write the scale subresource of HPA targets",
      rule: { apiGroups: ["*"], resources: ["*/scale"], verbs: ["get", "update", "patch"] },
      checks: USUAL_SCALE_TARGETS.flatMap((t) =>
        (["get", "update"] as const).map((verb): AccessCheck => ({
          verb,
          group: t.group,
          resource: t.resource,
          subresource: "scale",
        })),
      ),
    },
    {
      // The replicas and selector of the usual kinds come from watches (src/autoscaler/api/
      // scale-targets.ts) rather than a scale GET per sync; other kinds still use the GET.
      why: "watch Deployments, ReplicaSets and StatefulSets (their replicas and selector)",
      rule: { apiGroups: ["apps"], resources: ["deployments", "replicasets", "statefulsets"], verbs: READ },
    },
    {
      why: "count ready pods of each target",
      rule: { apiGroups: [""], resources: ["pods"], verbs: READ },
    },
    {
      why: "record scaling Events",
      rule: { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    },
    {
      why: "record scaling Events",
      rule: { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
    },
    {
      why: "take part in leader election",
      rule: {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "create", "update"],
      },
      namespace,
    },
    {
      why: "read resource metrics (metrics.k8s.io)",
      rule: { apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list"] },
      grantedBy: { kind: "ClusterRole", name: RESOURCE_METRICS_READER },
    },
    {
      why: "read custom and external metrics",
      rule: {
        apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"],
        resources: ["*"],
        verbs: ["get", "list"],
      },
      grantedBy: { kind: "ClusterRole", name: CUSTOM_METRICS_READER },
    },
  ];
  const readOnly = (r: Requirement): Requirement | undefined => {
    // A dry-run autoscaler still reads each target's scale, but writes neither it nor HPA status,
    // and annotates HPAs only when asked to (--dry-run-annotate).
    if (r.rule.resources.includes("horizontalpodautoscalers/status")) return undefined;
    if (r.rule.resources.includes("horizontalpodautoscalers")) {
      return options.dryRunAnnotate === true
        ? { ...r, rule: { ...r.rule, verbs: [...READ, "patch"] } }
        : { ...r, why: "watch HorizontalPodAutoscalers", rule: { ...r.rule, verbs: READ } };
    }
    if (!r.rule.resources.includes("*/scale")) return r;
    return {
      ...r,
      rule: { ...r.rule, verbs: ["get"] },
      checks: (r.checks ?? []).filter((c) => c.verb === "get"),
    };
  };
  return {
    program: "autoscaler",
    serviceAccount: { namespace, name: INSTALL.autoscalerServiceAccount },
    requirements: requirements
      .filter((r) => !(options.leaderElection === false && r.rule.resources.includes("leases")))
      .map((r) => (options.dryRun === true ? readOnly(r) : r))
      .filter((r): r is Requirement => r !== undefined),
  };
}

export function permissionsFor(program: ProgramName, options: PermissionOptions = {}): ProgramPermissions {
  return program === "adapter" ? adapterPermissions(options) : autoscalerPermissions(options);
}

/** The access reviews that verify one requirement: given ones, or one per group×resource×verb×name. */
export function checksOf(requirement: Requirement): AccessCheck[] {
  if (requirement.checks) return requirement.checks;
  const { rule } = requirement;
  const names = rule.resourceNames && rule.resourceNames.length > 0 ? rule.resourceNames : [undefined];
  const out: AccessCheck[] = [];
  for (const group of rule.apiGroups) {
    for (const full of rule.resources) {
      const [resource = full, subresource] = full.split("/", 2);
      for (const verb of rule.verbs) {
        for (const name of names) {
          out.push({
            verb,
            group,
            resource,
            ...(subresource !== undefined ? { subresource } : {}),
            ...(requirement.namespace !== undefined ? { namespace: requirement.namespace } : {}),
            ...(name !== undefined ? { name } : {}),
          });
        }
      }
    }
  }
  return out;
}

function groupByApiGroup(resources: GroupResource[]): Array<[string, string[]]> {
  const byGroup = new Map<string, Set<string>>();
  for (const r of resources) {
    const set = byGroup.get(r.group) ?? new Set<string>();
    set.add(r.resource);
    byGroup.set(r.group, set);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, set]) => [group, [...set].sort()]);
}
