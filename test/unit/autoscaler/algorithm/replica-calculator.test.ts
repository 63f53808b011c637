import { describe, expect, it } from "vitest";
import { horizontalPodAutoscalerBehaviorSchema, podSchema } from "../../../../src/kube/objects.js";
import { isWithinTolerance, tolerancesFor } from "../../../../src/autoscaler/algorithm/replica-calculator.js";
import { GO_ZERO_TIME_MS } from "../../../../src/autoscaler/algorithm/metric-readings.js";
import { withDefaults } from "../../../../src/autoscaler/algorithm/settings.js";
import {
  ago,
  calc,
  cpuUtilization,
  externalValues,
  failure,
  NAMESPACE,
  objectValues,
  pod,
  podMetrics,
  podsAverage,
  podValues,
  proposal,
  spec,
} from "./replica-calculator.fixtures.js";

const three = () => [pod("p0"), pod("p1"), pod("p2")];
const EXTERNAL_SELECTOR =
  "&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}";
const externalSpec = (target: Record<string, unknown>) =>
  spec({
    type: "External",
    external: { metric: { name: "queue", selector: { matchLabels: { queue: "jobs" } } }, target },
  });
const objectSpec = (target: Record<string, unknown>) =>
  spec({
    type: "Object",
    object: {
      describedObject: { kind: "Deployment", name: "web", apiVersion: "apps/v1" },
      metric: { name: "qps" },
      target,
    },
  });

describe("tolerance", () => {
  it("leaves the replica count unchanged while the usage ratio is within ±10%", () => {
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "520m", p1: "520m", p2: "520m" }),
      }),
    );
    expect(p.replicas).toBe(3);
    expect(p.utilization).toBe(52);
  });
  it("scales to ceil(usage ratio × ready pods) outside the tolerance", () => {
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "800m", p1: "800m", p2: "800m" }),
      }),
    );
    expect(p.replicas).toBe(5);
  });
  it("uses the per-direction tolerance: a 5% scale-up tolerance acts on an 8% excess", () => {
    const input = {
      metric: cpuUtilization(50),
      currentReplicas: 3,
      pods: three(),
      response: podMetrics({ p0: "540m", p1: "540m", p2: "540m" }),
    };
    expect(proposal(calc(input)).replicas).toBe(3);
    expect(proposal(calc({ ...input, tolerances: { scaleUp: 0.05, scaleDown: 0.1 } })).replicas).toBe(4);
  });
  it("uses the scale-down tolerance for ratios below one", () => {
    const input = {
      metric: cpuUtilization(50),
      currentReplicas: 3,
      pods: three(),
      response: podMetrics({ p0: "300m", p1: "300m", p2: "300m" }),
    };
    expect(proposal(calc(input)).replicas).toBe(2);
    expect(proposal(calc({ ...input, tolerances: { scaleUp: 0.1, scaleDown: 0.5 } })).replicas).toBe(3);
  });
  it("is inclusive at both edges", () => {
    expect(isWithinTolerance({ scaleUp: 0.1, scaleDown: 0.1 }, 1.1)).toBe(true);
    expect(isWithinTolerance({ scaleUp: 0.1, scaleDown: 0.1 }, 0.9)).toBe(true);
    expect(isWithinTolerance({ scaleUp: 0, scaleDown: 0 }, 1.0000001)).toBe(false);
  });
  it("comes from behavior.scaleUp/scaleDown.tolerance, else from the controller", () => {
    const behavior = horizontalPodAutoscalerBehaviorSchema.parse({ scaleUp: { tolerance: "10m" } });
    expect(tolerancesFor(behavior, withDefaults({ tolerance: 0.2 }))).toEqual({
      scaleUp: 0.01,
      scaleDown: 0.2,
    });
    expect(tolerancesFor(null, withDefaults({}))).toEqual({ scaleUp: 0.1, scaleDown: 0.1 });
  });
});

