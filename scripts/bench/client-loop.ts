// What the client benchmarks (http-client.ts, kube-client.ts) share: the stand-in server in a
// process of its own, and a closed loop of concurrent callers that reports throughput and latency.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";

/** The stand-in server's handler: drains the request, then answers `answer` as JSON. */
export function answerWith(answer: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  };
}

/** Serves on a loopback port (printed for spawnServer) on keep-alive connections until killed. */
export async function serveForever(server: Server): Promise<never> {
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
  return new Promise<never>(() => {});
}

/**
 * Starts `script` again as the stand-in server (`env` tells it to serve) and waits for the port it
 * prints, so the server does not share the client's event loop.
 */
export async function spawnServer(
  script: string,
  env: Record<string, string>,
): Promise<{ process: ChildProcessByStdio<null, Readable, null>; port: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  return { process: child, port };
}

/**
 * `warmup` sequential calls, then `total` calls by `concurrency` callers each awaiting its own;
 * prints requests per second and the p50/p99 latency under `name` (padded to `nameWidth`).
 */
export async function closedLoop(
  name: string,
  call: () => Promise<unknown>,
  opts: { total: number; concurrency: number; warmup: number; nameWidth: number },
): Promise<void> {
  const { total, concurrency } = opts;
  for (let i = 0; i < opts.warmup; i++) await call();
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
    `${name.padEnd(opts.nameWidth)} ${Math.round(total / secs)
      .toString()
      .padStart(7)} req/s   p50 ${pct(0.5)} ms   p99 ${pct(0.99)} ms`,
  );
}
