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

/** A Deployment of the sample workload as the pod runner backs it (the image is never pulled). */
export function sampleDeployment(name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "web",
              image: "prom-hpa/sample-workload:local",
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        },
      },
    },
  });
}
