import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../src/autoscaler/controller/clock.js";
import { KubeEventRecorder } from "../../../../src/autoscaler/api/events.js";
import { KubeHpaWriter } from "../../../../src/autoscaler/api/hpa.js";
import { KubeLeaseStore } from "../../../../src/autoscaler/api/lease.js";
import { KubeScaleClient } from "../../../../src/autoscaler/api/scale.js";
import { ApiMetricsClient } from "../../../../src/autoscaler/metrics/client.js";
import type { KubeApi } from "../../../../src/kube/client.js";
import { RESTMapper } from "../../../../src/kube/mapper.js";
import { metricSpecSchema, type MetricSpec } from "../../../../src/kube/objects.js";
import { silentLogger } from "../../../../src/log/logger.js";
import { FakeApi, status } from "./fake-api.js";
import { makeHpa } from "../fakes.js";

const mapperOn = (client: KubeApi): RESTMapper => new RESTMapper({ client, logger: silentLogger });

function discoveryRoutes(http: FakeApi): FakeApi {
  return http
    .on("GET", "/apis/apps", () => ({
      name: "apps",
      versions: [{ groupVersion: "apps/v1", version: "v1" }],
      preferredVersion: { groupVersion: "apps/v1", version: "v1" },
    }))
    .on("GET", "/apis/apps/v1", () => ({
      groupVersion: "apps/v1",
      resources: [
        { name: "deployments", kind: "Deployment", namespaced: true },
        { name: "deployments/scale", kind: "Scale", namespaced: true },
        { name: "deployments/status", kind: "Deployment", namespaced: true },
        { name: "controllerrevisions", kind: "ControllerRevision", namespaced: true },
      ],
    }))
    .on("GET", "/apis/example.com", () => ({
      name: "example.com",
      versions: [
        { groupVersion: "example.com/v2", version: "v2" },
        { groupVersion: "example.com/v1", version: "v1" },
      ],
      preferredVersion: { groupVersion: "example.com/v2", version: "v2" },
    }))
    .on("GET", "/apis/example.com/v2", () => ({
      groupVersion: "example.com/v2",
      resources: [
        { name: "workers", kind: "Worker", namespaced: true },
        { name: "workers/scale", kind: "Scale", namespaced: true },
      ],
    }))
    .on("GET", "/api/v1", () => ({
      groupVersion: "v1",
      resources: [
        { name: "services", kind: "Service", namespaced: true },
        { name: "replicationcontrollers", kind: "ReplicationController", namespaced: true },
        { name: "replicationcontrollers/scale", kind: "Scale", namespaced: true },
      ],
    }));
}

const metric = (m: unknown): MetricSpec => metricSpecSchema.parse(m);

