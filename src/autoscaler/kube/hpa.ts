// Writes to HorizontalPodAutoscaler objects: the status subresource (optimistic, re-read and
// retried on conflicts) and merge patches of our annotations (no resourceVersion, no conflicts).
import { horizontalPodAutoscalerSchema, type HorizontalPodAutoscaler, type HorizontalPodAutoscalerStatus } from "../../kube/objects.js";
import type { HpaWriter } from "../controller/ports.js";
import { isConflict, seg, type KubeHttp } from "./rest.js";

export function hpaPath(namespace: string, name: string): string {
  return `/apis/autoscaling/v2/namespaces/${seg(namespace)}/horizontalpodautoscalers/${seg(name)}`;
}

export class KubeHpaWriter implements HpaWriter {
  constructor(
    private readonly http: KubeHttp,
    /** attempts of a status update before giving up on conflicts */
    private readonly conflictAttempts = 4,
  ) {}

  async updateStatus(hpa: HorizontalPodAutoscaler, status: HorizontalPodAutoscalerStatus): Promise<void> {
    const ns = hpa.metadata.namespace ?? "default";
    const path = `${hpaPath(ns, hpa.metadata.name)}/status`;
    let current = hpa;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.http.request("PUT", path, { body: { ...current, apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", status } });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= this.conflictAttempts) throw err;
        // someone else wrote the HPA since our informer saw it: take theirs, keep our status
        current = horizontalPodAutoscalerSchema.parse(await this.http.request("GET", hpaPath(ns, hpa.metadata.name)));
      }
    }
  }

  async patchAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.http.request("PATCH", hpaPath(namespace, name), { body: { metadata: { annotations } }, patchType: "merge" });
  }

  async patchStatusConditions(namespace: string, name: string, conditions: unknown[]): Promise<void> {
    await this.http.request("PATCH", `${hpaPath(namespace, name)}/status`, { body: { status: { conditions } }, patchType: "merge" });
  }
}
