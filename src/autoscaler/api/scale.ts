// The scale subresource of any scalable target, resolved through API discovery (Deployments,
// StatefulSets, ReplicaSets, ReplicationControllers and custom resources with a scale subresource).
// An update that conflicts is retried on the scale read again, as upstream's
// retry.RetryOnConflict(retry.DefaultRetry, …): at most 5 attempts about 10ms apart.
import { scaleSchema, type CrossVersionObjectReference, type Scale } from "../../kube/objects.js";
import type { CurrentScale, ScaleClient } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { isConflict, orThrow } from "../../kube/errors.js";
import { groupVersionPath, type KindMapper } from "../../kube/mapper.js";

interface ScaleHandle {
  path: string;
  scale: Scale;
}

/** client-go's retry.DefaultRetry: 5 steps of 10ms, factor 1, jitter 0.1 */
const CONFLICT_ATTEMPTS = 5;
const CONFLICT_PAUSE_MS = 10;
const pause = () => new Promise<void>((r) => setTimeout(r, CONFLICT_PAUSE_MS * (1 + Math.random() * 0.1)));

export class KubeScaleClient implements ScaleClient {
  constructor(
    private readonly http: KubeApi,
    private readonly mapper: KindMapper,
  ) {}

  async getScale(namespace: string, target: CrossVersionObjectReference): Promise<CurrentScale> {
    const info = orThrow(await this.mapper.restMapping(target.apiVersion, target.kind));
    const resource = info.group === "" ? info.resource : `${info.resource}.${info.group}`;
    if (!info.hasScale) throw new Error(`${resource} has no scale subresource`);
    const ns = info.namespaced ? `/namespaces/${seg(namespace)}` : "";
    const path = `${groupVersionPath(info.group, info.version)}${ns}/${seg(info.resource)}/${seg(target.name)}/scale`;
    const scale = await this.readScale(path, `${resource} "${target.name}"`);
    const handle: ScaleHandle = { path, scale };
    return {
      replicas: scale.spec?.replicas ?? 0,
      statusReplicas: scale.status.replicas ?? 0,
      selector: scale.status.selector ?? "",
      handle,
    };
  }

  private async readScale(path: string, what: string): Promise<Scale> {
    const parsed = scaleSchema.safeParse(orThrow(await this.http.request("GET", path)));
    if (!parsed.success)
      throw new Error(`the scale subresource of ${what} is not a Scale: ${parsed.error.message}`);
    return parsed.data;
  }

  async updateScale(current: CurrentScale, replicas: number): Promise<void> {
    const { path } = current.handle as ScaleHandle;
    let { scale } = current.handle as ScaleHandle;
    for (let attempt = 1; ; attempt++) {
      const put = await this.http.request("PUT", path, {
        body: { ...scale, spec: { ...scale.spec, replicas } },
      });
      if (put.ok) return;
      // as upstream: after any failed update, read the scale again for the next attempt (a failed read keeps the old one)
      scale = await this.readScale(path, path).catch(() => scale);
      if (!isConflict(put.error) || attempt >= CONFLICT_ATTEMPTS) throw put.error;
      await pause();
    }
  }
}
