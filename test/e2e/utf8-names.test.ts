// Prometheus 3's UTF-8 metric and label names, end to end: a target exposes a dotted metric
// with a dotted label, Prometheus 3 scrapes it, and the adapter discovers it and answers an
// external metric selected by that label, through the aggregator. Runs only when the shared
// cluster's backend takes such names (PROM_HPA_E2E_BACKEND=prometheus3; Prometheus 2 cannot).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/adapter/config/index.js";
import { SD_JOBS } from "../../scripts/cluster/render.js";
import { resourceRulesYaml, startRegisteredAdapter, type RegisteredAdapter } from "./support/adapter.js";
import { printLogsOnFailure, useCluster } from "./support/cluster.js";
import { getRaw } from "./support/kube.js";
import { useNamespace } from "./support/namespace.js";
import { waitFor } from "./support/wait.js";

const cluster = useCluster();
printLogsOnFailure(cluster);

const CONFIG = `
externalRules:
- seriesQuery: '{"queue.depth",namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  name:
    matches: "^queue\\\\.depth$"
    as: "queue_depth"
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
${resourceRulesYaml()}`;

// Text format 1.0.0 with quoted names, as a UTF-8-aware client library writes it.
const EXPOSITION = `# TYPE "queue.depth" gauge
{"queue.depth","messaging.queue"="orders"} 3
{"queue.depth","messaging.queue"="refunds"} 5
`;

const externalList = z.object({
  kind: z.literal("ExternalMetricValueList"),
  items: z.array(z.object({ metricName: z.string(), value: z.string() })),
});

describe.skipIf(cluster.info.prometheusBackend !== "prometheus3")(
  "UTF-8 metric and label names with Prometheus 3",
  () => {
    const ns = useNamespace(() => cluster, "utf8");
    const sdFile = join(cluster.info.sdDir, `${SD_JOBS.pods}-utf8-names.json`);
    let target: Server | undefined;
    let registered: RegisteredAdapter | undefined;

    beforeAll(async () => {
      target = createServer((_req, res) => {
        res.writeHead(200, {
          "Content-Type": "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        });
        res.end(EXPOSITION);
      });
      await new Promise<void>((resolve) => target!.listen(0, "127.0.0.1", resolve));
      const port = (target.address() as AddressInfo).port;
      await writeFile(
        sdFile,
        JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { namespace: ns.name, pod: "exporter" } }]),
      );
      const config = parseConfig(CONFIG);
      if (!config.ok) throw new Error(`test config: ${JSON.stringify(config.issues)}`);
      registered = await startRegisteredAdapter(cluster, {
        namespace: ns.name,
        config: config.config,
        prometheusUrl: cluster.info.prometheusUrl,
      });
    }, 180_000);

    afterAll(async () => {
      await rm(sdFile, { force: true });
      await registered?.stop();
      await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
    });

    const read = async (selector?: string) =>
      externalList.parse(
        await getRaw(
          cluster,
          `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns.name}/queue_depth${
            selector === undefined ? "" : `?labelSelector=${encodeURIComponent(selector)}`
          }`,
        ),
      );

    it("discovers a dotted series and sums it for the namespace", async () => {
      const all = await waitFor("queue_depth answered", async () => {
        const l = await read();
        return l.items.length === 1 ? l : undefined;
      });
      expect(all.items).toEqual([expect.objectContaining({ metricName: "queue_depth", value: "8" })]);
    });

    it("selects by a dotted label, quoted in the query", async () => {
      const orders = await read("messaging.queue=orders");
      expect(orders.items.map((i) => i.value)).toEqual(["3"]);
      const both = await read("messaging.queue in (orders,refunds)");
      expect(both.items.map((i) => i.value)).toEqual(["8"]);
    });
  },
);
