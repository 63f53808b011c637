// Which transport for the Kubernetes client (src/kube): the KubeClient on undici pools against
// node:https with a keep-alive agent (the adapter's former client) and the built-in fetch, over
// TLS with a bearer token, GETting a Kubernetes-shaped list from a loopback HTTPS server that
// runs in a process of its own.
//
//   npx tsx scripts/bench/kube-client.ts [requests=10000] [concurrency=16]
import { createServer, Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { fileURLToPath } from "node:url";
import { selfSignedCertificate } from "../../src/adapter/server/tls.js";
import { KubeClient } from "../../src/kube/client.js";
import { KubeConfig } from "@kubernetes/client-node";
import { orThrow } from "../../src/kube/errors.js";
import { answerWith, closedLoop, serveForever, spawnServer } from "./client-loop.js";

const total = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 16);
const path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/*/rps?labelSelector=app%3Dweb";
const answer = JSON.stringify({
  kind: "MetricValueList",
  apiVersion: "custom.metrics.k8s.io/v1beta2",
  metadata: {},
  items: Array.from({ length: 10 }, (_, i) => ({
    describedObject: { kind: "Pod", namespace: "shop", name: `web-${i}`, apiVersion: "/v1" },
    metric: { name: "rps", selector: null },
    timestamp: "2026-01-01T00:00:00Z",
    value: `${i * 100}m`,
  })),
});

if (process.env.KUBE_BENCH_SERVER !== undefined) {
  const { cert, key } = JSON.parse(process.env.KUBE_BENCH_SERVER) as { cert: string; key: string };
  await serveForever(createServer({ cert, key }, answerWith(answer)));
}

const pair = await selfSignedCertificate(["localhost", "127.0.0.1"]);
const ca = pair.cert.toString();
const { process: serverProcess, port } = await spawnServer(fileURLToPath(import.meta.url), {
  KUBE_BENCH_SERVER: JSON.stringify({ cert: ca, key: pair.key.toString() }),
});
const server = `https://127.0.0.1:${port}`;
const headers = { authorization: "Bearer bench-token", accept: "application/json" };

// 300 warm-up calls also make the TLS handshakes.
const run = (name: string, call: () => Promise<unknown>): Promise<void> =>
  closedLoop(name, call, { total, concurrency, warmup: 300, nameWidth: 22 });

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: "c", server, caData: Buffer.from(ca).toString("base64") }],
  users: [{ name: "u", token: "bench-token" }],
  contexts: [{ name: "x", cluster: "c", user: "u" }],
  currentContext: "x",
});
const client = orThrow(await KubeClient.fromKubeConfig(kc, { connections: concurrency }));
await run("KubeClient (undici)", async () => orThrow(await client.request("GET", path)));

const agent = new HttpsAgent({ keepAlive: true, maxSockets: concurrency, ca });
await run(
  "node:https keep-alive",
  () =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(`${server}${path}`, { headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    }),
);

// The built-in fetch cannot be given a CA per call; trust the bench's CA process-wide.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
await run("fetch (built-in)", async () => {
  const res = await fetch(`${server}${path}`, { headers });
  return JSON.parse(await res.text());
});
await client.close();
agent.destroy();
serverProcess.kill();
