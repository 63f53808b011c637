// The autoscaler's own HTTP endpoints: /healthz (the process is serving), /readyz (caches
// synced; not shutting down), /metrics (Prometheus text format) and /debug/hpa/<ns>/<name> (the
// explanation of an HPA's last sync).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  /** "host:port", ":port" (all interfaces) or "port" */
  bindAddress: string;
  registry: Registry;
  ready: () => boolean;
  healthy: () => boolean;
  /** /debug/hpa/<namespace>/<name>: the explanation of that HPA's last sync (JSON) */
  lastDecision?: (namespace: string, name: string) => unknown;
}

export function parseBindAddress(text: string, field: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${field}: "${text}" is not an address; use host:port, :port or a port number`);
  }
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? "0.0.0.0" : host, port };
}

export async function startHealthServer(
  o: HealthServerOptions,
): Promise<{ server: Server; host: string; port: number; close(): Promise<void> }> {
  const { host, port } = parseBindAddress(o.bindAddress, "--metrics-bind-address");
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      const ok = o.healthy();
      res.writeHead(ok ? 200 : 500, { "content-type": "text/plain" }).end(ok ? "ok\n" : "unhealthy\n");
    } else if (path === "/readyz") {
      const ok = o.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not ready\n");
    } else if (path === "/metrics") {
      o.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": o.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
      );
    } else if (o.lastDecision !== undefined && path?.startsWith("/debug/hpa/")) {
      const [namespace = "", name = ""] = path.slice("/debug/hpa/".length).split("/").map(decodeURIComponent);
      const decision = namespace !== "" && name !== "" ? o.lastDecision(namespace, name) : undefined;
      if (decision === undefined)
        res
          .writeHead(404, { "content-type": "text/plain" })
          .end(`no decision recorded for ${namespace}/${name}\n`);
      else res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(decision)}\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
