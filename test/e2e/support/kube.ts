// Small kubectl-based helpers the e2e files share, parsed with zod at the boundary.
import { z } from "zod";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";

const podListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), deletionTimestamp: z.string().nullish() }),
      spec: z.object({ nodeName: z.string().nullish() }),
      status: z.object({ phase: z.string().nullish(), podIP: z.string().nullish() }).nullish(),
    }),
  ),
});
export type PodSummary = {
  name: string;
  phase: string;
  podIP: string;
  nodeName: string;
  terminating: boolean;
};

export async function listPods(
  cluster: ClusterHandle,
  namespace: string,
  selector: string,
): Promise<PodSummary[]> {
  const out = await cluster.kubectl(["get", "pods", "-l", selector, "-o", "json"], { namespace });
  return podListSchema.parse(JSON.parse(out)).items.map((p) => ({
    name: p.metadata.name,
    phase: p.status?.phase ?? "",
    podIP: p.status?.podIP ?? "",
    nodeName: p.spec.nodeName ?? "",
    terminating: Boolean(p.metadata.deletionTimestamp),
  }));
}

/** The JSON kube-apiserver answers to `kubectl get --raw <path>` (aggregated APIs included). */
export async function getRaw(cluster: ClusterHandle, path: string): Promise<unknown> {
  return JSON.parse(await cluster.kubectl(["get", "--raw", path])) as unknown;
}

/**
 * A Deployment whose pods the pod runner backs (the image is never pulled); each pod requests
 * 100m cpu and 64Mi memory.
 */
export function deploymentObject(
  name: string,
  replicas: number,
  image = "prom-hpa/sample-workload:local",
): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: "web", image, resources: { requests: { cpu: "100m", memory: "64Mi" } } }],
        },
      },
    },
  };
}

/** A Deployment of the sample workload as the pod runner backs it, as kubectl apply input. */
export function sampleDeployment(name: string, replicas: number): string {
  return JSON.stringify(deploymentObject(name, replicas));
}
