// Writes to HorizontalPodAutoscaler objects: the status subresource (optimistic, re-read and
// retried on conflicts) and merge patches of our annotations (no resourceVersion, no conflicts).
// The HpaWriter port rejects on failure: the KubeError is thrown as is.
import { horizontalPodAutoscalerSchema, type HorizontalPodAutoscaler, type HorizontalPodAutoscalerStatus } from "../../kube/objects.js";
import type { HpaWriter } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { isConflict, orThrow } from "../../kube/errors.js";

export function hpaPath(namespace: string, name: string): string {
  return `/apis/autoscaling/v2/namespaces/${seg(namespace)}/horizontalpodautoscalers/${seg(name)}`;
}

export class KubeHpaWriter implements HpaWriter {
  constructor(
    private readonly http: KubeApi,
    /** attempts of a status update before giving up on conflicts */
    private readonly conflictAttempts = 4,
  ) {}

  async updateStatus(hpa: HorizontalPodAutoscaler, status: HorizontalPodAutoscalerStatus): Promise<void> {
    const ns = hpa.metadata.namespace ?? "default";
    const path = `${hpaPath(ns, hpa.metadata.name)}/status`;
    let current = hpa;
    for (let attempt = 1; ; attempt++) {
      const put = await this.http.request("PUT", path, { body: { ...current, apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", status } });
      if (put.ok) return;
      if (!isConflict(put.error) || attempt >= this.conflictAttempts) throw put.error;
      // someone else wrote the HPA since our informer saw it: take theirs, keep our status
      current = horizontalPodAutoscalerSchema.parse(orThrow(await this.http.request("GET", hpaPath(ns, hpa.metadata.name))));
    }
  }

  async patchAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    orThrow(await this.http.request("PATCH", hpaPath(namespace, name), { body: { metadata: { annotations } }, patchType: "merge" }));
  }

  async patchStatusConditions(namespace: string, name: string, conditions: unknown[]): Promise<void> {
    orThrow(await this.http.request("PATCH", `${hpaPath(namespace, name)}/status`, { body: { status: { conditions } }, patchType: "merge" }));
  }
}
