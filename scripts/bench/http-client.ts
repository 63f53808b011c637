// Which HTTP client for Prometheus: undici's request() (what the adapter uses) against the
// built-in fetch (undici's fetch under the hood) and node-fetch, on keep-alive connections to
// a local server answering a Prometheus-shaped vector, POSTing a form body like the adapter.
//
//   npx tsx scripts/bench/http-client.ts [requests=20000] [concurrency=32]
//   NODE_FETCH=/path/to/node_modules/node-fetch npx tsx scripts/bench/http-client.ts   # include node-fetch
//
// node-fetch is not a dependency of the project; point NODE_FETCH at any install of it
// (e.g. `npm install --prefix /tmp/nf node-fetch@3`) to include it.
import { createServer } from "node:http";
import { Agent as HttpAgent } from "node:http";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Agent, request } from "undici";
import { answerWith, closedLoop, serveForever, spawnServer } from "./client-loop.js";

const total = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);

const answer = JSON.stringify({
  status: "success",
  data: {
    resultType: "vector",
    result: Array.from({ length: 10 }, (_, i) => ({
      metric: { pod: `web-${i}` },
      value: [1700000000, String(i * 1.5)],
    })),
  },
});
if (process.env.HTTP_BENCH_SERVER === "1") {
  // The stand-in Prometheus runs in a process of its own, so it does not share the client's event loop.
  await serveForever(createServer(answerWith(answer)));
}
const { process: serverProcess, port } = await spawnServer(fileURLToPath(import.meta.url), {
  HTTP_BENCH_SERVER: "1",
});
const url = `http://127.0.0.1:${port}/api/v1/query`;
const body = new URLSearchParams({
  query: 'sum(rate(http_requests_total{namespace="shop",pod=~"web-0|web-1|web-2"}[2m])) by (pod)',
}).toString();
const headers = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };

const run = (name: string, call: () => Promise<unknown>): Promise<void> =>
  closedLoop(name, call, { total, concurrency, warmup: 500, nameWidth: 16 });

const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
await run("undici.request", async () => {
  const res = await request(url, { method: "POST", headers, body, dispatcher: agent });
  return JSON.parse(await res.body.text());
});
await run("fetch (built-in)", async () => {
  const res = await fetch(url, { method: "POST", headers, body });
  return JSON.parse(await res.text());
});
if (process.env.NODE_FETCH) {
  const mod = (await import(pathToFileURL(`${process.env.NODE_FETCH}/src/index.js`).href)) as {
    default: (u: string, o: object) => Promise<{ text(): Promise<string> }>;
  };
  const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  await run("node-fetch", async () => {
    const res = await mod.default(url, { method: "POST", headers, body, agent: keepAlive });
    return JSON.parse(await res.text());
  });
}
await agent.close();
serverProcess.kill();
