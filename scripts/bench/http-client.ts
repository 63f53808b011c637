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
import type { AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { spawn } from "node:child_process";
import { Agent, request } from "undici";

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
  const server = createServer((req, res) => {
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
const serverProcess = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
  env: { ...process.env, HTTP_BENCH_SERVER: "1" },
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<string>((resolve) =>
  serverProcess.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())),
);
const url = `http://127.0.0.1:${port}/api/v1/query`;
const body = new URLSearchParams({
  query: 'sum(rate(http_requests_total{namespace="shop",pod=~"web-0|web-1|web-2"}[2m])) by (pod)',
}).toString();
const headers = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };

type Call = () => Promise<unknown>;

async function run(name: string, call: Call): Promise<void> {
  for (let i = 0; i < 500; i++) await call(); // warm up
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
    `${name.padEnd(16)} ${Math.round(total / secs)
      .toString()
      .padStart(7)} req/s   p50 ${pct(0.5)} ms   p99 ${pct(0.99)} ms`,
  );
}

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
