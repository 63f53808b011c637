// The adapter addon: `prom-hpa adapter` as a child process on a loopback port, installed the
// way manifests/ installs it on a real cluster, except that the Service is an ExternalName to
// 127.0.0.1 (no kube-proxy here):
//   namespace, ServiceAccounts, the adapter's RBAC and the metrics-reader roles (bound to
//   kube-system:horizontal-pod-autoscaler and our autoscaler) from src/rbac; the default rules
//   plus the seed's cpu_system; a serving certificate for <service>.<namespace>.svc signed by
//   the harness's serving CA; the four APIServices with that CA as caBundle.
// start() returns once every APIService is Available; stop() deletes the APIServices before it
// stops the server, or namespace deletion would hang on discovery.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { apiServiceNames } from "../../../src/adapter/apiservices.js";
import { INSTALL, adapterPermissions } from "../../../src/rbac/permissions.js";
import { metricsReaderRbac, rolesForProgram } from "../../../src/rbac/roles.js";
import { adapterRulesConfig } from "../../../src/manifests/adapter-config.js";
import { ADAPTER, namespaceObject, serviceAccounts } from "../../../src/manifests/install.js";
import type { Addon, AddonHandle } from "../cluster.js";
import { registerWithAggregator, unregisterAPIServices } from "../aggregator.js";
import { okProbe } from "../http.js";
import { allocatePorts } from "../ports.js";
import { applyObjects, serviceAccountKubeconfig, startProgram } from "./common.js";

export interface AdapterAddonOptions {
  /** How often the adapter asks Prometheus which series exist (default 5s, so new pods show up quickly). */
  relistInterval?: string;
  /** The rate window of the rules (default 1m, as shipped); the demo shortens it to react sooner. */
  rateInterval?: string;
  /** How long to wait for the APIServices to become Available (default 180s). */
  availableTimeoutMs?: number;
  /** Extra `prom-hpa adapter` flags. */
  extraArgs?: string[];
  /** Run the built dist/cli.js (as the image does) instead of src/cli.ts under tsx. */
  compiled?: boolean;
}

export interface AdapterAddonHandle extends AddonHandle {
  url: string;
  logFile: string;
  apiServiceNames: string[];
}

export function adapterAddon(options: AdapterAddonOptions = {}): Addon {
  return {
    name: "adapter",
    async start(cluster): Promise<AdapterAddonHandle> {
      const namespace = INSTALL.namespace;
      const service = ADAPTER.name;
      await applyObjects(cluster, [
        namespaceObject(),
        ...serviceAccounts(),
        ...rolesForProgram(adapterPermissions()),
        ...metricsReaderRbac(),
      ]);
      const kubeconfig = await serviceAccountKubeconfig(cluster, {
        namespace,
        name: INSTALL.adapterServiceAccount,
      });
      const dir = join(cluster.info.runDir, "adapter");
      await mkdir(dir, { recursive: true });
      const configFile = join(dir, "config.yaml");
      await writeFile(configFile, adapterRulesConfig(options.rateInterval));
      const cert = await cluster.issueServingCert({ service, namespace });
      const { port } = await allocatePorts(["port"]);
      const logFile = join(cluster.info.logsDir, "adapter.log");
      const adapter = startProgram(
        "adapter",
        [
          "adapter",
          "--bind-address=127.0.0.1",
          `--secure-port=${port}`,
          `--tls-cert-file=${cert.certFile}`,
          `--tls-private-key-file=${cert.keyFile}`,
          `--prometheus-url=${cluster.prometheusUrl}`,
          `--metrics-relist-interval=${options.relistInterval ?? "5s"}`,
          `--config=${configFile}`,
          `--kubeconfig=${kubeconfig}`,
          ...(options.extraArgs ?? []),
        ],
        logFile,
        { compiled: options.compiled ?? false },
      );
      const names = apiServiceNames();
      const stop = async () => {
        // APIServices first: an aggregated API that does not answer blocks namespace deletion.
        await unregisterAPIServices(cluster, names);
        await adapter.stop();
      };
      try {
        const url = `https://127.0.0.1:${port}`;
        await adapter.waitHealthy({
          check: okProbe(`${url}/readyz`, { ca: cert.caPem }),
          timeoutMs: 120_000,
          intervalMs: 500,
        });
        const registration = await registerWithAggregator(cluster, {
          namespace,
          service,
          port,
          caPem: cert.caPem,
        });
        await registration
          .waitAvailable({
            timeoutMs: options.availableTimeoutMs ?? 180_000,
            abort: () => (adapter.running ? undefined : `the adapter exited; see ${logFile}`),
          })
          .catch((err: unknown) => {
            throw new Error(`${err instanceof Error ? err.message : String(err)} (adapter log: ${logFile})`);
          });
        return {
          url,
          logFile,
          apiServiceNames: names,
          describe: [`${url} (log ${logFile}); APIServices ${names.join(", ")} Available`],
          pids: [adapter.pid],
          stop,
        };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
