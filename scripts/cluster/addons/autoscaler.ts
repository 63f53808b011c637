// The autoscaler addon: `prom-hpa autoscaler` as a child process, running as its
// ServiceAccount with the RBAC src/rbac installs (reading metrics through the metrics-reader
// roles the adapter addon binds). Flags are the CLI's; the defaults equal today's built-in
// controller (delays off, 15s sync) unless the caller gives others (the demo does).
import { join } from "node:path";
import { INSTALL, autoscalerPermissions } from "../../../src/rbac/permissions.js";
import { rolesForProgram } from "../../../src/rbac/roles.js";
import { namespaceObject, serviceAccounts } from "../../../src/manifests/install.js";
import type { Addon, AddonHandle } from "../cluster.js";
import { okProbe } from "../http.js";
import { allocatePorts } from "../ports.js";
import { applyObjects, serviceAccountKubeconfig, startProgram } from "./common.js";

export interface AutoscalerAddonOptions {
  /** `--sync-period`, e.g. "5s" (default: the CLI's 15s). */
  syncPeriod?: string;
  /** `--upscale-delay` (legacy), e.g. "20s" (default off). */
  upscaleDelay?: string;
  /** `--downscale-delay` (legacy), e.g. "40s" (default off). */
  downscaleDelay?: string;
  /** `--downscale-stabilization` (default: the CLI's 5m). */
  downscaleStabilization?: string;
  /** Any other `prom-hpa autoscaler` flags. */
  extraArgs?: string[];
}

export interface AutoscalerAddonHandle extends AddonHandle {
  /** /healthz, /readyz, /metrics */
  url: string;
  logFile: string;
  args: string[];
}

export function autoscalerFlags(o: AutoscalerAddonOptions): string[] {
  return [
    ...(o.syncPeriod !== undefined ? [`--sync-period=${o.syncPeriod}`] : []),
    ...(o.upscaleDelay !== undefined ? [`--upscale-delay=${o.upscaleDelay}`] : []),
    ...(o.downscaleDelay !== undefined ? [`--downscale-delay=${o.downscaleDelay}`] : []),
    ...(o.downscaleStabilization !== undefined
      ? [`--downscale-stabilization=${o.downscaleStabilization}`]
      : []),
    ...(o.extraArgs ?? []),
  ];
}

export function autoscalerAddon(options: AutoscalerAddonOptions = {}): Addon {
  return {
    name: "autoscaler",
    async start(cluster): Promise<AutoscalerAddonHandle> {
      await applyObjects(cluster, [
        namespaceObject(),
        ...serviceAccounts(),
        // One replica here, no leader election: it needs no Lease.
        ...rolesForProgram(autoscalerPermissions({ leaderElection: false })),
      ]);
      const kubeconfig = await serviceAccountKubeconfig(cluster, {
        namespace: INSTALL.namespace,
        name: INSTALL.autoscalerServiceAccount,
      });
      const { port } = await allocatePorts(["port"]);
      const logFile = join(cluster.info.logsDir, "autoscaler.log");
      const flags = autoscalerFlags(options);
      const args = [
        "autoscaler",
        `--kubeconfig=${kubeconfig}`,
        `--metrics-bind-address=127.0.0.1:${port}`,
        ...flags,
      ];
      const autoscaler = startProgram("autoscaler", args, logFile);
      const url = `http://127.0.0.1:${port}`;
      try {
        await autoscaler.waitHealthy({
          check: okProbe(`${url}/readyz`),
          timeoutMs: 120_000,
          intervalMs: 500,
        });
      } catch (err) {
        await autoscaler.stop();
        throw err;
      }
      return {
        url,
        logFile,
        args,
        describe: [`${url} (log ${logFile})${flags.length > 0 ? ` flags ${flags.join(" ")}` : ""}`],
        pids: [autoscaler.pid],
        stop: () => autoscaler.stop(),
      };
    },
  };
}
