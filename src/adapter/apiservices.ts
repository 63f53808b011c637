// The objects that put the adapter behind kube-apiserver's aggregator: one APIService per
// group-version it serves, pointing at a Service, verified with a caBundle. Used by the local
// cluster's adapter addon and by tests; manifests/ carries the same for real clusters.
import type { ServedAPIs } from "./server/discovery.js";
import { servedGroups } from "./server/discovery.js";

export interface APIServiceTarget {
  namespace: string;
  service: string;
  port: number;
  /** PEM of the CA that signed the adapter's serving certificate. */
  caPem: string;
}

/** "v1beta1.custom.metrics.k8s.io", … for every served group-version. */
export function apiServiceNames(apis: ServedAPIs): string[] {
  return servedGroups(apis).flatMap((g) => g.versions.map((v) => `${v}.${g.name}`));
}

export function apiServiceObjects(apis: ServedAPIs, target: APIServiceTarget): object[] {
  const caBundle = Buffer.from(target.caPem).toString("base64");
  return servedGroups(apis).flatMap((g) =>
    g.versions.map((version, i) => ({
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: `${version}.${g.name}`, labels: { "app.kubernetes.io/name": "prom-hpa-adapter" } },
      spec: {
        group: g.name,
        version,
        service: { namespace: target.namespace, name: target.service, port: target.port },
        caBundle,
        groupPriorityMinimum: 100,
        // Preferred version first: the higher priority wins.
        versionPriority: 200 - i * 100,
      },
    })),
  );
}

/** A Service of type ExternalName for an adapter running on this machine (local clusters). */
export function loopbackService(target: Omit<APIServiceTarget, "caPem">): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: target.service, namespace: target.namespace },
    spec: {
      type: "ExternalName",
      externalName: "127.0.0.1",
      ports: [{ name: "https", port: target.port, targetPort: target.port }],
    },
  };
}
