import { describe, expect, it } from "vitest";
import { parseRoute, splitGroupResource } from "../../../../src/adapter/server/routes.js";

describe("parseRoute", () => {
  it("reads a namespaced custom metric for all pods", () => {
    expect(parseRoute("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests")).toEqual(
      {
        ok: true,
        route: {
          kind: "customObject",
          version: "v1beta2",
          namespace: "default",
          resource: "pods",
          name: "*",
          metric: "http_requests",
        },
      },
    );
  });

  it("reads a cluster-scoped custom metric, keeping the group in the resource", () => {
    expect(parseRoute("/apis/custom.metrics.k8s.io/v1beta1/nodes/node-1/load")).toEqual({
      ok: true,
      route: { kind: "customObject", version: "v1beta1", resource: "nodes", name: "node-1", metric: "load" },
    });
    const r = parseRoute("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/deployments.apps/web/rps");
    expect(r.ok && r.route.kind === "customObject" && r.route.resource).toBe("deployments.apps");
  });

  it("tells the namespace-metric path (4 segments) from namespaced objects (5)", () => {
    expect(parseRoute("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/metrics/queue_length")).toEqual({
      ok: true,
      route: { kind: "customNamespace", version: "v1beta1", namespace: "team-a", metric: "queue_length" },
    });
    // 3 segments under namespaces: the namespace object, cluster-scoped
    expect(parseRoute("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/queue_length")).toEqual({
      ok: true,
      route: {
        kind: "customObject",
        version: "v1beta1",
        resource: "namespaces",
        name: "team-a",
        metric: "queue_length",
      },
    });
  });

  it("reads external metrics and the resource metrics paths kubectl top uses", () => {
    expect(parseRoute("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth")).toEqual({
      ok: true,
      route: { kind: "external", namespace: "ns", metric: "queue_depth" },
    });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods")).toEqual({
      ok: true,
      route: { kind: "podMetrics", namespace: "ns" },
    });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1")).toEqual({
      ok: true,
      route: { kind: "podMetrics", namespace: "ns", name: "web-1" },
    });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/pods")).toEqual({
      ok: true,
      route: { kind: "podMetrics" },
    });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/nodes/n1")).toEqual({
      ok: true,
      route: { kind: "nodeMetrics", name: "n1" },
    });
  });

  it("decodes percent-encoded segments and rejects malformed ones", () => {
    const r = parseRoute("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/%2A/m");
    expect(r.ok && r.route.kind === "customObject" && r.route.name).toBe("*");
    expect(parseRoute("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/%E0%A4%A/m")).toMatchObject({
      ok: false,
      reason: "BadRequest",
    });
  });

  it("answers NotFound for paths no API serves", () => {
    for (const p of [
      "/api/v1/pods",
      "/apis/custom.metrics.k8s.io/v1/pods/x/m",
      "/apis/metrics.k8s.io/v1beta1/namespaces/ns",
      "/apis/custom.metrics.k8s.io/v1beta1/a/b/c/d/e/f",
      "/foo",
    ]) {
      expect(parseRoute(p)).toMatchObject({ ok: false, reason: "NotFound" });
    }
  });

  it("routes discovery, openapi and health paths", () => {
    expect(parseRoute("/apis")).toEqual({ ok: true, route: { kind: "apis" } });
    expect(parseRoute("/apis/metrics.k8s.io/")).toEqual({
      ok: true,
      route: { kind: "group", group: "metrics.k8s.io" },
    });
    expect(parseRoute("/openapi/v3/apis/custom.metrics.k8s.io/v1beta2")).toEqual({
      ok: true,
      route: { kind: "openapiV3GroupVersion", group: "custom.metrics.k8s.io", version: "v1beta2" },
    });
    expect(parseRoute("/readyz/prometheus")).toEqual({
      ok: true,
      route: { kind: "health", endpoint: "readyz", check: "prometheus" },
    });
  });
});

describe("splitGroupResource", () => {
  it("splits at the first dot: the resource never has one, the group may", () => {
    expect(splitGroupResource("pods")).toEqual({ group: "", resource: "pods" });
    expect(splitGroupResource("ingresses.networking.k8s.io")).toEqual({
      group: "networking.k8s.io",
      resource: "ingresses",
    });
  });
});
