// Which local processes should exist, from the pods the API reports: one per Running pod that
// has an IP and is not being deleted. Pure, so the runner's decisions are unit-tested.
import { z } from "zod";

/** Only the pod fields the runner reads; everything else passes through untouched. */
export const podSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    deletionTimestamp: z.union([z.string(), z.date()]).nullish(),
  }),
  spec: z.object({
    nodeName: z.string().nullish(),
    containers: z.array(z.object({ name: z.string(), image: z.string().nullish() })).min(1),
  }),
  status: z
    .object({
      phase: z.string().nullish(),
      podIP: z.string().nullish(),
    })
    .nullish(),
});
export type Pod = z.infer<typeof podSchema>;

/** One pod the runner backs with a local process. */
export interface PodTarget {
  /** namespace/name/uid: a pod recreated under the same name gets a fresh process. */
  key: string;
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  image: string;
  node: string;
}

export function wantedTargets(pods: readonly Pod[]): Map<string, PodTarget> {
  const wanted = new Map<string, PodTarget>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (p.status?.phase !== "Running" || !p.status.podIP) continue;
    const first = p.spec.containers[0];
    if (first === undefined) continue;
    const key = `${p.metadata.namespace}/${p.metadata.name}/${p.metadata.uid}`;
    wanted.set(key, {
      key,
      namespace: p.metadata.namespace,
      pod: p.metadata.name,
      uid: p.metadata.uid,
      container: first.name,
      image: first.image ?? "",
      node: p.spec.nodeName ?? "",
    });
  }
  return wanted;
}

export interface Plan {
  start: PodTarget[];
  stop: string[];
}

export function plan(wanted: ReadonlyMap<string, PodTarget>, running: ReadonlySet<string>): Plan {
  const start = [...wanted.values()].filter((t) => !running.has(t.key));
  const stop = [...running].filter((key) => !wanted.has(key));
  return { start, stop };
}
