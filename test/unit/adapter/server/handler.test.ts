import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../../src/log/logger.js";
import { Quantity } from "../../../../src/kube/quantity.js";
import type {
  CustomMetricsProvider,
  ExternalMetricsProvider,
  ResourceMetricsProvider,
} from "../../../../src/adapter/provider.js";
import type { Authenticator, Authorizer } from "../../../../src/adapter/auth/types.js";
import { createRequestHandler } from "../../../../src/adapter/server/handler.js";
import { AdapterMetrics } from "../../../../src/adapter/server/metrics.js";
import { buildOpenAPIDocuments } from "../../../../src/adapter/server/openapi.js";

const q = (s: string): Quantity => {
  const r = Quantity.parse(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const T = new Date("2026-11-25T08:00:00.250Z");

const calls: unknown[] = [];
const callers: unknown[] = [];
// Requests as the providers got them, minus the per-request wait timer (asserted on its own)
// and the caller (kept in `callers`).
function withoutTimer<R extends { wait?: unknown; caller?: unknown }>(req: R): Omit<R, "wait" | "caller"> {
  const { wait: _wait, caller, ...rest } = req;
  callers.push(caller);
  return rest;
}
const custom: CustomMetricsProvider = {
  listCustomMetrics: () => [
    { groupResource: { group: "", resource: "pods" }, metric: "http_requests", namespaced: true },
    { groupResource: { group: "apps", resource: "deployments" }, metric: "http_requests", namespaced: true },
    { groupResource: { group: "", resource: "namespaces" }, metric: "queue_length", namespaced: false },
  ],
  async getMetricByName(req) {
    calls.push(withoutTimer(req));
    if (req.metric === "prom_down")
      return {
        ok: false,
        error: {
          kind: "Unavailable",
          message: "Prometheus at http://127.0.0.1:9 is unreachable: connect ECONNREFUSED",
        },
      };
    if (req.metric !== "http_requests")
      return {
        ok: false,
        error: { kind: "NotFound", message: `the server could not find the metric ${req.metric} for pods` },
      };
    return {
      ok: true,
      value: {
        describedObject: { kind: "Pod", namespace: req.namespace, name: req.name, apiVersion: "/v1" },
        metric: { name: req.metric },
        timestamp: T,
        windowSeconds: 60,
        value: q("1500m"),
      },
    };
  },
  async getMetricBySelector(req) {
    calls.push(withoutTimer(req));
    // As the backend does: the wait on Prometheus is reported to the request's timer.
    req.wait?.start();
    await new Promise((r) => setTimeout(r, 20));
    req.wait?.stop();
    return {
      ok: true,
      value: ["web-1", "web-2"].map((name) => ({
        describedObject: { kind: "Pod", namespace: req.namespace, name, apiVersion: "/v1" },
        metric: { name: req.metric, selector: req.metricSelector },
        timestamp: T,
        value: q("2"),
      })),
    };
  },
};
const external: ExternalMetricsProvider = {
  listExternalMetrics: () => [{ metric: "queue_depth" }],
  async getExternalMetric(req) {
    calls.push(withoutTimer(req));
    return {
      ok: true,
      value: [{ metricName: req.metric, metricLabels: { queue: "jobs" }, timestamp: T, value: q("42") }],
    };
  },
};
const resource: ResourceMetricsProvider = {
  async getPodMetrics(req) {
    calls.push(withoutTimer(req));
    const pods = [
      {
        namespace: "ns",
        name: "web-1",
        labels: { app: "web" },
        timestamp: T,
        windowSeconds: 60,
        containers: [{ name: "app", usage: { cpu: q("250m"), memory: q("64Mi") } }],
      },
    ];
    return { ok: true, value: req.name === undefined || req.name === "web-1" ? pods : [] };
  },
  async getNodeMetrics() {
    return {
      ok: true,
      value: [
        {
          name: "node-1",
          labels: {},
          timestamp: T,
          windowSeconds: 30,
          usage: { cpu: q("1"), memory: q("1Gi") },
        },
      ],
    };
  },
};

// Bearer "good" is alice; "admin" is in system:masters; anything else is anonymous → 401.
const authenticator: Authenticator = {
  authenticate(req) {
    const h = req.headers.authorization;
    if (h === "Bearer good")
      return { ok: true, user: { name: "alice", groups: ["system:authenticated"], extra: {} } };
    if (h === "Bearer admin")
      return { ok: true, user: { name: "root", groups: ["system:masters"], extra: {} } };
    return { ok: false, message: "no credentials" };
  },
};
// alice may read pods metrics and discovery, nothing else.
const authorizer: Authorizer = {
  authorize(user, a) {
    if (user.name === "root") return { decision: "allow" };
    if (!a.resourceRequest) return { decision: "allow" };
    return a.resource === "pods" || a.resource === "queue_depth"
      ? { decision: "allow" }
      : { decision: "deny", reason: "" };
  },
};

let server: Server;
let base: string;
let ready = false;

beforeAll(async () => {
  const metrics = new AdapterMetrics({ defaultMetrics: false });
  const apis = { custom: true, external: true, resource: true };
  server = createServer(
    createRequestHandler({
      providers: { custom, external, resource },
      apis,
      authenticator,
      authorizer,
      health: {
        livez: [{ name: "ping", check: () => undefined }],
        readyz: [
          { name: "ping", check: () => undefined },
          { name: "prometheus", check: () => (ready ? undefined : "no answer yet") },
        ],
      },
      metrics,
      openapi: buildOpenAPIDocuments(apis, "v0.1.0"),
      logger: silentLogger,
      version: "v0.1.0",
      now: () => T,
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
type Json = any;

async function get(
  path: string,
  token = "good",
  headers: Record<string, string> = {},
): Promise<{ code: number; body: Json; text: string; headers: Headers }> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { code: res.status, body, text, headers: res.headers };
}

describe("custom.metrics.k8s.io", () => {
  it("answers pods/* with a v1beta2 MetricValueList whose values are canonical quantities", async () => {
    const r = await get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/http_requests?labelSelector=app%3Dweb&metricLabelSelector=code%3D200",
    );
    expect(r.code).toBe(200);
    expect(r.body).toEqual({
      kind: "MetricValueList",
      apiVersion: "custom.metrics.k8s.io/v1beta2",
      metadata: {},
      items: ["web-1", "web-2"].map((name) => ({
        describedObject: { kind: "Pod", namespace: "ns", name, apiVersion: "/v1" },
        metric: { name: "http_requests", selector: { matchLabels: { code: "200" } } },
        timestamp: "2026-11-25T08:00:00Z",
        value: "2",
      })),
    });
    expect(calls.at(-1)).toEqual({
      namespace: "ns",
      groupResource: { group: "", resource: "pods" },
      selector: "app=web",
      metric: "http_requests",
      metricSelector: "code=200",
    });
  });

  it("says in a Server-Timing header how long the request took and how much of it was Prometheus", async () => {
    const r = await get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/http_requests?labelSelector=app%3Dweb",
    );
    expect(r.code).toBe(200);
    const m = /^total;dur=(\d+\.\d{3}), prometheus;dur=(\d+\.\d{3})$/.exec(
      r.headers.get("server-timing") ?? "",
    );
    expect(m).not.toBeNull();
    const [total, prometheus] = [Number(m?.[1]), Number(m?.[2])];
    expect(prometheus).toBeGreaterThanOrEqual(15); // the fake provider waits 20 ms
    expect(total).toBeGreaterThanOrEqual(prometheus);
    // Discovery and health answers carry no timing.
    expect((await get("/apis/custom.metrics.k8s.io/v1beta2")).headers.get("server-timing")).toBeNull();
  });

  it("answers a named object in v1beta1 shape: metricName, window, top-level selector", async () => {
    const r = await get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1/http_requests");
    expect(r.body.items).toEqual([
      {
        describedObject: { kind: "Pod", namespace: "ns", name: "web-1", apiVersion: "/v1" },
        metricName: "http_requests",
        timestamp: "2026-11-25T08:00:00Z",
        window: 60,
        value: "1500m",
        selector: null,
      },
    ]);
  });

  it("gives the provider the authenticated caller, for a delegate to forward", async () => {
    await get("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth", "admin");
    expect(callers.at(-1)).toEqual({ name: "root", groups: ["system:masters"], extra: {} });
  });

  it("asks the provider for a namespace metric as the namespaces object named by the namespace", async () => {
    await get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/metrics/http_requests", "admin");
    expect(calls.at(-1)).toEqual({
      namespace: undefined,
      groupResource: { group: "", resource: "namespaces" },
      name: "team-a",
      metric: "http_requests",
      metricSelector: "",
    });
  });

  it("answers a malformed selector with a 400 BadRequest Status naming the parameter", async () => {
    const r = await get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/http_requests?labelSelector=app%3D%3D%3Dweb",
    );
    expect(r.code).toBe(400);
    expect(r.body).toMatchObject({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "BadRequest",
      code: 400,
    });
    expect(r.body.message).toMatch(/^labelSelector: /);
  });

  it("turns provider errors into 404 NotFound and 503 ServiceUnavailable with the cause", async () => {
    const nf = await get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1/nope");
    expect(nf.code).toBe(404);
    expect(nf.body).toMatchObject({
      reason: "NotFound",
      message: "the server could not find the metric nope for pods",
    });
    const down = await get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1/prom_down");
    expect(down.code).toBe(503);
    expect(down.body).toMatchObject({ reason: "ServiceUnavailable", code: 503 });
    expect(down.body.message).toContain("ECONNREFUSED");
  });
});

describe("external.metrics.k8s.io and metrics.k8s.io", () => {
  it("answers an ExternalMetricValueList and passes labelSelector as the metric selector", async () => {
    const r = await get(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth?labelSelector=queue%3Djobs",
    );
    expect(r.body).toEqual({
      kind: "ExternalMetricValueList",
      apiVersion: "external.metrics.k8s.io/v1beta1",
      metadata: {},
      items: [
        {
          metricName: "queue_depth",
          metricLabels: { queue: "jobs" },
          timestamp: "2026-11-25T08:00:00Z",
          value: "42",
        },
      ],
    });
    expect(calls.at(-1)).toEqual({ namespace: "ns", metric: "queue_depth", metricSelector: "queue=jobs" });
  });

  it("answers PodMetricsList, one PodMetrics, and 404 for a pod without metrics", async () => {
    const list = await get("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods");
    expect(list.body.kind).toBe("PodMetricsList");
    expect(list.body.items[0]).toEqual({
      kind: "PodMetrics",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {
        name: "web-1",
        namespace: "ns",
        creationTimestamp: "2026-11-25T08:00:00Z",
        labels: { app: "web" },
      },
      timestamp: "2026-11-25T08:00:00Z",
      window: "1m0s",
      containers: [{ name: "app", usage: { cpu: "250m", memory: "64Mi" } }],
    });
    expect((await get("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1")).body.kind).toBe("PodMetrics");
    const missing = await get("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/ghost");
    expect(missing.code).toBe(404);
    expect(missing.body.message).toBe('podmetrics.metrics.k8s.io "ns/ghost" not found');
  });

  it("answers NodeMetrics with the window as a Go duration", async () => {
    const r = await get("/apis/metrics.k8s.io/v1beta1/nodes/node-1", "admin");
    expect(r.body).toMatchObject({ kind: "NodeMetrics", window: "30s", usage: { cpu: "1", memory: "1Gi" } });
  });
});

describe("authentication and authorization", () => {
  it("refuses requests without credentials with a 401 Status", async () => {
    const r = await get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/*/http_requests", "bad");
    expect(r.code).toBe(401);
    expect(r.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Unauthorized",
      reason: "Unauthorized",
      code: 401,
    });
  });

  it("refuses what the authorizer denies with a 403 Status saying who and what", async () => {
    const r = await get(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/deployments.apps/web/http_requests",
    );
    expect(r.code).toBe(403);
    expect(r.body.reason).toBe("Forbidden");
    expect(r.body.message).toContain('User "alice" cannot get resource "deployments.apps/http_requests"');
  });

  it("serves health endpoints without credentials", async () => {
    const r = await get("/livez", "bad");
    expect(r.code).toBe(200);
    expect(r.text).toBe("ok");
  });
});

describe("discovery and openapi", () => {
  it("lists the three groups with v1beta2 preferred for custom metrics", async () => {
    const r = await get("/apis");
    expect(r.body.kind).toBe("APIGroupList");
    expect(r.body.groups.map((g: { name: string }) => g.name)).toEqual([
      "custom.metrics.k8s.io",
      "external.metrics.k8s.io",
      "metrics.k8s.io",
    ]);
    expect(r.body.groups[0].preferredVersion).toEqual({
      groupVersion: "custom.metrics.k8s.io/v1beta2",
      version: "v1beta2",
    });
  });

  it("lists each custom metric as resource/metric in the APIResourceList", async () => {
    const r = await get("/apis/custom.metrics.k8s.io/v1beta1");
    expect(r.body).toEqual({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "custom.metrics.k8s.io/v1beta1",
      resources: [
        {
          name: "deployments.apps/http_requests",
          singularName: "",
          namespaced: true,
          kind: "MetricValueList",
          verbs: ["get"],
        },
        {
          name: "namespaces/queue_length",
          singularName: "",
          namespaced: false,
          kind: "MetricValueList",
          verbs: ["get"],
        },
        {
          name: "pods/http_requests",
          singularName: "",
          namespaced: true,
          kind: "MetricValueList",
          verbs: ["get"],
        },
      ],
    });
    const m = await get("/apis/metrics.k8s.io/v1beta1");
    expect(m.body.resources.map((x: { name: string; kind: string }) => `${x.name}:${x.kind}`)).toEqual([
      "nodes:NodeMetrics",
      "pods:PodMetrics",
    ]);
  });

  it("answers the aggregator's aggregated-discovery request with 406 so it falls back to legacy discovery", async () => {
    const accept =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
    expect((await get("/apis", "good", { accept })).code).toBe(406);
    // kubectl adds plain JSON as a fallback: that gets the legacy document
    const r = await get("/apis", "good", { accept: `${accept},application/json` });
    expect(r.code).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.body.kind).toBe("APIGroupList");
  });

  it("serves OpenAPI v2 and a v3 index whose URLs answer with the documents", async () => {
    const v2 = await get("/openapi/v2");
    expect(v2.body.swagger).toBe("2.0");
    expect(Object.keys(v2.body.paths)).toContain(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}",
    );
    const again = await fetch(base + "/openapi/v2", {
      headers: { authorization: "Bearer good", "if-none-match": v2.headers.get("etag")! },
    });
    expect(again.status).toBe(304);
    const index = await get("/openapi/v3");
    const url: string = index.body.paths["apis/metrics.k8s.io/v1beta1"].serverRelativeURL;
    const doc = await get(url);
    expect(doc.body.openapi).toBe("3.0.0");
    expect(Object.keys(doc.body.components.schemas)).toContain(
      "io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics",
    );
  });

  it("answers unknown paths and other verbs with Status objects", async () => {
    // authorization comes first (as in kube-apiserver): an allowed user learns it does not exist
    expect((await get("/apis/foo.example.com/v1/things")).code).toBe(403);
    const r = await get("/apis/foo.example.com/v1/things", "admin");
    expect(r.code).toBe(404);
    expect(r.body).toMatchObject({ kind: "Status", reason: "NotFound" });
    const post = await fetch(base + "/apis/custom.metrics.k8s.io/v1beta1", {
      method: "POST",
      headers: { authorization: "Bearer admin" },
    });
    expect(post.status).toBe(405);
  });
});

describe("health and /metrics", () => {
  it("reports readiness per check, verbose like kube servers", async () => {
    ready = false;
    const down = await get("/readyz", "bad");
    expect(down.code).toBe(500);
    expect(down.text).toBe("[+]ping ok\n[-]prometheus failed: reason withheld\nreadyz check failed\n");
    ready = true;
    expect((await get("/readyz", "bad")).text).toBe("ok");
    expect((await get("/readyz?verbose", "bad")).text).toBe(
      "[+]ping ok\n[+]prometheus ok\nreadyz check passed\n",
    );
  });

  it("counts requests by group, resource and code", async () => {
    const r = await get("/metrics", "admin");
    expect(r.text).toMatch(
      /prom_hpa_adapter_requests_total\{group="custom.metrics.k8s.io",version="v1beta2",resource="pods",verb="get",code="200"\} \d+/,
    );
    expect(r.text).toMatch(/prom_hpa_adapter_requests_total\{[^}]*code="401"\} \d+/);
    // a refused request's made-up resource does not become a label value
    expect(r.text).toMatch(
      /prom_hpa_adapter_requests_total\{group="custom.metrics.k8s.io",version="v1beta1",resource="other",verb="get",code="403"\} \d+/,
    );
    expect(r.text).not.toContain('resource="deployments.apps"');
  });
});