describe("resource utilization", () => {
  it("reports the utilization rounded down and the raw per-pod average in milli-units", () => {
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "333m", p1: "333m", p2: "334m" }),
      }),
    );
    expect(p.utilization).toBe(33);
    expect(p.rawValue.toString()).toBe("333m");
    expect(p.metricName).toBe("cpu resource utilization (percentage of request)");
    expect(JSON.parse(JSON.stringify(p.status))).toEqual({
      type: "Resource",
      resource: { name: "cpu", current: { averageUtilization: 33, averageValue: "333m" } },
    });
    expect(p.timestamp).toBe(Date.parse(ago(30)));
  });
  it("sums the containers of a pod, usage and requests alike", () => {
    const pods = [pod("p0", { containers: { app: { cpu: "500m" }, side: { cpu: "500m" } } })];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 1,
        pods,
        response: podMetrics({ p0: { app: { cpu: "700m" }, side: { cpu: "300m" } } }),
      }),
    );
    expect(p.utilization).toBe(100);
    expect(p.replicas).toBe(2);
  });
  it("uses pod-level requests when the pod sets them", () => {
    const json = JSON.parse(JSON.stringify(pod("p0")));
    const p0 = podSchema.parse({ ...json, spec: { ...json.spec, resources: { requests: { cpu: "2" } } } });
    const p = proposal(
      calc({ metric: cpuUtilization(50), currentReplicas: 1, pods: [p0], response: podMetrics({ p0: "1" }) }),
    );
    expect(p.utilization).toBe(50);
    expect(p.replicas).toBe(1);
  });
  it("with pod-level requests set for another resource, counts the containers as the kubelet does: init containers' peak included", () => {
    const p0 = podSchema.parse({
      metadata: { name: "p0", namespace: NAMESPACE, labels: { app: "web" } },
      spec: {
        resources: { requests: { memory: "1Gi" } },
        containers: [{ name: "app", resources: { requests: { cpu: "200m" } } }],
        initContainers: [
          { name: "proxy", restartPolicy: "Always", resources: { requests: { cpu: "100m" } } },
          { name: "migrate", resources: { requests: { cpu: "500m" } } },
        ],
      },
      status: {
        phase: "Running",
        startTime: ago(600),
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: ago(600) }],
      },
    });
    // running: 200m + 100m; while migrating: 500m + the 100m sidecar → the pod requests 600m
    const p = proposal(
      calc({
        metric: cpuUtilization(100),
        currentReplicas: 1,
        pods: [p0],
        response: podMetrics({ p0: "300m" }),
      }),
    );
    expect(p.utilization).toBe(50);
  });
  it("with an AverageValue target compares the per-pod average usage, named '<resource> resource'", () => {
    const metric = spec({
      type: "Resource",
      resource: { name: "cpu", target: { type: "AverageValue", averageValue: "500m" } },
    });
    const p = proposal(
      calc({
        metric,
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "800m", p1: "800m", p2: "800m" }),
      }),
    );
    expect(p.replicas).toBe(5);
    expect(p.utilization).toBeUndefined();
    expect(p.metricName).toBe("cpu resource");
    expect(JSON.parse(JSON.stringify(p.status))).toEqual({
      type: "Resource",
      resource: { name: "cpu", current: { averageValue: "800m" } },
    });
  });
});

describe("container resource", () => {
  const pods = [0, 1].map((i) => pod(`p${i}`, { containers: { app: { cpu: "1" }, side: { cpu: "1" } } }));
  const response = podMetrics({
    p0: { app: { cpu: "900m" }, side: { cpu: "100m" } },
    p1: { app: { cpu: "900m" }, side: { cpu: "100m" } },
  });
  it("uses only the named container's usage and request", () => {
    const metric = spec({
      type: "ContainerResource",
      containerResource: {
        name: "cpu",
        container: "app",
        target: { type: "Utilization", averageUtilization: 50 },
      },
    });
    const p = proposal(calc({ metric, currentReplicas: 2, pods, response }));
    expect(p.utilization).toBe(90);
    expect(p.replicas).toBe(4);
    expect(p.metricName).toBe("cpu container resource utilization (percentage of request)");
    expect(p.status.containerResource).toMatchObject({ name: "cpu", container: "app" });
    // the whole pods are exactly on target
    expect(proposal(calc({ metric: cpuUtilization(50), currentReplicas: 2, pods, response })).replicas).toBe(
      2,
    );
  });
  it("fails with FailedGetContainerResourceMetric when no pod reports that container", () => {
    const metric = spec({
      type: "ContainerResource",
      containerResource: {
        name: "cpu",
        container: "nope",
        target: { type: "Utilization", averageUtilization: 50 },
      },
    });
    const f = failure(calc({ metric, currentReplicas: 2, pods, response }));
    expect(f.reason).toBe("FailedGetContainerResourceMetric");
    expect(f.message).toBe(
      "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)",
    );
  });
});

