// Kubernetes' built-in resources, for reading a rules file without a cluster: the labels a rule
// maps (pod, namespace, deployment, …) resolve as kube-apiserver's discovery would resolve them.
// A custom resource is not known offline; the check says so through the rule's warnings.
import type { ResourceMapper, ResourceMapping } from "../adapter/provider.js";

const BUILT_IN: readonly [
  resource: string,
  kind: string,
  group: string,
  version: string,
  namespaced: boolean,
][] = [
  ["pods", "Pod", "", "v1", true],
  ["namespaces", "Namespace", "", "v1", false],
  ["nodes", "Node", "", "v1", false],
  ["services", "Service", "", "v1", true],
  ["endpoints", "Endpoints", "", "v1", true],
  ["persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", true],
  ["persistentvolumes", "PersistentVolume", "", "v1", false],
  ["replicationcontrollers", "ReplicationController", "", "v1", true],
  ["deployments", "Deployment", "apps", "v1", true],
  ["replicasets", "ReplicaSet", "apps", "v1", true],
  ["statefulsets", "StatefulSet", "apps", "v1", true],
  ["daemonsets", "DaemonSet", "apps", "v1", true],
  ["jobs", "Job", "batch", "v1", true],
  ["cronjobs", "CronJob", "batch", "v1", true],
  ["ingresses", "Ingress", "networking.k8s.io", "v1", true],
  ["horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v2", true],
];

export const builtInMapper: ResourceMapper = {
  resolve(text: string): ResourceMapping | undefined {
    const dot = text.indexOf(".");
    const name = (dot < 0 ? text : text.slice(0, dot)).toLowerCase();
    const group = dot < 0 ? undefined : text.slice(dot + 1).toLowerCase();
    for (const [resource, kind, g, version, namespaced] of BUILT_IN) {
      if (group !== undefined && group !== g) continue;
      if (name !== resource && name !== kind.toLowerCase()) continue;
      return { groupResource: { group: g, resource }, kind, version, namespaced };
    }
    return undefined;
  },
};
