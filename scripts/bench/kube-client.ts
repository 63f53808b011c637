// Which transport for the Kubernetes client (src/kube): the KubeClient on undici pools against
// node:https with a keep-alive agent (the adapter's former client) and the built-in fetch, over
// TLS with a bearer token, GETting a Kubernetes-shaped list from a loopback HTTPS server that
// runs in a process of its own.
//
//   npx tsx scripts/bench/kube-client.ts [requests=10000] [concurrency=16]
import { spawn } from "node:child_process";
import { createServer, Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { selfSignedCertificate } from "../../src/adapter/server/tls.js";
import { KubeClient } from "../../src/kube/client.js";
import { KubeConfig } from "@kubernetes/client-node";
import { orThrow } from "../../src/kube/errors.js";

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
  const server = createServer({ cert, key }, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
  await new Promise(() => {});
}

const pair = await selfSignedCertificate(["localhost", "127.0.0.1"]);
const ca = pair.cert.toString();
const serverProcess = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
  env: { ...process.env, KUBE_BENCH_SERVER: JSON.stringify({ cert: ca, key: pair.key.toString() }) },
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<string>((resolve) =>
  serverProcess.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())),
);
const server = `https://127.0.0.1:${port}`;
const headers = { authorization: "Bearer bench-token", accept: "application/json" };

async function run(name: string, call: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 300; i++) await call(); // warm up (and the TLS handshakes)
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const s = performance.now();
        await call();
        latencies.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.floor((latencies.length - 1) * p)] ?? 0).toFixed(2);
  console.log(
    `${name.padEnd(22)} ${Math.round(total / secs)
      .toString()
      .padStart(7)} req/s   p50 ${pct(0.5)} ms   p99 ${pct(0.99)} ms`,
  );
}

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
