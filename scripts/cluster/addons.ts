// What `npm run cluster:up` can start beside the control plane once it is healthy. The adapter
// and the autoscaler register themselves here (one entry each, a lazy import so the harness
// does not load them unless asked); `cluster:up --with adapter,autoscaler` starts them in
// that order, and DEFAULT_ADDONS is what `cluster:up` starts when --with is not given.
//
// An entry returns an Addon: { name, start(cluster) → { stop(), describe?, pids? } }, where
// `cluster` is a ClusterHandle (kubeconfig, kubectl, Prometheus URL, issueServingCert, ...).
import type { Addon } from "./cluster.js";

export const ADDONS: Record<string, () => Promise<Addon>> = {
  adapter: async () => (await import("./adapter-addon.js")).adapterAddon,
};

export const DEFAULT_ADDONS: string[] = ["adapter"];

export async function resolveAddons(names: readonly string[]): Promise<Addon[]> {
  const unknown = names.filter((n) => !(n in ADDONS));
  if (unknown.length > 0) {
    const known = Object.keys(ADDONS);
    throw new Error(
      `unknown addon ${unknown.join(", ")}; known: ${known.length > 0 ? known.join(", ") : "none yet"}`,
    );
  }
  const out: Addon[] = [];
  for (const n of names) {
    const make = ADDONS[n];
    if (make) out.push(await make());
  }
  return out;
}
