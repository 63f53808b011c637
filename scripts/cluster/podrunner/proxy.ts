// One loopback address for the load generator that spreads requests round-robin over the live
// workload processes, so adding replicas really divides the load between them.
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Backend {
  /** Who answers (the pod name), echoed in the x-backend header. */
  name: string;
  port: number;
}

/** Round-robin over a list that may change between picks. */
export class RoundRobin {
  private next = 0;

  pick<T>(items: readonly T[]): T | undefined {
    if (items.length === 0) return undefined;
    const item = items[this.next % items.length];
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return item;
  }
}

export interface Proxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startProxy(backends: () => readonly Backend[], port = 0): Promise<Proxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const rr = new RoundRobin();
  const server: Server = createServer((req, res) => {
    const backend = rr.pick(backends());
    if (!backend) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("no running pods behind this address\n");
      return;
    }
    const upstream = request(
      {
        host: "127.0.0.1",
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, "x-backend": backend.name });
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`backend ${backend.name} failed: ${err.message}\n`);
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
