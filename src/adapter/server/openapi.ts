// OpenAPI documents for the served groups: /openapi/v2 (one Swagger 2.0 document, which the
// aggregator merges into kube-apiserver's) and /openapi/v3 (an index of per-group-version
// OpenAPI 3.0 documents, fetched by their hashed serverRelativeURL). They describe the paths
// and the list types; nothing depends on which metrics exist, so they are built once.
import { createHash } from "node:crypto";
import { CUSTOM_GROUP, EXTERNAL_GROUP } from "./routes.js";
import { servedGroups, type ServedAPIs } from "./api-discovery.js";

type Schema = Record<string, unknown>;

const str: Schema = { type: "string" };
const time: Schema = { type: "string", format: "date-time" };
const quantity: Schema = { type: "string", description: "a Kubernetes quantity, e.g. 500m or 10Mi" };
const int64: Schema = { type: "integer", format: "int64" };
const strMap: Schema = { type: "object", additionalProperties: { type: "string" } };
const listMeta: Schema = { type: "object", properties: { resourceVersion: str, continue: str } };
const objectMeta: Schema = {
  type: "object",
  properties: { name: str, namespace: str, creationTimestamp: time, labels: strMap },
};
const labelSelector: Schema = {
  type: "object",
  properties: {
    matchLabels: strMap,
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: { key: str, operator: str, values: { type: "array", items: str } },
      },
    },
  },
};
const objectReference: Schema = {
  type: "object",
  properties: { kind: str, namespace: str, name: str, apiVersion: str },
};
const usage: Schema = { type: "object", additionalProperties: quantity };

const PREFIX = "io.k8s.metrics.pkg.apis";

function gvk(group: string, version: string, kind: string): Schema {
  return { "x-kubernetes-group-version-kind": [{ group, version, kind }] };
}

/** Definitions of one group-version, keyed by their OpenAPI names; `ref` builds a $ref. */
function definitions(group: string, version: string, ref: (name: string) => Schema): Record<string, Schema> {
  const typeMeta = { kind: str, apiVersion: str };
  // Every list here is `<item>List` with items of `<item>` and the list's own TypeMeta and ListMeta.
  const list = (base: string, item: string): Schema => ({
    type: "object",
    required: ["items"],
    properties: { ...typeMeta, metadata: listMeta, items: { type: "array", items: ref(`${base}.${item}`) } },
    ...gvk(group, version, `${item}List`),
  });
  if (group === CUSTOM_GROUP) {
    const base = `${PREFIX}.custom_metrics.${version}`;
    const value: Schema =
      version === "v1beta1"
        ? {
            type: "object",
            required: ["describedObject", "metricName", "timestamp", "value"],
            properties: {
              describedObject: objectReference,
              metricName: str,
              timestamp: time,
              window: int64,
              value: quantity,
              selector: labelSelector,
            },
          }
        : {
            type: "object",
            required: ["describedObject", "metric", "timestamp", "value"],
            properties: {
              describedObject: objectReference,
              metric: {
                type: "object",
                required: ["name"],
                properties: { name: str, selector: labelSelector },
              },
              timestamp: time,
              windowSeconds: int64,
              value: quantity,
            },
          };
    return {
      [`${base}.MetricValue`]: value,
      [`${base}.MetricValueList`]: list(base, "MetricValue"),
    };
  }
  if (group === EXTERNAL_GROUP) {
    const base = `${PREFIX}.external_metrics.${version}`;
    return {
      [`${base}.ExternalMetricValue`]: {
        type: "object",
        required: ["metricName", "metricLabels", "timestamp", "value"],
        properties: {
          metricName: str,
          metricLabels: strMap,
          timestamp: time,
          window: int64,
          value: quantity,
        },
      },
      [`${base}.ExternalMetricValueList`]: list(base, "ExternalMetricValue"),
    };
  }
  const base = `${PREFIX}.metrics.${version}`;
  const container: Schema = { type: "object", required: ["name", "usage"], properties: { name: str, usage } };
  return {
    [`${base}.PodMetrics`]: {
      type: "object",
      required: ["timestamp", "window", "containers"],
      properties: {
        ...typeMeta,
        metadata: objectMeta,
        timestamp: time,
        window: str,
        containers: { type: "array", items: container },
      },
      ...gvk(group, version, "PodMetrics"),
    },
    [`${base}.PodMetricsList`]: list(base, "PodMetrics"),
    [`${base}.NodeMetrics`]: {
      type: "object",
      required: ["timestamp", "window", "usage"],
      properties: { ...typeMeta, metadata: objectMeta, timestamp: time, window: str, usage },
      ...gvk(group, version, "NodeMetrics"),
    },
    [`${base}.NodeMetricsList`]: list(base, "NodeMetrics"),
  };
}

