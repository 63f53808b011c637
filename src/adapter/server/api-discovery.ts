// Legacy API discovery documents (APIGroupList, APIGroup, APIResourceList). The aggregator
// first asks `/apis` for aggregated discovery (apidiscovery.k8s.io/v2); we answer that with
// 406 and it falls back to `/apis/<group>/<version>`, which is what these documents serve.
import type { CustomMetricInfo, ExternalMetricInfo } from "../provider.js";
import { CUSTOM_GROUP, CUSTOM_VERSIONS, EXTERNAL_GROUP, RESOURCE_GROUP } from "./routes.js";

export interface ServedAPIs {
  custom: boolean;
  external: boolean;
  resource: boolean;
}

interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
}

/** Versions per group, preferred first. */
export function servedGroups(apis: ServedAPIs): { name: string; versions: readonly string[] }[] {
  const out: { name: string; versions: readonly string[] }[] = [];
  if (apis.custom) out.push({ name: CUSTOM_GROUP, versions: CUSTOM_VERSIONS });
  if (apis.external) out.push({ name: EXTERNAL_GROUP, versions: ["v1beta1"] });
  if (apis.resource) out.push({ name: RESOURCE_GROUP, versions: ["v1beta1"] });
  return out;
}

function apiGroup(name: string, versions: readonly string[]): APIGroup {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0]! };
}

export function apiGroupList(apis: ServedAPIs): object {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: servedGroups(apis).map((g) => apiGroup(g.name, g.versions)),
  };
}

/** The APIGroup document, or undefined when the group is not served. */
export function apiGroupDocument(apis: ServedAPIs, group: string): object | undefined {
  const g = servedGroups(apis).find((x) => x.name === group);
  return g === undefined
    ? undefined
    : { kind: "APIGroup", apiVersion: "v1", ...apiGroup(g.name, g.versions) };
}

export interface DiscoverySources {
  customMetrics(): CustomMetricInfo[];
  externalMetrics(): ExternalMetricInfo[];
}

/** "pods/http_requests", "deployments.apps/http_requests", "namespaces/queue_length". */
export function customResourceName(info: CustomMetricInfo): string {
  const gr =
    info.groupResource.group === ""
      ? info.groupResource.resource
      : `${info.groupResource.resource}.${info.groupResource.group}`;
  return `${gr}/${info.metric}`;
}

function byName(a: APIResource, b: APIResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function apiResources(group: string, sources: DiscoverySources): APIResource[] | undefined {
  switch (group) {
    case CUSTOM_GROUP: {
      const seen = new Set<string>();
      const out: APIResource[] = [];
      for (const info of sources.customMetrics()) {
        const name = customResourceName(info);
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({
          name,
          singularName: "",
          namespaced: info.namespaced,
          kind: "MetricValueList",
          verbs: ["get"],
        });
      }
      return out.sort(byName);
    }
    case EXTERNAL_GROUP: {
      const seen = new Set<string>();
      const out: APIResource[] = [];
      for (const info of sources.externalMetrics()) {
        if (seen.has(info.metric)) continue;
        seen.add(info.metric);
        out.push({
          name: info.metric,
          singularName: "",
          namespaced: true,
          kind: "ExternalMetricValueList",
          verbs: ["get"],
        });
      }
      return out.sort(byName);
    }
    case RESOURCE_GROUP:
      return [
        { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
        { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
      ];
    default:
      return undefined;
  }
}

export function apiResourceList(
  apis: ServedAPIs,
  group: string,
  version: string,
  sources: DiscoverySources,
): object | undefined {
  const g = servedGroups(apis).find((x) => x.name === group);
  if (g === undefined || !g.versions.includes(version)) return undefined;
  const resources = apiResources(group, sources) ?? [];
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${group}/${version}`, resources };
}

/** The paths a GET on `/` lists, as kube servers do. */
export function rootPaths(apis: ServedAPIs): object {
  const paths = [
    "/apis",
    "/healthz",
    "/livez",
    "/metrics",
    "/openapi/v2",
    "/openapi/v3",
    "/readyz",
    "/version",
  ];
  for (const g of servedGroups(apis)) {
    paths.push(`/apis/${g.name}`);
    for (const v of g.versions) paths.push(`/apis/${g.name}/${v}`);
  }
  return { paths: paths.sort() };
}
