import { describe, expect, it } from "vitest";
import {
  epochMsToKubeTime,
  GO_ZERO_TIME,
  horizontalPodAutoscalerSchema,
  kubeTimeToEpochMs,
  metricResponseSchema,
  metricValueListSchema,
  metricValueName,
  podMetricsListSchema,
  podSchema,
  scaleSchema,
} from "../../../src/kube/objects.js";
import { Quantity } from "../../../src/kube/quantity.js";

const podJson = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-0",
    namespace: "shop",
    labels: { app: "web" },
    uid: "u-1",
    ownerReferences: [{ kind: "ReplicaSet", name: "web-1" }],
  },
  spec: {
    containers: [{ name: "app", image: "web:1", resources: { requests: { cpu: "250m", memory: "64Mi" } } }],
    initContainers: [{ name: "proxy", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } }],
    nodeName: "node-1",
  },
  status: {
    phase: "Running",
    podIP: "10.0.0.7",
    startTime: "2026-01-01T00:00:00Z",
    conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:05Z" }],
  },
};

describe("Pod", () => {
  it("parses requests into quantities", () => {
    const pod = podSchema.parse(podJson);
    const requests = pod.spec.containers[0]?.resources?.requests;
    expect(requests?.cpu).toBeInstanceOf(Quantity);
    expect(requests?.cpu?.milliValue()).toBe(250n);
    expect(requests?.memory?.value()).toBe(67108864n);
    expect(pod.spec.initContainers?.[0]?.restartPolicy).toBe("Always");
  });
  it("keeps fields it does not model through a JSON round trip", () => {
    const again = JSON.parse(JSON.stringify(podSchema.parse(podJson)));
    expect(again).toEqual(podJson);
  });
  it("accepts Go's null for unset times and a missing status", () => {
    const pod = podSchema.parse({
      metadata: { name: "p", deletionTimestamp: null },
      spec: { containers: [] },
      status: { startTime: null },
    });
    expect(pod.metadata.deletionTimestamp).toBeNull();
    expect(podSchema.parse({ metadata: { name: "p" }, spec: { containers: [] } }).status).toBeUndefined();
  });
  it("rejects a malformed quantity, naming where it is", () => {
    const r = podSchema.safeParse({
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", resources: { requests: { cpu: "lots" } } }] },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["spec", "containers", 0, "resources", "requests", "cpu"]);
  });
  it("rejects a time that is not RFC 3339", () => {
    const withStart = (startTime: string) =>
      podSchema.safeParse({ metadata: { name: "p" }, spec: { containers: [] }, status: { startTime } })
        .success;
    expect(withStart("yesterday")).toBe(false);
    expect(withStart("2026-01-01")).toBe(false);
    expect(withStart("2026-01-01T00:00:00.123456+02:00")).toBe(true);
  });
});

describe("times", () => {
  it("convert Go's zero time to its real instant, long before any real time", () => {
    expect(kubeTimeToEpochMs(GO_ZERO_TIME)).toBe(-62135596800000);
    expect(kubeTimeToEpochMs(null)).toBeUndefined();
    expect(kubeTimeToEpochMs(undefined)).toBeUndefined();
  });
  it("print epoch milliseconds as metav1.Time does, in whole seconds", () => {
    expect(epochMsToKubeTime(Date.parse("2026-01-01T00:00:05.750Z"))).toBe("2026-01-01T00:00:05Z");
  });
});

describe("HorizontalPodAutoscaler", () => {
  const hpaJson = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "shop", generation: 3 },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
        },
        {
          type: "ContainerResource",
          containerResource: {
            name: "memory",
            container: "app",
            target: { type: "AverageValue", averageValue: "100Mi" },
          },
        },
        {
          type: "Pods",
          pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "10" } },
        },
        {
          type: "Object",
          object: {
            describedObject: { kind: "Ingress", name: "main", apiVersion: "networking.k8s.io/v1" },
            metric: { name: "rps" },
            target: { type: "Value", value: "2k" },
          },
        },
        {
          type: "External",
          external: {
            metric: { name: "queue", selector: { matchLabels: { queue: "jobs" } } },
            target: { type: "AverageValue", averageValue: "30" },
          },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: "Max",
          policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
          tolerance: "50m",
        },
        scaleDown: { selectPolicy: "Disabled" },
      },
    },
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      lastScaleTime: "2026-01-01T00:00:00Z",
      observedGeneration: 3,
      currentMetrics: [
        {
          type: "Resource",
          resource: { name: "cpu", current: { averageUtilization: 40, averageValue: "200m" } },
        },
      ],
      conditions: [
        {
          type: "AbleToScale",
          status: "True",
          reason: "ReadyForNewScale",
          message: "recommended size matches current size",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    },
  };
  it("parses all five metric sources, behavior with tolerance, and status", () => {
    const hpa = horizontalPodAutoscalerSchema.parse(hpaJson);
    expect(hpa.spec.metrics?.map((m) => m.type)).toEqual([
      "Resource",
      "ContainerResource",
      "Pods",
      "Object",
      "External",
    ]);
    expect(hpa.spec.metrics?.[3]?.object?.target.value?.value()).toBe(2000n);
    expect(hpa.spec.behavior?.scaleUp?.tolerance?.toNumber()).toBe(0.05);
    expect(hpa.status?.currentMetrics?.[0]?.resource?.current.averageValue?.toString()).toBe("200m");
    expect(JSON.parse(JSON.stringify(hpa))).toEqual(hpaJson);
  });
  it("still parses a metric of an unknown type, so the controller can report it", () => {
    const hpa = horizontalPodAutoscalerSchema.parse({
      ...hpaJson,
      spec: { ...hpaJson.spec, metrics: [{ type: "CheddarCheese" }] },
    });
    expect(hpa.spec.metrics?.[0]?.type).toBe("CheddarCheese");
  });
  it("rejects an unknown target type and a missing maxReplicas", () => {
    const badTarget = {
      ...hpaJson,
      spec: {
        ...hpaJson.spec,
        metrics: [{ type: "Pods", pods: { metric: { name: "q" }, target: { type: "Percent" } } }],
      },
    };
    expect(horizontalPodAutoscalerSchema.safeParse(badTarget).success).toBe(false);
    const { maxReplicas: _omit, ...noMax } = hpaJson.spec;
    expect(horizontalPodAutoscalerSchema.safeParse({ ...hpaJson, spec: noMax }).success).toBe(false);
  });
});