describe("missing pods", () => {
  it("count as using 100% of their request when scaling down", () => {
    const pods = [...three(), pod("p3")];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 4,
        pods,
        response: podMetrics({ p0: "100m", p1: "100m", p2: "100m" }),
      }),
    );
    // (3×100m + 1000m) / 4000m = 32% → ratio 0.64 → ceil(2.56); ignoring the missing pod would give 1
    expect(p.replicas).toBe(3);
    expect(p.utilization).toBe(10);
  });
  it("count as using the target when the target is above 100%", () => {
    const pods = [...three(), pod("p3")];
    const p = proposal(
      calc({
        metric: cpuUtilization(200),
        currentReplicas: 4,
        pods,
        response: podMetrics({ p0: "200m", p1: "200m", p2: "200m" }),
      }),
    );
    // (600m + 2000m) / 4000m = 65% → ratio 0.325 → ceil(1.3)
    expect(p.replicas).toBe(2);
  });
  it("count as using nothing when scaling up", () => {
    const pods = [...three(), pod("p3")];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 4,
        pods,
        response: podMetrics({ p0: "900m", p1: "900m", p2: "900m" }),
      }),
    );
    // 2700m / 4000m = 67% → ratio 1.34 → ceil(5.36)
    expect(p.replicas).toBe(6);
    expect(p.utilization).toBe(90);
  });
  it("for a Pods metric count as exactly on target when scaling down", () => {
    const p = proposal(
      calc({
        metric: podsAverage("qps", "10"),
        currentReplicas: 3,
        pods: three(),
        response: podValues("qps", { p0: "5", p1: "5" }),
      }),
    );
    // (5 + 5 + 10) / 3 = 6.666 → ratio 0.667 → ceil(2); ignoring the missing pod would give 1
    expect(p.replicas).toBe(2);
    expect(p.rawValue.toString()).toBe("5");
  });
});

describe("no direction flip", () => {
  it("keeps the current size when counting missing pods turns a scale-up into a scale-down", () => {
    const pods = [...three(), pod("p3")];
    // the one reporting pod alone says ×2 → 2 replicas, fewer than the 4 there are
    const p = proposal(
      calc({ metric: cpuUtilization(50), currentReplicas: 4, pods, response: podMetrics({ p0: "1" }) }),
    );
    expect(p.replicas).toBe(4);
  });
  it("keeps the current size when counting missing pods at 100% turns a scale-down into a scale-up", () => {
    const pods = [...three(), pod("p3"), pod("p4")];
    // reporting pods at 40% of a 50% target; three missing pods at 100% push the ratio above one
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 5,
        pods,
        response: podMetrics({ p0: "400m", p1: "400m" }),
      }),
    );
    expect(p.replicas).toBe(5);
  });
});

