// Registering an adapter that runs on this machine with kube-apiserver's aggregator and taking
// it away again, for the adapter addons and the e2e tests: an ExternalName Service to 127.0.0.1
// and the APIServices with the serving CA as caBundle (src/adapter/apiservices.ts), a wait until
// the aggregator reports them Available, and deletion of the APIServices before the server stops
// (an aggregated API that does not answer blocks namespace deletion).
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import {
  ALL_APIS,
  apiServiceNames,
  apiServiceObjects,
  loopbackService,
  type APIServiceTarget,
} from "../../src/adapter/apiservices.js";
import type { ServedAPIs } from "../../src/adapter/server/api-discovery.js";
import type { KubeObject } from "../../src/kube/rendered-object.js";
import { applyObjects } from "./addons/common.js";
import type { ClusterHandle } from "./handle.js";

export interface RegisterOptions {
  /** Which metrics APIs to register (default all four group-versions). */
  apis?: ServedAPIs;
  /** Cluster-scoped objects applied with the registration and deleted after the APIServices. */
  clusterObjects?: readonly KubeObject[];
}

export interface WaitAvailableOptions {
  /** Wait for every APIService Available (default) or for none of them Available. */
  available?: boolean;
  /** Default 90s. */
  timeoutMs?: number;
  /** Checked before each poll: a message means give up now (e.g. the server exited). */
  abort?: () => string | undefined;
}

export interface Registration {
  names: string[];
  waitAvailable(opts?: WaitAvailableOptions): Promise<void>;
  /** Deletes the APIServices, then the cluster-scoped objects; never throws. */
  unregister(): Promise<void>;
}

const apiServiceListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({
          conditions: z
            .array(z.object({ type: z.string(), status: z.string(), message: z.string().optional() }))
            .nullish(),
        })
        .nullish(),
    }),
  ),
});

/** The named APIServices whose Available condition is not (`available`) yet, each with the aggregator's message. */
export async function apiServicesNotYet(
  cluster: ClusterHandle,
  names: readonly string[],
  available = true,
): Promise<string[]> {
  const list = apiServiceListSchema.parse(
    JSON.parse(await cluster.kubectl(["get", "apiservices", ...names, "-o", "json"])),
  );
  return list.items.flatMap((a) => {
    const c = a.status?.conditions?.find((x) => x.type === "Available");
    return (c?.status === "True") === available
      ? []
      : [`${a.metadata.name}: ${c?.message ?? (c ? `Available=${c.status}` : "no status yet")}`];
  });
}

/** Polls until `names` are all Available (or all not), or throws naming the ones that are not. */
export async function waitAPIServices(
  cluster: ClusterHandle,
  names: readonly string[],
  opts: WaitAvailableOptions = {},
): Promise<void> {
  const available = opts.available ?? true;
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted !== undefined) throw new Error(aborted);
    let waiting: string[];
    try {
      waiting = await apiServicesNotYet(cluster, names, available);
    } catch (err) {
      waiting = [err instanceof Error ? err.message : String(err)];
    }
    if (waiting.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `APIServices not ${available ? "Available" : "unavailable"} after ${timeoutMs / 1000}s: ${waiting.join("; ")}`,
      );
    await sleep(1000);
  }
}

/** Deletes the named APIServices, then `clusterObjects`; never throws (teardown goes on). */
export async function unregisterAPIServices(
  cluster: ClusterHandle,
  names: readonly string[],
  clusterObjects: readonly KubeObject[] = [],
): Promise<void> {
  await cluster
    .kubectl(["delete", "apiservice", ...names, "--ignore-not-found", "--wait=true"], { timeoutMs: 30_000 })
    .catch(() => undefined);
  for (const o of clusterObjects)
    await cluster
      .kubectl(["delete", o.kind.toLowerCase(), o.metadata.name, "--ignore-not-found"])
      .catch(() => undefined);
}

/**
 * Applies the ExternalName Service and the APIServices for an adapter listening on
 * 127.0.0.1:`target.port` (plus `clusterObjects`). Does not wait: call waitAvailable().
 */
export async function registerWithAggregator(
  cluster: ClusterHandle,
  target: APIServiceTarget & { caPem: string },
  opts: RegisterOptions = {},
): Promise<Registration> {
  const apis = opts.apis ?? ALL_APIS;
  const names = apiServiceNames(apis);
  const clusterObjects = opts.clusterObjects ?? [];
  const registration: Registration = {
    names,
    waitAvailable: (wait) => waitAPIServices(cluster, names, wait),
    unregister: () => unregisterAPIServices(cluster, names, clusterObjects),
  };
  try {
    await applyObjects(cluster, [
      loopbackService(target),
      ...apiServiceObjects(apis, target),
      ...clusterObjects,
    ]);
  } catch (err) {
    await registration.unregister();
    throw err;
  }
  return registration;
}