describe("metrics client: the paths and parameters kube-controller-manager uses", () => {
  const http = discoveryRoutes(new FakeApi())
    .on("GET", /^\/apis\/metrics\.k8s\.io\//, () => ({
      kind: "PodMetricsList",
      apiVersion: "metrics.k8s.io/v1beta1",
      items: [],
    }))
    .on("GET", /^\/apis\/custom\.metrics\.k8s\.io\//, (c) =>
      c.path.includes("/pods/*/")
        ? { kind: "MetricValueList", items: [] }
        : {
            kind: "MetricValueList",
            items: [
              {
                describedObject: { kind: "Service", name: "front" },
                metric: { name: "rps" },
                timestamp: "2026-01-01T00:00:00Z",
                value: "10",
              },
            ],
          },
    )
    .on("GET", /^\/apis\/external\.metrics\.k8s\.io\//, () => ({
      kind: "ExternalMetricValueList",
      items: [],
    }));
  const client = new ApiMetricsClient(http, mapperOn(http));

  it("Resource and ContainerResource: PodMetricsList of the pods the scale selects", async () => {
    http.calls.length = 0;
    const r = await client.read(
      "ns1",
      metric({
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
      }),
      "app=web",
    );
    expect(r).toMatchObject({ kind: "PodMetricsList" });
    await client.read(
      "ns1",
      metric({
        type: "ContainerResource",
        containerResource: {
          name: "cpu",
          container: "c",
          target: { type: "Utilization", averageUtilization: 50 },
        },
      }),
      "app=web",
    );
    expect(http.calls.map((c) => [c.path, c.query])).toEqual([
      ["/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods", { labelSelector: "app=web" }],
      ["/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods", { labelSelector: "app=web" }],
    ]);
  });

  it("Pods: custom.metrics.k8s.io v1beta2 pods/*/<metric> with the pod and metric selectors", async () => {
    http.calls.length = 0;
    await client.read(
      "ns1",
      metric({
        type: "Pods",
        pods: {
          metric: { name: "cpu_system", selector: { matchLabels: { mode: "system" } } },
          target: { type: "AverageValue", averageValue: "100m" },
        },
      }),
      "app=web",
    );
    await client.read(
      "ns1",
      metric({
        type: "Pods",
        pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "1" } },
      }),
      "app=web",
    );
    expect(http.calls.map((c) => [c.path, c.query])).toEqual([
      [
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/pods/*/cpu_system",
        { labelSelector: "app=web", metricLabelSelector: "mode=system" },
      ],
      ["/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/pods/*/rps", { labelSelector: "app=web" }],
    ]);
  });

  it("Object: the described object's resource (through discovery) and name; exactly one value", async () => {
    http.calls.length = 0;
    const ok = await client.read(
      "ns1",
      metric({
        type: "Object",
        object: {
          describedObject: { apiVersion: "v1", kind: "Service", name: "front" },
          metric: { name: "rps" },
          target: { type: "Value", value: "10" },
        },
      }),
      "app=web",
    );
    expect(ok).toMatchObject({ kind: "MetricValueList" });
    await client.read(
      "ns1",
      metric({
        type: "Object",
        object: {
          describedObject: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
          metric: { name: "rps" },
          target: { type: "Value", value: "10" },
        },
      }),
      "",
    );
    const custom = http.calls.filter((c) => c.path.startsWith("/apis/custom"));
    expect(custom.map((c) => c.path)).toEqual([
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/services/front/rps",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/deployments.apps/web/rps",
    ]);
  });

  it("Object on a Namespace reads the namespace's metric at namespaces/<ns>/metrics/<metric>", async () => {
    http.calls.length = 0;
    await client.read(
      "ns1",
      metric({
        type: "Object",
        object: {
          describedObject: { apiVersion: "v1", kind: "Namespace", name: "ignored" },
          metric: { name: "queue" },
          target: { type: "Value", value: "1" },
        },
      }),
      "",
    );
    expect(http.calls.map((c) => c.path)).toEqual([
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns1/metrics/queue",
    ]);
  });

  it("Object of an unknown kind: unable to map kind", async () => {
    const r = await client.read(
      "ns1",
      metric({
        type: "Object",
        object: {
          describedObject: { apiVersion: "nope.io/v1", kind: "Thing", name: "x" },
          metric: { name: "rps" },
          target: { type: "Value", value: "10" },
        },
      }),
      "",
    );
    expect("error" in r && r.error).toMatch(
      /^unable to map kind Thing\.nope\.io to resource: no matches for kind "Thing" in group "nope.io"/,
    );
  });

  it("External: external.metrics.k8s.io/v1beta1 namespaces/<ns>/<metric> with the metric selector", async () => {
    http.calls.length = 0;
    await client.read(
      "ns1",
      metric({
        type: "External",
        external: {
          metric: { name: "queue_depth", selector: { matchLabels: { queue: "jobs" } } },
          target: { type: "Value", value: "10" },
        },
      }),
      "app=web",
    );
    expect(http.calls.map((c) => [c.path, c.query])).toEqual([
      ["/apis/external.metrics.k8s.io/v1beta1/namespaces/ns1/queue_depth", { labelSelector: "queue=jobs" }],
    ]);
  });

  it("a failed call becomes { error } with the API's message (the algorithm adds upstream's prefix)", async () => {
    const h = new FakeApi().on("GET", /external/, () => {
      throw status(503, "ServiceUnavailable", "the server is currently unable to handle the request");
    });
    const r = await new ApiMetricsClient(h, mapperOn(h)).read(
      "ns1",
      metric({
        type: "External",
        external: { metric: { name: "q" }, target: { type: "Value", value: "1" } },
      }),
      "",
    );
    expect(r).toEqual({ error: "the server is currently unable to handle the request" });
  });

  it("an answer that is not the expected list becomes { error }", async () => {
    const h = new FakeApi().on("GET", /metrics\.k8s\.io/, () => ({ kind: "Status", message: "weird" }));
    const r = await new ApiMetricsClient(h, mapperOn(h)).read(
      "ns1",
      metric({
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 5 } },
      }),
      "",
    );
    expect("error" in r && r.error).toMatch(
      /^unexpected answer from \/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/ns1\/pods: /,
    );
  });

  it("an unknown metric type is an error without any call", async () => {
    const h = new FakeApi();
    const r = await new ApiMetricsClient(h, mapperOn(h)).read("ns1", metric({ type: "CheddarCheese" }), "");
    expect(r).toEqual({ error: "unknown metric source type 'CheddarCheese': no metrics API is queried" });
    expect(h.calls).toHaveLength(0);
  });
});

