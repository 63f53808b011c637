// The sample workload: an express service whose every request burns a configurable amount of
// CPU, exporting what the HPA demo scales on: http_requests_total, a request-duration
// histogram and the process's own CPU (prom-client's default metrics).
import { createServer, type Server } from "node:http";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface WorkloadOptions {
  /** CPU milliseconds each request burns unless it asks for another amount (?burnMs=). */
  burnMs: number;
  /** Shown in responses so a caller sees which replica answered. */
  name: string;
}

/** Largest burn one request may ask for, so a typo cannot wedge a replica for minutes. */
export const MAX_BURN_MS = 10_000;

/** Spins until this process has used `ms` more CPU time (user + system), not wall time. */
export function burnCpu(ms: number): void {
  if (ms <= 0) return;
  const start = process.cpuUsage();
  const targetMicros = ms * 1000;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    const used = process.cpuUsage(start);
    if (used.user + used.system >= targetMicros) break;
  }
  if (x === -1) console.log("unreachable");
}

export function parseBurn(raw: string | null, fallback: number): number | Error {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0 || n > MAX_BURN_MS) {
    return new Error(
      `burnMs must be a number of milliseconds in 0..${MAX_BURN_MS}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

export interface Workload {
  /** The express app (mount it elsewhere, or listen with `server`). */
  app: Express;
  server: Server;
  registry: Registry;
}

export function createWorkload(opts: WorkloadOptions): Workload {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by method, path and status code.",
    labelNames: ["method", "path", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to serve an HTTP request, including the CPU it burns.",
    labelNames: ["method", "path", "code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // The app a user would write: express routes, prom-client's registry on /metrics.
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", (_req, res, next) => {
    registry
      .metrics()
      .then((text) => res.type(registry.contentType).send(text))
      .catch(next);
  });
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  // Every other path is work, and only work is counted: scrapes and probes would otherwise
  // look like load.
  app.use((req: Request, res: Response) => {
    const end = duration.startTimer();
    const raw = typeof req.query.burnMs === "string" ? req.query.burnMs : null;
    const burn = parseBurn(raw, opts.burnMs);
    let code = 200;
    let body: string;
    if (burn instanceof Error) {
      code = 400;
      body = `${burn.message}\n`;
    } else {
      burnCpu(burn);
      body = `hello from ${opts.name}\n`;
    }
    const labels = { method: req.method, path: "/", code: String(code) };
    requests.inc(labels);
    end(labels);
    res.status(code).type("text/plain").set("x-served-by", opts.name).send(body);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res
      .status(500)
      .type("text/plain")
      .send(`${err instanceof Error ? err.message : String(err)}\n`);
  });

  const server = createServer(app);
  // Keep-alive connections from the load generator outlive the default 5s idle timeout.
  server.keepAliveTimeout = 65_000;
  return { app, server, registry };
}
