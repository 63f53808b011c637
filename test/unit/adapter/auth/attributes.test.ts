import { describe, expect, it } from "vitest";
import { forbiddenMessage, requestAttributes } from "../../../../src/adapter/auth/attributes.js";

describe("requestAttributes (the generic apiserver's request info)", () => {
  it("authorizes a pods/* custom metric read as get on the pods resource with the metric as subresource", () => {
    expect(
      requestAttributes("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests"),
    ).toEqual({
      resourceRequest: true,
      verb: "get",
      group: "custom.metrics.k8s.io",
      version: "v1beta2",
      resource: "pods",
      subresource: "http_requests",
      name: "*",
      namespace: "default",
    });
  });

  it("authorizes an external metric as list on a resource named after the metric", () => {
    expect(
      requestAttributes("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth"),
    ).toMatchObject({
      resourceRequest: true,
      verb: "list",
      resource: "queue_depth",
      name: "",
      namespace: "ns",
    });
  });

  it("treats a namespace metric as get of the metrics resource named by the metric", () => {
    expect(
      requestAttributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/metrics/q"),
    ).toMatchObject({
      verb: "get",
      resource: "metrics",
      name: "q",
      namespace: "ns",
    });
  });

  it("lists pod metrics across namespaces and gets a node's", () => {
    expect(requestAttributes("GET", "/apis/metrics.k8s.io/v1beta1/pods")).toMatchObject({
      verb: "list",
      resource: "pods",
      namespace: "",
    });
    expect(requestAttributes("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1")).toMatchObject({
      verb: "get",
      resource: "nodes",
      name: "n1",
    });
  });

  it("treats discovery, openapi and metrics paths as non-resource requests", () => {
    for (const path of [
      "/apis",
      "/apis/custom.metrics.k8s.io",
      "/apis/custom.metrics.k8s.io/v1beta1",
      "/openapi/v2",
      "/metrics",
    ]) {
      expect(requestAttributes("GET", path)).toEqual({ resourceRequest: false, verb: "get", path });
    }
  });
});

describe("forbiddenMessage", () => {
  it("reads like kube-apiserver's", () => {
    const a = requestAttributes(
      "GET",
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests",
    );
    expect(forbiddenMessage("alice", a, "")).toBe(
      'pods.custom.metrics.k8s.io "*" is forbidden: User "alice" cannot get resource "pods/http_requests" in API group "custom.metrics.k8s.io" in the namespace "default"',
    );
    expect(forbiddenMessage("bob", requestAttributes("GET", "/apis"), "")).toBe(
      'forbidden: User "bob" cannot get path "/apis"',
    );
  });
});
