// Writes to HorizontalPodAutoscaler objects: the status subresource (one optimistic update, as
// upstream's updateStatus: a conflict is reported, not retried) and merge patches of our
// annotations (no resourceVersion, no conflicts). Each answers the uid and resourceVersion the
// server wrote, so the loop can wait until its cache has seen its own write.
// The HpaWriter port rejects on failure: the KubeError is thrown as is.
import { z } from "zod";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus } from "../../kube/objects.js";
import type { HpaWriter, WrittenHpa } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { orThrow } from "../../kube/errors.js";

export function hpaPath(namespace: string, name: string): string {
  return `/apis/autoscaling/v2/namespaces/${seg(namespace)}/horizontalpodautoscalers/${seg(name)}`;
}

const writtenSchema = z.looseObject({
  metadata: z.looseObject({ uid: z.string().optional(), resourceVersion: z.string().optional() }).optional(),
});

function written(body: unknown): WrittenHpa {
  const parsed = writtenSchema.safeParse(body);
  const meta = parsed.success ? parsed.data.metadata : undefined;
  return { uid: meta?.uid, resourceVersion: meta?.resourceVersion };
}

export class KubeHpaWriter implements HpaWriter {
  constructor(private readonly http: KubeApi) {}

  async updateStatus(
    hpa: HorizontalPodAutoscaler,
    status: HorizontalPodAutoscalerStatus,
  ): Promise<WrittenHpa> {
    const ns = hpa.metadata.namespace ?? "default";
    const path = `${hpaPath(ns, hpa.metadata.name)}/status`;
    const body = { ...hpa, apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", status };
    return written(orThrow(await this.http.request("PUT", path, { body })));
  }

  async patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<WrittenHpa> {
    return written(
      orThrow(
        await this.http.request("PATCH", hpaPath(namespace, name), {
          body: { metadata: { annotations } },
          patchType: "merge",
        }),
      ),
    );
  }

  async patchStatusConditions(namespace: string, name: string, conditions: unknown[]): Promise<void> {
    orThrow(
      await this.http.request("PATCH", `${hpaPath(namespace, name)}/status`, {
        body: { status: { conditions } },
        patchType: "merge",
      }),
    );
  }
}