describe("unready pods", () => {
  it("do not push a CPU scale-up: a hot unready pod's sample is left out", () => {
    const pods = [
      pod("p0"),
      pod("p1"),
      pod("p2", { ready: "False", startTime: ago(60), readySince: ago(60) }),
    ];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods,
        response: podMetrics({ p0: "500m", p1: "500m", p2: "1" }),
      }),
    );
    expect(p.replicas).toBe(3);
    expect(p.utilization).toBe(50);
  });
  it("count as using nothing on a CPU scale-up", () => {
    const pods = [
      pod("p0"),
      pod("p1", { ready: "False", startTime: ago(60), readySince: ago(60) }),
      pod("p2", { phase: "Pending" }),
    ];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods,
        response: podMetrics({ p0: "1", p1: "1" }),
      }),
    );
    // p0 alone says ratio 2 → 2 replicas, a flip below 3; with the unready pods at zero: 1000m/3000m → 0.66, also a flip
    expect(p.replicas).toBe(3);
  });
  it("are left out of a CPU scale-down rather than counted at their request", () => {
    const pods = [
      pod("p0"),
      pod("p1"),
      pod("p2", { ready: "False", startTime: ago(60), readySince: ago(60) }),
    ];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods,
        response: podMetrics({ p0: "100m", p1: "100m", p2: "1" }),
      }),
    );
    expect(p.replicas).toBe(1);
  });
  it("inside the CPU initialization period: a Ready pod whose sample does not cover a full window since it became Ready is unready", () => {
    const fresh = (readySince: string) => [pod("p0"), pod("p1", { startTime: ago(60), readySince })];
    const response = podMetrics({ p0: "500m", p1: "1" }, { timestamp: ago(30), window: "30s" });
    expect(
      proposal(calc({ metric: cpuUtilization(50), currentReplicas: 2, pods: fresh(ago(40)), response }))
        .replicas,
    ).toBe(2);
    expect(
      proposal(calc({ metric: cpuUtilization(50), currentReplicas: 2, pods: fresh(ago(120)), response }))
        .replicas,
    ).toBe(3);
  });
  it("after the CPU initialization period: a not-Ready pod counts only if it has been Ready since the initial readiness delay", () => {
    const notReady = (readySince: string) => [
      pod("p0"),
      pod("p1", { startTime: ago(600), ready: "False", readySince }),
    ];
    const response = podMetrics({ p0: "500m", p1: "1" });
    // became unready 5s after starting: within the 30s delay, never ready
    expect(
      proposal(calc({ metric: cpuUtilization(50), currentReplicas: 2, pods: notReady(ago(595)), response }))
        .replicas,
    ).toBe(2);
    // became unready long after starting: its sample counts
    expect(
      proposal(calc({ metric: cpuUtilization(50), currentReplicas: 2, pods: notReady(ago(60)), response }))
        .replicas,
    ).toBe(3);
  });
  it("include pods without a start time or a Ready condition, for CPU", () => {
    const response = podMetrics({ p0: "500m", p1: "1" });
    expect(
      proposal(
        calc({
          metric: cpuUtilization(50),
          currentReplicas: 2,
          pods: [pod("p0"), pod("p1", { startTime: null })],
          response,
        }),
      ).replicas,
    ).toBe(2);
    expect(
      proposal(
        calc({
          metric: cpuUtilization(50),
          currentReplicas: 2,
          pods: [pod("p0"), pod("p1", { ready: null })],
          response,
        }),
      ).replicas,
    ).toBe(2);
  });
  it("for other metrics are only the Pending ones: a Running pod that is not Ready still counts", () => {
    const pods = [
      pod("p0"),
      pod("p1"),
      pod("p2", { ready: "False", startTime: ago(60), readySince: ago(60) }),
    ];
    const p = proposal(
      calc({
        metric: podsAverage("qps", "10"),
        currentReplicas: 3,
        pods,
        response: podValues("qps", { p0: "10", p1: "10", p2: "40" }),
      }),
    );
    expect(p.replicas).toBe(6);
    const pending = [pod("p0"), pod("p1"), pod("p2", { phase: "Pending" })];
    // the Pending pod's sample is dropped and it counts as zero on the scale-up: (30 + 30 + 0) / 3 = 20 → ×2
    expect(
      proposal(
        calc({
          metric: podsAverage("qps", "15"),
          currentReplicas: 3,
          pods: pending,
          response: podValues("qps", { p0: "30", p1: "30", p2: "100" }),
        }),
      ).replicas,
    ).toBe(4);
  });
});

describe("ignored pods", () => {
  it("leave out pods being deleted, Failed and Succeeded, whatever they report", () => {
    const pods = [
      ...three(),
      pod("f", { phase: "Failed" }),
      pod("s", { phase: "Succeeded" }),
      pod("d", { deleting: true }),
    ];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods,
        response: podMetrics({ p0: "100m", p1: "100m", p2: "100m", f: "1", s: "1", d: "1" }),
      }),
    );
    expect(p.utilization).toBe(10);
    expect(p.replicas).toBe(1);
  });
  it("are not counted as missing when they report nothing", () => {
    const pods = [...three(), pod("f", { phase: "Failed" }), pod("s", { phase: "Succeeded" })];
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods,
        response: podMetrics({ p0: "100m", p1: "100m", p2: "100m" }),
      }),
    );
    expect(p.replicas).toBe(1);
  });
  it("still need a request, as upstream computes requests for every selected pod", () => {
    const pods = [...three(), pod("f", { phase: "Failed", requests: {} })];
    expect(
      failure(
        calc({
          metric: cpuUtilization(50),
          currentReplicas: 3,
          pods,
          response: podMetrics({ p0: "100m", p1: "100m", p2: "100m" }),
        }),
      ).message,
    ).toContain("missing request for cpu in container app of Pod f");
  });
});

