// The objects that put the adapter behind kube-apiserver's aggregator: one APIService per
// group-version it serves, pointing at a Service, verified with a caBundle. The install
// manifests (manifests/install.ts, no caBundle), the local cluster's adapter addons and the
// e2e tests all build them here.
import { labelsFor, type KubeObject } from "../kube/rendered-object.js";
import type { ServedAPIs } from "./server/api-discovery.js";
import { servedGroups } from "./server/api-discovery.js";
import { CUSTOM_GROUP, EXTERNAL_GROUP, RESOURCE_GROUP } from "./server/routes.js";

/** The four API group versions the adapter serves; within a group the higher versionPriority is preferred. */
export const API_SERVICES: ReadonlyArray<{ group: string; version: string; versionPriority: number }> = [
  { group: CUSTOM_GROUP, version: "v1beta1", versionPriority: 100 },
  { group: CUSTOM_GROUP, version: "v1beta2", versionPriority: 200 },
  { group: EXTERNAL_GROUP, version: "v1beta1", versionPriority: 100 },
  { group: RESOURCE_GROUP, version: "v1beta1", versionPriority: 100 },
];

export const ALL_APIS: ServedAPIs = { custom: true, external: true, resource: true };

export interface APIServiceTarget {
  namespace: string;
  service: string;
  port: number;
  /** PEM of the CA that signed the adapter's serving certificate; none in the install manifests. */
  caPem?: string;
}

function served(apis: ServedAPIs): typeof API_SERVICES {
  const groups = servedGroups(apis);
  return API_SERVICES.filter((a) => groups.some((g) => g.name === a.group && g.versions.includes(a.version)));
}

/** "v1beta1.custom.metrics.k8s.io", … for every served group-version. */
export function apiServiceNames(apis: ServedAPIs = ALL_APIS): string[] {
  return served(apis).map((a) => `${a.version}.${a.group}`);
}

export function apiServiceObjects(apis: ServedAPIs, target: APIServiceTarget): KubeObject[] {
  const caBundle = target.caPem === undefined ? undefined : Buffer.from(target.caPem).toString("base64");
  return served(apis).map(({ group, version, versionPriority }) => ({
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: `${version}.${group}`, labels: labelsFor("adapter") },
    spec: {
      group,
      version,
      service: { name: target.service, namespace: target.namespace, port: target.port },
      ...(caBundle === undefined ? {} : { caBundle }),
      groupPriorityMinimum: 100,
      versionPriority,
    },
  }));
}

/** A Service of type ExternalName for a server running on this machine (local clusters). */
export function loopbackService(target: Omit<APIServiceTarget, "caPem">): KubeObject {
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