describe("scale subresource through discovery", () => {
  const scaleAnswer = (c: { path: string }) => ({
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name: c.path.split("/").slice(-2)[0], namespace: "ns1", resourceVersion: "7" },
    spec: { replicas: 3 },
    status: { replicas: 3, selector: "app=web" },
  });

  it("Deployment, a custom resource in another version than referenced, and ReplicationController", async () => {
    const http = discoveryRoutes(new FakeApi())
      .on("GET", /\/scale$/, scaleAnswer)
      .on("PUT", /\/scale$/, (c) => c.body);
    const client = new KubeScaleClient(http, mapperOn(http));
    const dep = await client.getScale("ns1", { apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect(dep).toMatchObject({ replicas: 3, selector: "app=web" });
    await client.getScale("ns1", { apiVersion: "example.com/v1", kind: "Worker", name: "w" });
    await client.getScale("ns1", { apiVersion: "v1", kind: "ReplicationController", name: "rc" });
    await client.updateScale(dep, 5);
    expect(http.calls.filter((c) => c.path.endsWith("/scale")).map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /apis/apps/v1/namespaces/ns1/deployments/web/scale",
      "GET /apis/example.com/v2/namespaces/ns1/workers/w/scale",
      "GET /api/v1/namespaces/ns1/replicationcontrollers/rc/scale",
      "PUT /apis/apps/v1/namespaces/ns1/deployments/web/scale",
    ]);
    expect(http.calls.at(-1)?.body).toMatchObject({
      kind: "Scale",
      metadata: { resourceVersion: "7" },
      spec: { replicas: 5 },
    });
  });

  it("reads status.replicas, and retries a conflicting update on the scale read again (RetryOnConflict, 5 attempts)", async () => {
    let gets = 0;
    let puts = 0;
    const http = discoveryRoutes(new FakeApi())
      .on("GET", /\/scale$/, (c) => ({
        ...scaleAnswer(c),
        metadata: { name: "web", namespace: "ns1", resourceVersion: String(7 + gets++) },
        status: { replicas: 2, selector: "app=web" },
      }))
      .on("PUT", /\/scale$/, (c) => {
        if (++puts < 3) throw status(409, "Conflict", "the object has been modified");
        return c.body;
      });
    const client = new KubeScaleClient(http, mapperOn(http));
    const dep = await client.getScale("ns1", { apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect(dep).toMatchObject({ replicas: 3, statusReplicas: 2 });
    await client.updateScale(dep, 5);
    const scaleCalls = http.calls.filter((c) => c.path.endsWith("/scale"));
    expect(scaleCalls.map((c) => c.method)).toEqual(["GET", "PUT", "GET", "PUT", "GET", "PUT"]);
    const puts_ = scaleCalls
      .filter((c) => c.method === "PUT")
      .map((c) => c.body as { metadata: { resourceVersion: string }; spec: { replicas: number } });
    expect(puts_.map((b) => [b.metadata.resourceVersion, b.spec.replicas])).toEqual([
      ["7", 5],
      ["8", 5],
      ["9", 5],
    ]);

    puts = -100; // conflicts every time
    await expect(client.updateScale(dep, 4)).rejects.toThrowError("the object has been modified");
    expect(http.calls.filter((c) => c.method === "PUT").length - 3).toBe(5);
  });

  it("a scale update failing otherwise is not retried", async () => {
    const http = discoveryRoutes(new FakeApi())
      .on("GET", /\/scale$/, scaleAnswer)
      .on("PUT", /\/scale$/, () => {
        throw status(403, "Forbidden", "forbidden");
      });
    const client = new KubeScaleClient(http, mapperOn(http));
    const dep = await client.getScale("ns1", { apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    await expect(client.updateScale(dep, 4)).rejects.toThrowError("forbidden");
    expect(http.calls.filter((c) => c.method === "PUT")).toHaveLength(1);
  });

  it("a kind without a scale subresource or unknown to discovery is a FailedGetScale-worthy error", async () => {
    const http = discoveryRoutes(new FakeApi());
    const client = new KubeScaleClient(http, mapperOn(http));
    await expect(
      client.getScale("ns1", { apiVersion: "v1", kind: "Service", name: "s" }),
    ).rejects.toThrowError("services has no scale subresource");
    await expect(
      client.getScale("ns1", { apiVersion: "apps/v1", kind: "Nope", name: "s" }),
    ).rejects.toThrowError('no matches for kind "Nope" in group "apps"');
    await expect(
      client.getScale("ns1", { apiVersion: "a/b/c", kind: "Nope", name: "s" }),
    ).rejects.toThrowError("unexpected GroupVersion string: a/b/c");
  });

  it("the target's NotFound message passes through", async () => {
    const http = discoveryRoutes(new FakeApi()).on("GET", /\/scale$/, () => {
      throw status(404, "NotFound", 'deployments.apps "web" not found');
    });
    await expect(
      new KubeScaleClient(http, mapperOn(http)).getScale("ns1", {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "web",
      }),
    ).rejects.toThrowError('deployments.apps "web" not found');
  });

  it("discovery is cached: many syncs, one discovery call per group/version", async () => {
    const http = discoveryRoutes(new FakeApi()).on("GET", /\/scale$/, scaleAnswer);
    const client = new KubeScaleClient(http, mapperOn(http));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.getScale("ns1", { apiVersion: "apps/v1", kind: "Deployment", name: `w${i}` }),
      ),
    );
    expect(http.calls.filter((c) => c.path === "/apis/apps/v1")).toHaveLength(1);
  });
});

describe("HPA status writes", () => {
  it("one update with the HPA as given; answers the written uid and resourceVersion", async () => {
    const http = new FakeApi().on(
      "PUT",
      "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/a/status",
      (c) => ({
        ...(c.body as object),
        metadata: { name: "a", namespace: "default", uid: "u-a", resourceVersion: "42" },
      }),
    );
    const w = await new KubeHpaWriter(http).updateStatus(makeHpa("a"), {
      currentReplicas: 2,
      desiredReplicas: 4,
    });
    expect(w).toEqual({ uid: "u-a", resourceVersion: "42" });
    expect(http.calls).toHaveLength(1);
    expect(http.calls[0]?.body).toMatchObject({
      metadata: { resourceVersion: "1" },
      status: { currentReplicas: 2, desiredReplicas: 4 },
    });
  });

  it("a conflict is reported, not retried (upstream's updateStatus)", async () => {
    const http = new FakeApi()
      .on("PUT", /\/status$/, () => {
        throw status(409, "Conflict", "the object has been modified");
      })
      .on("GET", /horizontalpodautoscalers\/a$/, () => JSON.parse(JSON.stringify(makeHpa("a"))));
    await expect(new KubeHpaWriter(http).updateStatus(makeHpa("a"), {})).rejects.toThrowError(
      "the object has been modified",
    );
    expect(http.calls.map((c) => c.method)).toEqual(["PUT"]);
  });

  it("other failures are not retried", async () => {
    const http = new FakeApi().on("PUT", /\/status$/, () => {
      throw status(403, "Forbidden", "forbidden");
    });
    await expect(new KubeHpaWriter(http).updateStatus(makeHpa("a"), {})).rejects.toThrowError("forbidden");
    expect(http.calls).toHaveLength(1);
  });

  it("annotations go as a merge patch of metadata only", async () => {
    const http = new FakeApi().on("PATCH", /horizontalpodautoscalers\/a$/, () => ({}));
    await new KubeHpaWriter(http).patchAnnotations("default", "a", { x: "1", y: null });
    expect(http.calls[0]).toMatchObject({
      patchType: "merge",
      body: { metadata: { annotations: { x: "1", y: null } } },
    });
  });
});

describe("Events", () => {
  it("writes the built-in controller's shape and folds repeats into count/lastTimestamp", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const http = new FakeApi()
      .on("POST", "/api/v1/namespaces/default/events", (c) => c.body)
      .on("PATCH", /\/api\/v1\/namespaces\/default\/events\//, (c) => c.body);
    const rec = new KubeEventRecorder(http, clock, silentLogger);
    const ref = { namespace: "default", name: "web", uid: "u1", resourceVersion: "5" };
    rec.record(ref, {
      type: "Normal",
      reason: "SuccessfulRescale",
      message: "New size: 3; reason: cpu resource utilization (percentage of request) above target",
    });
    await rec.flush();
    await clock.advance(15_000);
    rec.record(ref, {
      type: "Normal",
      reason: "SuccessfulRescale",
      message: "New size: 3; reason: cpu resource utilization (percentage of request) above target",
    });
    rec.record(ref, { type: "Warning", reason: "FailedGetScale", message: "boom" });
    await rec.flush();
    const [create, patch, other] = http.calls;
    expect(create?.body).toMatchObject({
      involvedObject: {
        kind: "HorizontalPodAutoscaler",
        apiVersion: "autoscaling/v2",
        namespace: "default",
        name: "web",
        uid: "u1",
      },
      reason: "SuccessfulRescale",
      type: "Normal",
      source: { component: "horizontal-pod-autoscaler" },
      count: 1,
      firstTimestamp: "2026-01-01T00:00:00Z",
    });
    expect((create?.body as { metadata: { name: string } }).metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(patch).toMatchObject({
      method: "PATCH",
      body: { count: 2, lastTimestamp: "2026-01-01T00:00:15Z" },
    });
    expect(patch?.path).toBe(
      `/api/v1/namespaces/default/events/${(create?.body as { metadata: { name: string } }).metadata.name}`,
    );
    expect(other).toMatchObject({
      method: "POST",
      body: { reason: "FailedGetScale", type: "Warning", count: 1 },
    });
  });

  it("starts a new Event when the folded one has expired", async () => {
    const clock = new FakeClock(0);
    const http = new FakeApi()
      .on("POST", /events$/, (c) => c.body)
      .on("PATCH", /events\//, () => {
        throw status(404, "NotFound", "gone");
      });
    const rec = new KubeEventRecorder(http, clock, silentLogger);
    const e = { type: "Normal" as const, reason: "R", message: "m" };
    rec.record({ namespace: "n", name: "h" }, e);
    await rec.flush();
    rec.record({ namespace: "n", name: "h" }, e);
    await rec.flush();
    expect(http.calls.map((c) => c.method)).toEqual(["POST", "PATCH", "POST"]);
  });

  it("a failed write never throws into the caller", async () => {
    const http = new FakeApi().on("POST", /events$/, () => {
      throw status(403, "Forbidden", "no");
    });
    const rec = new KubeEventRecorder(http, new FakeClock(0), silentLogger);
    expect(() =>
      rec.record({ namespace: "n", name: "h" }, { type: "Normal", reason: "R", message: "m" }),
    ).not.toThrow();
    await rec.flush();
  });
});

describe("Lease store", () => {
  it("maps a coordination.k8s.io/v1 Lease to the election record, with MicroTime timestamps", async () => {
    const http = new FakeApi()
      .on("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", () => ({
        metadata: { name: "l", resourceVersion: "9" },
        spec: {
          holderIdentity: "a",
          leaseDurationSeconds: 15,
          acquireTime: "2026-01-01T00:00:00.000000Z",
          renewTime: "2026-01-01T00:00:10.500000Z",
          leaseTransitions: 2,
        },
      }))
      .on("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", (c) => ({
        ...(c.body as object),
        metadata: { name: "l", resourceVersion: "10" },
      }));
    const store = new KubeLeaseStore(http, "kube-system", "l");
    const got = await store.get();
    expect(got).toEqual({
      resourceVersion: "9",
      record: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: Date.parse("2026-01-01T00:00:00Z"),
        renewTime: Date.parse("2026-01-01T00:00:10.5Z"),
        leaseTransitions: 2,
      },
    });
    await store.update({ ...got!.record, renewTime: Date.parse("2026-01-01T00:00:12.25Z") }, "9");
    expect(http.calls[1]?.body).toMatchObject({
      metadata: { resourceVersion: "9" },
      spec: { renewTime: "2026-01-01T00:00:12.250000Z" },
    });
  });

  it("a missing lease reads as null", async () => {
    expect(await new KubeLeaseStore(new FakeApi(), "ns", "l").get()).toBeNull();
  });
});
