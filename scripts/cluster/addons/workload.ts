// The workload addon: the seed's hello-world Deployment and Service (src/rbac's example
// objects, the ones in manifests/examples) with one replica, and the local pod runner playing
// its pods, so Prometheus scrapes one sample-workload process per Running pod (and their
// cAdvisor-named series) and the adapter has metrics to list.
import { HELLO_WORLD, helloWorldDeployment, helloWorldService } from "../../../src/manifests/examples.js";
import { z } from "zod";
import type { Addon, AddonHandle } from "../cluster.js";
import type { PodRunner } from "../podrunner/runner.js";
import { applyObjects } from "./common.js";

export interface WorkloadAddonOptions {
  /** CPU milliseconds each request burns (default 20, the pod runner's default). */
  burnMs?: number;
  /** The container's CPU request, which cpu utilization is a percentage of (default: the example's 500m). */
  cpuRequest?: string;
  /** Replicas to start with (default 1). */
  replicas?: number;
}

export interface WorkloadAddonHandle extends AddonHandle {
  namespace: string;
  name: string;
  labelSelector: string;
  runner: PodRunner;
}

// The fields of the example Deployment this addon adjusts; everything else passes through.
const deploymentShape = z.looseObject({
  spec: z.looseObject({
    replicas: z.number(),
    template: z.looseObject({
      spec: z.looseObject({
        containers: z.array(
          z.looseObject({ resources: z.looseObject({ requests: z.record(z.string(), z.string()) }) }),
        ),
      }),
    }),
  }),
});

export function helloWorldObjects(o: WorkloadAddonOptions = {}): unknown[] {
  const deployment = deploymentShape.parse(helloWorldDeployment());
  deployment.spec.replicas = o.replicas ?? 1;
  const container = deployment.spec.template.spec.containers[0];
  if (container && o.cpuRequest !== undefined) container.resources.requests.cpu = o.cpuRequest;
  return [deployment, helloWorldService()];
}

export function workloadAddon(options: WorkloadAddonOptions = {}): Addon {
  return {
    name: "workload",
    async start(cluster): Promise<WorkloadAddonHandle> {
      const namespace = HELLO_WORLD.namespace;
      const labelSelector = `app=${HELLO_WORLD.name}`;
      const replicas = options.replicas ?? 1;
      await applyObjects(cluster, helloWorldObjects(options));
      const runner = await cluster.startPodRunner({
        namespace,
        labelSelector,
        burnMs: options.burnMs ?? 20,
      });
      try {
        await runner.waitForRunning(replicas, 120_000);
      } catch (err) {
        await runner.stop();
        throw err;
      }
      const stop = async () => {
        await runner.stop();
      };
      return {
        namespace,
        name: HELLO_WORLD.name,
        labelSelector,
        runner,
        describe: [
          `${namespace}/${HELLO_WORLD.name}: ${replicas} replica(s) played by local processes; load address ${runner.proxyUrl}`,
        ],
        pids: runner.running().map((p) => p.pid),
        stop,
      };
    },
  };
}
