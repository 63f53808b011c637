// vitest globalSetup of the e2e project: ONE real local cluster (control plane, kwok nodes,
// Prometheus) for the whole run, handed to every test file as plain data through
// provide/inject. Test files connect to it (test/e2e/support/cluster.ts); each works in a
// namespace of its own.
//
// PROM_HPA_E2E_CLUSTER=<path to cluster.json> reuses a cluster started by `npm run cluster:up`
// instead (quicker while iterating); it is left running afterwards.
//
// PROM_HPA_E2E_BACKEND=<name> runs another Prometheus-API backend in Prometheus' place
// (scripts/cluster/backends.ts: debian, the default, prometheus3, victoriametrics).
import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { parseBackend } from "../../scripts/cluster/backends.js";
import { startCluster } from "../../scripts/cluster/cluster.js";
import type { ClusterInfo } from "../../scripts/cluster/handle.js";

declare module "vitest" {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const reuse = process.env.PROM_HPA_E2E_CLUSTER;
  if (reuse) {
    project.provide("cluster", JSON.parse(readFileSync(reuse, "utf8")) as ClusterInfo);
    return undefined;
  }
  const started = Date.now();
  const prometheus = parseBackend(process.env.PROM_HPA_E2E_BACKEND, "PROM_HPA_E2E_BACKEND");
  const cluster = await startCluster({
    hpaController: false,
    prometheus,
    onProgress: (m) => {
      if (process.env.PROM_HPA_E2E_VERBOSE) console.log(`[cluster] ${m}`);
    },
  });
  console.log(
    `[cluster] ready in ${((Date.now() - started) / 1000).toFixed(1)}s with ${prometheus}; logs in ${cluster.info.logsDir}`,
  );
  project.provide("cluster", cluster.info);
  return () => cluster.stop();
}
