// The `adapter` addon of `npm run cluster:up`: the adapter in-process with the default rules,
// registered with the aggregator through an ExternalName Service and four APIServices with a
// real caBundle, plus the sample workload (one replica, scraped by Prometheus) so discovery has
// metrics to list.
import { join } from "node:path";
import { pino } from "pino";
import { defaultConfig } from "../../src/adapter/config/index.js";
import { registerWithAggregator, type Registration } from "./aggregator.js";
import type { Addon } from "./cluster.js";
import { startLocalAdapter } from "./local-adapter.js";
import type { PodRunner } from "./podrunner/runner.js";

const NAMESPACE = "prom-hpa";
const SERVICE = "prom-hpa-adapter";
const SAMPLE_NAMESPACE = "prom-hpa-sample";

function sampleDeployment(): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "sample-app", namespace: SAMPLE_NAMESPACE, labels: { app: "sample-app" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "sample-app" } },
      template: {
        metadata: { labels: { app: "sample-app" } },
        spec: {
          containers: [
            {
              name: "web",
              image: "prom-hpa/sample-workload:local",
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        },
      },
    },
  };
}

export const adapterAddon: Addon = {
  name: "adapter",
  async start(cluster) {
    const logFile = join(cluster.info.logsDir, "adapter.log");
    const logger = pino(
      { name: "adapter", level: process.env.LOG_LEVEL ?? "info", base: { component: "adapter" } },
      pino.destination({ dest: logFile, sync: false }),
    );
    for (const ns of [NAMESPACE, SAMPLE_NAMESPACE]) {
      await cluster.kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
      });
    }
    const { adapter, caPem } = await startLocalAdapter(cluster, {
      namespace: NAMESPACE,
      service: SERVICE,
      prometheus: {
        config: defaultConfig(),
        options: { url: cluster.prometheusUrl },
        relistIntervalMs: 10_000,
      },
      logger,
    });
    let runner: PodRunner | undefined;
    let registration: Registration | undefined;
    try {
      await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(sampleDeployment()) });
      registration = await registerWithAggregator(cluster, {
        namespace: NAMESPACE,
        service: SERVICE,
        port: adapter.port,
        caPem,
      });
      runner = await cluster.startPodRunner({ namespace: SAMPLE_NAMESPACE, labelSelector: "app=sample-app" });
      await registration.waitAvailable({ timeoutMs: 90_000 });
    } catch (err) {
      await registration?.unregister();
      await runner?.stop();
      await adapter.stop();
      throw err;
    }
    return {
      describe: [
        `serving ${adapter.url} (APIServices Available)`,
        `log ${logFile}`,
        `sample workload: deployment/sample-app in ${SAMPLE_NAMESPACE}`,
      ],
      async stop() {
        // APIServices first: an aggregated API that does not answer blocks namespace deletion.
        await registration?.unregister();
        await runner?.stop();
        await adapter.stop();
      },
    };
  },
};
