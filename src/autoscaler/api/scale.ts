// The scale subresource of any scalable target, resolved through API discovery (Deployments,
// StatefulSets, ReplicaSets, ReplicationControllers and custom resources with a scale subresource).
import { scaleSchema, type CrossVersionObjectReference, type Scale } from "../../kube/objects.js";
import type { CurrentScale, ScaleClient } from "../controller/ports.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { orThrow } from "../../kube/errors.js";
import { groupVersionPath, type KindMapper } from "../../kube/mapper.js";

interface ScaleHandle {
  path: string;
  scale: Scale;
}

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
    const parsed = scaleSchema.safeParse(orThrow(await this.http.request("GET", path)));
    if (!parsed.success) throw new Error(`the scale subresource of ${resource} "${target.name}" is not a Scale: ${parsed.error.message}`);
    const scale = parsed.data;
    const handle: ScaleHandle = { path, scale };
    return { replicas: scale.spec?.replicas ?? 0, selector: scale.status.selector ?? "", handle };
  }

  async updateScale(current: CurrentScale, replicas: number): Promise<void> {
    const { path, scale } = current.handle as ScaleHandle;
    orThrow(await this.http.request("PUT", path, { body: { ...scale, spec: { ...scale.spec, replicas } } }));
  }
}