describe("Scale", () => {
  it("parses the autoscaling/v1 scale subresource", () => {
    const scale = scaleSchema.parse({
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "web", namespace: "shop" },
      spec: { replicas: 3 },
      status: { replicas: 2, selector: "app=web" },
    });
    expect(scale.spec?.replicas).toBe(3);
    expect(scale.status.selector).toBe("app=web");
  });
});

describe("metrics API lists", () => {
  it("parse a PodMetricsList with container usage quantities", () => {
    const list = podMetricsListSchema.parse({
      kind: "PodMetricsList",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {},
      items: [
        {
          metadata: { name: "web-0", namespace: "shop" },
          timestamp: "2026-01-01T00:00:00Z",
          window: "30s",
          containers: [{ name: "app", usage: { cpu: "12m", memory: "30Mi" } }],
        },
      ],
    });
    expect(list.items?.[0]?.containers?.[0]?.usage.cpu?.milliValue()).toBe(12n);
  });
  it("parse MetricValueList items of v1beta1 and v1beta2 and name their metric either way", () => {
    const list = metricValueListSchema.parse({
      kind: "MetricValueList",
      items: [
        {
          describedObject: { kind: "Pod", name: "a" },
          metricName: "qps",
          timestamp: "2026-01-01T00:00:00Z",
          window: 60,
          value: "1",
        },
        {
          describedObject: { kind: "Pod", name: "b" },
          metric: { name: "rps" },
          timestamp: "2026-01-01T00:00:00Z",
          windowSeconds: 60,
          value: "2",
        },
      ],
    });
    expect(list.items?.map(metricValueName)).toEqual(["qps", "rps"]);
  });
  it("tell a failed call from each kind of answer", () => {
    expect(metricResponseSchema.parse({ error: "503" })).toEqual({ error: "503" });
    const external = metricResponseSchema.parse({
      kind: "ExternalMetricValueList",
      items: [
        {
          metricName: "q",
          metricLabels: {},
          timestamp: "2026-01-01T00:00:00Z",
          value: "9223372036854775807m",
        },
      ],
    });
    expect("kind" in external && external.kind).toBe("ExternalMetricValueList");
    expect(metricResponseSchema.safeParse({ kind: "Nonsense", items: [] }).success).toBe(false);
  });
});
