// RBAC objects rendered from the permission lists in permissions.ts.
import {
  BUILTIN_HPA_CONTROLLER,
  INSTALL,
  METRICS_READER_ROLES,
  type PolicyRule,
  type ProgramPermissions,
  type Requirement,
} from "./permissions.js";
import { objectMeta, type KubeObject } from "../kube/rendered-object.js";

const RBAC = "rbac.authorization.k8s.io";
const RBAC_V1 = `${RBAC}/v1`;

export interface Subject {
  kind: "ServiceAccount";
  name: string;
  namespace: string;
}

function role(
  kind: "ClusterRole" | "Role",
  name: string,
  rules: PolicyRule[],
  component: string,
  namespace?: string,
): KubeObject {
  return {
    apiVersion: RBAC_V1,
    kind,
    metadata: objectMeta(name, component, namespace),
    rules: rules.map(renderRule),
  };
}

function binding(
  kind: "ClusterRoleBinding" | "RoleBinding",
  name: string,
  roleRef: { kind: "ClusterRole" | "Role"; name: string },
  subjects: Subject[],
  component: string,
  namespace?: string,
): KubeObject {
  return {
    apiVersion: RBAC_V1,
    kind,
    metadata: objectMeta(name, component, namespace),
    roleRef: { apiGroup: RBAC, kind: roleRef.kind, name: roleRef.name },
    subjects: subjects.map((s) => ({ kind: s.kind, name: s.name, namespace: s.namespace })),
  };
}

function renderRule(rule: PolicyRule): Record<string, unknown> {
  return {
    apiGroups: rule.apiGroups,
    resources: rule.resources,
    ...(rule.resourceNames && rule.resourceNames.length > 0 ? { resourceNames: rule.resourceNames } : {}),
    verbs: rule.verbs,
  };
}

/**
 * The roles and bindings one program needs: a ClusterRole for its cluster-wide rules, a Role per
 * namespace for namespaced rules, and a binding to each existing role it relies on.
 */
export function rolesForProgram(permissions: ProgramPermissions): KubeObject[] {
  const { program, serviceAccount } = permissions;
  const component = program;
  const base = `prom-hpa-${program}`;
  const subject: Subject = { kind: "ServiceAccount", ...serviceAccount };
  const own = permissions.requirements.filter((r) => r.grantedBy === undefined);
  const cluster = own.filter((r) => r.namespace === undefined);
  const byNamespace = new Map<string, Requirement[]>();
  for (const r of own) {
    if (r.namespace === undefined) continue;
    byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
  }

  const out: KubeObject[] = [];
  if (cluster.length > 0) {
    out.push(
      role(
        "ClusterRole",
        base,
        cluster.map((r) => r.rule),
        component,
      ),
    );
    out.push(binding("ClusterRoleBinding", base, { kind: "ClusterRole", name: base }, [subject], component));
  }
  for (const [namespace, reqs] of [...byNamespace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(
      role(
        "Role",
        base,
        reqs.map((r) => r.rule),
        component,
        namespace,
      ),
    );
    out.push(binding("RoleBinding", base, { kind: "Role", name: base }, [subject], component, namespace));
  }

  const seen = new Set<string>();
  for (const r of permissions.requirements) {
    const existing = r.grantedBy;
    if (existing === undefined) continue;
    const key = `${existing.kind}/${existing.namespace ?? ""}/${existing.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Our shared metrics-reader roles are bound once for all their readers (metricsReaderRbac).
    if (METRICS_READER_ROLES.some((m) => m.name === existing.name)) continue;
    const name = `${base}:${existing.name}`;
    if (existing.kind === "ClusterRole") {
      out.push(binding("ClusterRoleBinding", name, existing, [subject], component));
    } else {
      out.push(binding("RoleBinding", name, existing, [subject], component, existing.namespace));
    }
  }
  return out;
}

/** Who may read the metrics APIs: the built-in HPA controller and our autoscaler. */
export function metricsReaderSubjects(namespace: string = INSTALL.namespace): Subject[] {
  return [
    { kind: "ServiceAccount", ...BUILTIN_HPA_CONTROLLER },
    { kind: "ServiceAccount", namespace, name: INSTALL.autoscalerServiceAccount },
  ];
}

/** The metrics reader ClusterRoles and their bindings. */
export function metricsReaderRbac(subjects: Subject[] = metricsReaderSubjects()): KubeObject[] {
  return METRICS_READER_ROLES.flatMap(({ name, rules }) => [
    role("ClusterRole", name, rules, "metrics-readers"),
    binding("ClusterRoleBinding", name, { kind: "ClusterRole", name }, subjects, "metrics-readers"),
  ]);
}
