// The seed walkthrough's sample workload and HPAs, in today's API versions (apps/v1,
// autoscaling/v2). The seed's two HPAs are alternatives with the same name: one on resource
// metrics only, one adding the custom pods metric cpu_system.
import type { KubeObject } from "../kube/rendered-object.js";

export const HELLO_WORLD = {
  name: "hello-world",
  namespace: "default",
  /** The sample workload (loadtest/workload) packaged as an image; retag with kustomize. */
  image: "prom-hpa-hello-world",
  port: 8080,
} as const;

const appLabels = { app: HELLO_WORLD.name };

export function helloWorldDeployment(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: HELLO_WORLD.name, namespace: HELLO_WORLD.namespace, labels: appLabels },
    spec: {
      replicas: 1,
      selector: { matchLabels: appLabels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: appLabels },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: HELLO_WORLD.name,
              image: HELLO_WORLD.image,
              ports: [{ name: "http", containerPort: HELLO_WORLD.port, protocol: "TCP" }],
              // Requests as in the seed: utilization targets are a percentage of these.
              resources: { requests: { cpu: "500m", memory: "64Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

export function helloWorldService(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: HELLO_WORLD.name, namespace: HELLO_WORLD.namespace, labels: appLabels },
    spec: {
      selector: appLabels,
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

const resourceMetrics = [
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
  { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
];

const cpuSystemMetric = {
  type: "Pods",
  pods: { metric: { name: "cpu_system" }, target: { type: "AverageValue", averageValue: "20m" } },
};

function hpa(metrics: unknown[]): KubeObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: HELLO_WORLD.name, namespace: HELLO_WORLD.namespace },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: HELLO_WORLD.name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics,
    },
  };
}

/** The seed's "resource metrics" HPA: cpu 50% of request, memory 100Mi per pod. */
export const resourceMetricsHpa = (): KubeObject => hpa(resourceMetrics);
/** The seed's "custom metrics" HPA: the same plus the pods metric cpu_system at 20m per pod. */
export const customMetricsHpa = (): KubeObject => hpa([...resourceMetrics, cpuSystemMetric]);