describe("resource metric errors", () => {
  const run = (pods = three(), response = podMetrics({ p0: "1" })) =>
    failure(calc({ metric: cpuUtilization(50), currentReplicas: 3, pods, response }));
  it("name a selector that picks no pods", () => {
    const f = run([pod("x", { labels: { app: "other" } })]);
    expect(f.reason).toBe("FailedGetResourceMetric");
    expect(f.message).toBe(
      "failed to get cpu utilization: no pods returned by selector while calculating replica count",
    );
    expect(f.error).toBe(f.message);
  });
  it("name the container without a request", () => {
    expect(run([pod("p0", { requests: { memory: "1Gi" } })]).message).toBe(
      "failed to get cpu utilization: missing request for cpu in container app of Pod p0",
    );
  });
  it("carry the metrics API's error", () => {
    expect(run(three(), { error: "the server is currently unable to handle the request" }).message).toBe(
      "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle the request",
    );
  });
  it("report an empty answer", () => {
    expect(run(three(), podMetrics({})).message).toBe(
      "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
    );
  });
  it("report samples only for pods that are not selected", () => {
    expect(run(three(), podMetrics({ stranger: "1" })).message).toBe(
      "failed to get cpu utilization: no metrics returned matched known pods",
    );
  });
  it("report when every sampled pod is unready", () => {
    const pods = [pod("p0", { phase: "Pending" })];
    expect(run(pods, podMetrics({ p0: "1" })).message).toBe(
      "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)",
    );
  });
  it("reject a target with neither utilization nor average value", () => {
    const metric = spec({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization" } } });
    expect(
      failure(calc({ metric, currentReplicas: 3, pods: three(), response: podMetrics({ p0: "1" }) })).message,
    ).toBe(
      "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set",
    );
  });
});

describe("pods metrics", () => {
  it("compare the pods' average with the target average", () => {
    const p = proposal(
      calc({
        metric: podsAverage("qps", "15"),
        currentReplicas: 3,
        pods: three(),
        response: podValues("qps", { p0: "20", p1: "10", p2: "30" }),
      }),
    );
    expect(p.replicas).toBe(4);
    expect(p.rawValue.toString()).toBe("20");
    expect(p.metricName).toBe("pods metric qps");
    expect(JSON.parse(JSON.stringify(p.status))).toEqual({
      type: "Pods",
      pods: { metric: { name: "qps" }, current: { averageValue: "20" } },
    });
  });
  it("fail with FailedGetPodsMetric and the custom metrics API's error", () => {
    const f = failure(
      calc({
        metric: podsAverage("qps", "15"),
        currentReplicas: 3,
        pods: three(),
        response: { error: "no rule for qps" },
      }),
    );
    expect(f).toEqual({
      ok: false,
      reason: "FailedGetPodsMetric",
      message: "unable to get metric qps: unable to fetch metrics from custom metrics API: no rule for qps",
      error: "unable to get metric qps: unable to fetch metrics from custom metrics API: no rule for qps",
    });
  });
  it("fail on an invalid metric selector before reading anything", () => {
    const metric = spec({
      type: "Pods",
      pods: {
        metric: {
          name: "qps",
          selector: { matchExpressions: [{ key: "bad key", operator: "In", values: ["a"] }] },
        },
        target: { type: "AverageValue", averageValue: "1" },
      },
    });
    const f = failure(calc({ metric, currentReplicas: 3, pods: three(), response: podValues("qps", {}) }));
    expect(f.reason).toBe("FailedGetPodsMetric");
    expect(f.message).toMatch(
      /^key: Invalid value: "bad key": name part must consist of alphanumeric characters/,
    );
  });
});

describe("object metrics", () => {
  it("with a Value target multiply the ratio by the Running, Ready pods", () => {
    const pods = [pod("p0"), pod("p1"), pod("p2", { ready: "False" })];
    const p = proposal(
      calc({
        metric: objectSpec({ type: "Value", value: "10" }),
        currentReplicas: 3,
        pods,
        response: objectValues("qps", "50"),
      }),
    );
    expect(p.replicas).toBe(10);
    expect(p.metricName).toBe("Deployment metric qps");
    expect(p.rawValue.toString()).toBe("50");
    expect(p.timestamp).toBe(GO_ZERO_TIME_MS);
    expect(JSON.parse(JSON.stringify(p.status))).toEqual({
      type: "Object",
      object: {
        describedObject: { kind: "Deployment", name: "web", apiVersion: "apps/v1" },
        metric: { name: "qps" },
        current: { value: "50" },
      },
    });
  });
  it("with a Value target scale from zero replicas on the ratio alone", () => {
    expect(
      proposal(
        calc({
          metric: objectSpec({ type: "Value", value: "10" }),
          currentReplicas: 0,
          pods: [],
          response: objectValues("qps", "25"),
        }),
      ).replicas,
    ).toBe(3);
    expect(
      proposal(
        calc({
          metric: objectSpec({ type: "Value", value: "10" }),
          currentReplicas: 0,
          pods: [],
          response: objectValues("qps", "0"),
        }),
      ).replicas,
    ).toBe(0);
  });
  it("with a Value target stay put within the tolerance without looking at pods", () => {
    expect(
      proposal(
        calc({
          metric: objectSpec({ type: "Value", value: "10" }),
          currentReplicas: 3,
          pods: [],
          response: objectValues("qps", "10500m"),
        }),
      ).replicas,
    ).toBe(3);
  });
  it("with a Value target need pods outside the tolerance", () => {
    const f = failure(
      calc({
        metric: objectSpec({ type: "Value", value: "10" }),
        currentReplicas: 3,
        pods: [],
        response: objectValues("qps", "50"),
      }),
    );
    expect(f.message).toBe(
      "unable to calculate ready pods: no pods returned by selector while calculating replica count",
    );
  });
  it("with an AverageValue target divide the total by the per-pod target", () => {
    const p = proposal(
      calc({
        metric: objectSpec({ type: "AverageValue", averageValue: "20" }),
        currentReplicas: 3,
        pods: [],
        response: objectValues("qps", "100"),
      }),
    );
    expect(p.replicas).toBe(5);
    expect(p.rawValue.toString()).toBe("33334m");
    expect(p.metricName).toBe("external metric qps(nil)");
    expect(p.status.object?.current.averageValue?.toString()).toBe("33334m");
  });
  it("with an AverageValue target from zero replicas report a zero average", () => {
    const p = proposal(
      calc({
        metric: objectSpec({ type: "AverageValue", averageValue: "5" }),
        currentReplicas: 0,
        pods: [],
        response: objectValues("qps", "20"),
      }),
    );
    expect(p.replicas).toBe(4);
    expect(p.rawValue.toString()).toBe("0");
  });
  it("require exactly one value from the custom metrics API", () => {
    const f = failure(
      calc({
        metric: objectSpec({ type: "Value", value: "10" }),
        currentReplicas: 3,
        pods: three(),
        response: objectValues("qps", "1", "2"),
      }),
    );
    expect(f.reason).toBe("FailedGetObjectMetric");
    expect(f.message).toBe(
      `unable to get metric qps on Deployment ${NAMESPACE}/web: unable to fetch metrics from custom metrics API: the custom metrics API server returned 2 results when we asked for exactly one`,
    );
  });
  it("with an AverageValue target wrap the returned error once more, as upstream does", () => {
    const f = failure(
      calc({
        metric: objectSpec({ type: "AverageValue", averageValue: "5" }),
        currentReplicas: 3,
        pods: three(),
        response: { error: "boom" },
      }),
    );
    // 1.37.2 names the object before the cause ("unable to get metric %s on %s %s/%s: %w")
    expect(f.message).toBe(
      `unable to get metric qps on Deployment ${NAMESPACE}/web: unable to fetch metrics from custom metrics API: boom`,
    );
    expect(f.error).toBe(`failed to get qps object metric: ${f.message}`);
  });
});

describe("external metrics", () => {
  it("with a Value target sum the series and multiply the ratio by the ready pods", () => {
    const p = proposal(
      calc({
        metric: externalSpec({ type: "Value", value: "10" }),
        currentReplicas: 3,
        pods: three(),
        response: externalValues("queue", "30", "20"),
      }),
    );
    expect(p.replicas).toBe(15);
    expect(p.rawValue.toString()).toBe("50");
    expect(p.metricName).toBe(`external metric queue(${EXTERNAL_SELECTOR})`);
    expect(JSON.parse(JSON.stringify(p.status))).toEqual({
      type: "External",
      external: {
        metric: { name: "queue", selector: { matchLabels: { queue: "jobs" } } },
        current: { value: "50" },
      },
    });
  });
  it("with an AverageValue target divide the sum by the per-pod target and report the per-pod average", () => {
    const p = proposal(
      calc({
        metric: externalSpec({ type: "AverageValue", averageValue: "10" }),
        currentReplicas: 3,
        pods: [],
        response: externalValues("queue", "30", "20"),
      }),
    );
    expect(p.replicas).toBe(5);
    expect(p.rawValue.toString()).toBe("16667m");
  });
  it("fail with FailedGetExternalMetric, naming namespace, metric and selector", () => {
    const f = failure(
      calc({
        metric: externalSpec({ type: "Value", value: "10" }),
        currentReplicas: 3,
        pods: three(),
        response: { error: "down" },
      }),
    );
    expect(f.reason).toBe("FailedGetExternalMetric");
    expect(f.message).toBe(
      `unable to get external metric ${NAMESPACE}/queue/${EXTERNAL_SELECTOR}: unable to fetch metrics from external metrics API: down`,
    );
    expect(f.error).toBe(`failed to get external metric queue: ${f.message}`);
    const avg = failure(
      calc({
        metric: externalSpec({ type: "AverageValue", averageValue: "10" }),
        currentReplicas: 3,
        pods: three(),
        response: externalValues("queue"),
      }),
    );
    expect(avg.message).toBe(
      `unable to get external metric ${NAMESPACE}/queue/${EXTERNAL_SELECTOR}: no metrics returned from external metrics API`,
    );
    expect(avg.error).toBe(`failed to get queue external metric: ${avg.message}`);
  });
  it("saturate a sum past int64 at its maximum", () => {
    const p = proposal(
      calc({
        metric: externalSpec({ type: "Value", value: "1" }),
        currentReplicas: 0,
        pods: [],
        response: externalValues("queue", "9223372036854775807m", "1"),
      }),
    );
    expect(p.rawValue.toString()).toBe("9223372036854775807m");
    expect(p.replicas).toBe(2147483647);
  });
});

describe("metric source types", () => {
  it("an unknown type is InvalidMetricSourceType", () => {
    const f = failure(
      calc({
        metric: spec({ type: "CheddarCheese" }),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({}),
      }),
    );
    expect(f.reason).toBe("InvalidMetricSourceType");
    expect(f.message).toBe('unknown metric source type "CheddarCheese"');
  });
  it("a response of the wrong kind is a metrics API failure, not a crash", () => {
    const f = failure(
      calc({
        metric: podsAverage("qps", "1"),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "1" }),
      }),
    );
    expect(f.reason).toBe("FailedGetPodsMetric");
    expect(f.message).toContain("PodMetricsList where a MetricValueList was expected");
  });
});