interface Operation {
  path: string;
  operationId: string;
  description: string;
  params: string[]; // path parameters
  query: string[];
  response: string; // definition name
}

function operations(group: string, version: string): Operation[] {
  const root = `/apis/${group}/${version}`;
  const sel = ["labelSelector"];
  if (group === CUSTOM_GROUP) {
    const list = `${PREFIX}.custom_metrics.${version}.MetricValueList`;
    const q = ["labelSelector", "metricLabelSelector"];
    return [
      {
        path: `${root}/namespaces/{namespace}/{resource}/{name}/{metric}`,
        operationId: `readNamespacedCustomMetric_${version}`,
        description: "the metric for one object (or * with labelSelector) in a namespace",
        params: ["namespace", "resource", "name", "metric"],
        query: q,
        response: list,
      },
      {
        path: `${root}/{resource}/{name}/{metric}`,
        operationId: `readClusterCustomMetric_${version}`,
        description: "the metric for one cluster-scoped object (or * with labelSelector)",
        params: ["resource", "name", "metric"],
        query: q,
        response: list,
      },
      {
        path: `${root}/namespaces/{namespace}/metrics/{metric}`,
        operationId: `readNamespaceCustomMetric_${version}`,
        description: "a metric describing the namespace itself",
        params: ["namespace", "metric"],
        query: ["metricLabelSelector"],
        response: list,
      },
    ];
  }
  if (group === EXTERNAL_GROUP) {
    return [
      {
        path: `${root}/namespaces/{namespace}/{metric}`,
        operationId: `listExternalMetric_${version}`,
        description: "the values of an external metric, filtered by labelSelector",
        params: ["namespace", "metric"],
        query: sel,
        response: `${PREFIX}.external_metrics.${version}.ExternalMetricValueList`,
      },
    ];
  }
  const base = `${PREFIX}.metrics.${version}`;
  return [
    {
      path: `${root}/nodes`,
      operationId: "listNodeMetrics",
      description: "resource usage of nodes",
      params: [],
      query: sel,
      response: `${base}.NodeMetricsList`,
    },
    {
      path: `${root}/nodes/{name}`,
      operationId: "readNodeMetrics",
      description: "resource usage of one node",
      params: ["name"],
      query: [],
      response: `${base}.NodeMetrics`,
    },
    {
      path: `${root}/pods`,
      operationId: "listPodMetricsForAllNamespaces",
      description: "resource usage of pods in all namespaces",
      params: [],
      query: sel,
      response: `${base}.PodMetricsList`,
    },
    {
      path: `${root}/namespaces/{namespace}/pods`,
      operationId: "listNamespacedPodMetrics",
      description: "resource usage of pods in a namespace",
      params: ["namespace"],
      query: sel,
      response: `${base}.PodMetricsList`,
    },
    {
      path: `${root}/namespaces/{namespace}/pods/{name}`,
      operationId: "readNamespacedPodMetrics",
      description: "resource usage of one pod",
      params: ["namespace", "name"],
      query: [],
      response: `${base}.PodMetrics`,
    },
  ];
}

const QUERY_DOC: Record<string, string> = {
  labelSelector: "a label selector choosing the described objects (or external series)",
  metricLabelSelector: "a label selector narrowing the metric's series",
  pretty: "if true, the output is indented",
};

