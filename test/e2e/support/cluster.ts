// The shared e2e cluster, connected from inside a test file.
import { afterEach, inject } from "vitest";
import { connectCluster, type ClusterHandle } from "../../../scripts/cluster/handle.js";

let handle: ClusterHandle | undefined;

export function useCluster(): ClusterHandle {
  handle ??= connectCluster(inject("cluster"));
  return handle;
}

/** After a failing test, prints the tail of every component's log. Call at file top level. */
export function printLogsOnFailure(cluster: ClusterHandle, lines = 25): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail")
      console.error(`component logs (last ${lines} lines each):\n${cluster.logTails(lines)}`);
  });
}
