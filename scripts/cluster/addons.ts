// What `npm run cluster:up` can start beside the control plane once it is healthy. The adapter
// and the autoscaler register themselves here (one entry each, a lazy import so the harness
// does not load them unless asked); `cluster:up --with adapter,autoscaler` starts them in
// that order, and DEFAULT_ADDONS is what `cluster:up` starts when --with is not given.
//
// An entry returns an Addon: { name, start(cluster) → { stop(), describe?, pids? } }, where
// `cluster` is a ClusterHandle (kubeconfig, kubectl, Prometheus URL, issueServingCert, ...).
import type { Addon } from "./cluster.js";

export const ADDONS: Record<string, () => Promise<Addon>> = {
  // As installed by manifests/: its own process, ServiceAccount and RBAC, default rules plus
  // the seed's cpu_system, four APIServices (scripts/cluster/addons/adapter.ts).
  adapter: async () => (await import("./addons/adapter.js")).adapterAddon(),
  // Our autoscaler with the CLI's defaults (equal to the built-in controller's).
  autoscaler: async () => (await import("./addons/autoscaler.js")).autoscalerAddon(),
  // hello-world with one replica, its pods played by the pod runner and scraped by Prometheus.
  workload: async () => (await import("./addons/workload.js")).workloadAddon(),
  // The adapter in this process with prometheus-adapter's default rules and a sample app.
  "adapter-inprocess": async () => (await import("./adapter-addon.js")).adapterAddon,
};

export const DEFAULT_ADDONS: string[] = ["adapter", "autoscaler", "workload"];

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