/**
 * One GET path item. Swagger 2.0 and OpenAPI 3.0 say the same things in different places: a
 * response's schema under `content`, a parameter's type under `schema`, no produces/schemes in 3.0.
 */
function pathItem(gv: { group: string; version: string }, op: Operation, format: "v2" | "v3"): object {
  const v3 = format === "v3";
  const stringType = { type: "string", uniqueItems: true };
  const response = v3
    ? {
        description: "OK",
        content: { "application/json": { schema: { $ref: `#/components/schemas/${op.response}` } } },
      }
    : { description: "OK", schema: { $ref: `#/definitions/${op.response}` } };
  return {
    get: {
      description: op.description,
      operationId: op.operationId,
      ...(v3 ? {} : { produces: ["application/json"], schemes: ["https"] }),
      tags: [`${gv.group.replace(/\./g, "_")}_${gv.version}`],
      responses: { "200": response, "401": { description: "Unauthorized" } },
      "x-kubernetes-action": "get",
      "x-kubernetes-group-version-kind": {
        group: gv.group,
        version: gv.version,
        kind: op.response.split(".").pop(),
      },
    },
    parameters: [
      ...op.params.map((name) =>
        v3
          ? { name, in: "path", required: true, schema: stringType }
          : { name, in: "path", required: true, ...stringType },
      ),
      ...[...op.query, "pretty"].map((name) =>
        v3
          ? { name, in: "query", description: QUERY_DOC[name], schema: stringType }
          : { name, in: "query", ...stringType, description: QUERY_DOC[name] },
      ),
    ],
  };
}

export interface OpenAPIDocuments {
  v2: { body: string; etag: string };
  v3Index: { body: string; etag: string };
  /** "apis/<group>/<version>" → document */
  v3: Map<string, { body: string; etag: string; hash: string }>;
}

function hashed(body: string): { body: string; etag: string; hash: string } {
  const hash = createHash("sha512").update(body).digest("hex").toUpperCase();
  return { body, etag: `"${hash}"`, hash };
}

export function buildOpenAPIDocuments(apis: ServedAPIs, version: string): OpenAPIDocuments {
  const info = { title: "prom-hpa adapter", version };
  const gvs = servedGroups(apis).flatMap((g) => g.versions.map((v) => ({ group: g.name, version: v })));

  // Swagger 2.0
  const v2Paths: Record<string, unknown> = {};
  const v2Defs: Record<string, Schema> = {};
  for (const gv of gvs) {
    Object.assign(
      v2Defs,
      definitions(gv.group, gv.version, (n) => ({ $ref: `#/definitions/${n}` })),
    );
    for (const op of operations(gv.group, gv.version)) v2Paths[op.path] = pathItem(gv, op, "v2");
  }
  const v2 = JSON.stringify({
    swagger: "2.0",
    info,
    paths: v2Paths,
    definitions: v2Defs,
    securityDefinitions: { BearerToken: { type: "apiKey", in: "header", name: "authorization" } },
    security: [{ BearerToken: [] }],
  });

  // OpenAPI 3.0, one document per group-version
  const v3 = new Map<string, { body: string; etag: string; hash: string }>();
  const index: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of gvs) {
    const paths: Record<string, unknown> = {};
    for (const op of operations(gv.group, gv.version)) paths[op.path] = pathItem(gv, op, "v3");
    const doc = {
      openapi: "3.0.0",
      info,
      paths,
      components: {
        schemas: definitions(gv.group, gv.version, (n) => ({ $ref: `#/components/schemas/${n}` })),
        securitySchemes: { BearerToken: { type: "apiKey", in: "header", name: "authorization" } },
      },
      security: [{ BearerToken: [] }],
    };
    const key = `apis/${gv.group}/${gv.version}`;
    const entry = hashed(JSON.stringify(doc));
    v3.set(key, entry);
    index[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${entry.hash}` };
  }
  const v3Index = JSON.stringify({ paths: index });
  return { v2: hashed(v2), v3Index: hashed(v3Index), v3 };
}
