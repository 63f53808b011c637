// The shape of the objects prom-hpa renders (install manifests, RBAC, APIServices) and the
// labels they all carry, shared by the rooms that build them so none imports another for it.

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export function labelsFor(component: string): Record<string, string> {
  return { "app.kubernetes.io/name": "prom-hpa", "app.kubernetes.io/component": component };
}

/** name, namespace (left out for cluster-scoped objects) and our labels, in that order. */
export function objectMeta(name: string, component: string, namespace?: string): KubeObject["metadata"] {
  return { name, ...(namespace !== undefined ? { namespace } : {}), labels: labelsFor(component) };
}