describe("resource metric status quantities (upstream buildQuantity)", () => {
  const memoryPods = () => [
    pod("p0", { requests: { memory: "1Mi" } }),
    pod("p1", { requests: { memory: "1Mi" } }),
  ];
  const memoryUsage = (usage: string) =>
    podMetrics({ p0: { app: { memory: usage } }, p1: { app: { memory: usage } } });
  it("reports memory in binary suffixes, as metrics-server does", () => {
    const metric = spec({
      type: "Resource",
      resource: { name: "memory", target: { type: "AverageValue", averageValue: "1Mi" } },
    });
    const p = proposal(
      calc({ metric, currentReplicas: 2, pods: memoryPods(), response: memoryUsage("1Mi") }),
    );
    expect(p.status.resource?.current.averageValue?.toString()).toBe("1Mi");
    expect(p.status.resource?.current.averageValue?.format).toBe("BinarySI");
  });
  it("does so for a memory Utilization target too", () => {
    const metric = spec({
      type: "Resource",
      resource: { name: "memory", target: { type: "Utilization", averageUtilization: 100 } },
    });
    const p = proposal(
      calc({ metric, currentReplicas: 2, pods: memoryPods(), response: memoryUsage("512Ki") }),
    );
    expect(p.status.resource?.current).toMatchObject({ averageUtilization: 50 });
    expect(p.status.resource?.current.averageValue?.toString()).toBe("512Ki");
  });
  it("keeps cpu in decimal milli-units", () => {
    const p = proposal(
      calc({
        metric: cpuUtilization(50),
        currentReplicas: 3,
        pods: three(),
        response: podMetrics({ p0: "100m", p1: "100m", p2: "100m" }),
      }),
    );
    expect(p.status.resource?.current.averageValue?.toString()).toBe("100m");
    expect(p.status.resource?.current.averageValue?.format).toBe("DecimalSI");
  });
});
