import { describe, expect, it } from "vitest";
import { ApiMetricsClient } from "../../../../src/autoscaler/metrics/client.js";
import { RESTMapper } from "../../../../src/kube/mapper.js";
import { metricSpecSchema } from "../../../../src/kube/objects.js";
import { silentLogger } from "../../../../src/log/logger.js";
import { FakeApi } from "./fake-api.js";

const podsMetric = metricSpecSchema.parse({
  type: "Pods",
  pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "5" } },
});

/** The custom metrics API: one value per pod of the namespace the selector (app=<name>) selects. */
function api(pods: string[]): FakeApi {
  return new FakeApi().on("GET", /^\/apis\/custom\.metrics\.k8s\.io\//, (c) => ({
    kind: "MetricValueList",
    items: pods
      .filter((p) => c.query.labelSelector === undefined || c.query.labelSelector === `app=${p}`)
      .map((p) => ({
        describedObject: { kind: "Pod", namespace: "ns", name: p, apiVersion: "/v1" },
        metric: { name: "rps" },
        timestamp: "2026-01-01T00:00:00Z",
        value: "5",
      })),
  }));
}

function client(http: FakeApi, clock: { t: number }) {
  return new ApiMetricsClient(http, new RESTMapper({ client: http, logger: silentLogger }), {
    windowMs: 1000,
    now: () => clock.t,
    podNames: (_ns, selector) => new Set([selector.replace("app=", "")]),
  });
}

const names = (r: unknown) =>
  ((r as { items: { describedObject: { name: string } }[] }).items ?? []).map((i) => i.describedObject.name);

describe("metrics client: coalescing", () => {
  it("answers the same question within the window with one read, and reads again after it", async () => {
    const http = api(["a"]);
    const clock = { t: 0 };
    const c = client(http, clock);
    await Promise.all([c.read("ns", podsMetric, "app=a"), c.read("ns", podsMetric, "app=a")]);
    clock.t = 999;
    await c.read("ns", podsMetric, "app=a");
    expect(http.calls.length).toBe(1);
    clock.t = 1000;
    await c.read("ns", podsMetric, "app=a");
    expect(http.calls.length).toBe(2);
  });

  it("answers many selectors of one namespace from one read of it, each with its own pods", async () => {
    const http = api(["a", "b", "c", "d", "e", "f"]);
    const c = client(http, { t: 0 });
    const answers = [];
    for (const p of ["a", "b", "c", "d", "e", "f"])
      answers.push(names(await c.read("ns", podsMetric, `app=${p}`)));
    expect(answers).toEqual([["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]);
    // three own reads, then from the fourth selector on one read without a pod selector
    expect(http.calls.map((x) => x.query.labelSelector ?? "(namespace)")).toEqual([
      "app=a",
      "app=b",
      "app=c",
      "(namespace)",
    ]);
  });

  it("sends a selector whose pods the namespace's answer lacks to its own read", async () => {
    const http = api(["a", "b", "c", "d"]);
    const c = client(http, { t: 0 });
    for (const p of ["a", "b", "c", "d"]) await c.read("ns", podsMetric, `app=${p}`);
    http.calls.length = 0;
    expect(names(await c.read("ns", podsMetric, "app=zz"))).toEqual([]);
    expect(http.calls.map((x) => x.query.labelSelector)).toEqual(["app=zz"]);
  });

  it("reads every time without coalescing", async () => {
    const http = api(["a"]);
    const c = new ApiMetricsClient(http, new RESTMapper({ client: http, logger: silentLogger }));
    await c.read("ns", podsMetric, "app=a");
    await c.read("ns", podsMetric, "app=a");
    expect(http.calls.length).toBe(2);
  });
});
