// Prometheus HTTP API client over undici: keep-alive connection pools, POST form bodies (no URL
// length limit however many pods a selection names), a deadline on every call, single-flight
// coalescing of identical concurrent calls, and answers parsed with zod. Failures are values
// that say what went wrong (unreachable, timeout, bad response, query refused) so the providers
// can answer 503 or 400 with the cause.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Agent, request, type Dispatcher } from "undici";
import type { BackendWaitTimer } from "../provider.js";
import type { PrometheusEndpoint, PrometheusMetrics, PrometheusOutcome } from "./hooks.js";
import type { PrometheusOptions } from "./options.js";
import {
  parseErrorBody,
  parseQueryBody,
  parseSeriesBody,
  type PrometheusError,
  type PromResult,
  type QueryData,
  type SeriesLabels,
} from "./schema.js";

export type { PrometheusError, PromResult } from "./schema.js";

export interface PrometheusClient {
  /** Instant query at `time` (Prometheus' now when omitted); `wait` is told how long the caller waited. */
  query(expr: string, opts?: QueryOptions): Promise<PromResult<QueryData>>;
  /** Series matching any of `match`, seen between start and end. */
  series(match: readonly string[], opts?: { start?: Date; end?: Date }): Promise<PromResult<SeriesLabels[]>>;
  /** Whether the last finished call reached Prometheus and got a well-formed answer. */
  lastCall(): { ok: boolean; at?: Date; error?: string };
  close(): Promise<void>;
}

export interface QueryOptions {
  time?: Date;
  wait?: BackendWaitTimer;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const TOKEN_FILE_TTL_MS = 10_000;

export interface ClientDeps {
  metrics?: PrometheusMetrics;
  /** Called after every finished HTTP call (not for coalesced joiners). */
  onOutcome?: (outcome: PrometheusOutcome, error?: string) => void;
}

/** Builds the client; reads CA/cert/key files now (synchronously, once, at start-up) and throws if one is unreadable. */
export function createPrometheusClient(options: PrometheusOptions, deps: ClientDeps = {}): PrometheusClient {
  const tls = options.tls ?? {};
  const connect: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } = {};
  if (tls.caFile) connect.ca = readFileSync(tls.caFile, "utf8");
  if (tls.caData) connect.ca = (connect.ca ?? "") + tls.caData;
  if (tls.certFile) connect.cert = readFileSync(tls.certFile, "utf8");
  if (tls.certData) connect.cert = tls.certData;
  if (tls.keyFile) connect.key = readFileSync(tls.keyFile, "utf8");
  if (tls.keyData) connect.key = tls.keyData;
  if (tls.insecureSkipVerify) connect.rejectUnauthorized = false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agent = new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect,
  });
  return new UndiciPrometheusClient(options, timeoutMs, agent, deps);
}

/**
 * The callers of one HTTP call in flight (coalesced: every caller asking the same thing
 * meanwhile). A caller waits on Prometheus until its answer has arrived or the call failed;
 * parsing the answer is the adapter's own work, so the callers' timers stop before it.
 */
class Flight {
  private waiting: BackendWaitTimer[] | undefined = [];

  /** A caller joins; one joining after the answer arrived has nothing left to wait for. */
  join(wait: BackendWaitTimer): void {
    wait.start();
    if (this.waiting) this.waiting.push(wait);
    else wait.stop();
  }

  arrived(): void {
    for (const w of this.waiting ?? []) w.stop();
    this.waiting = undefined;
  }
}

class UndiciPrometheusClient implements PrometheusClient {
  private readonly base: string;
  private readonly inflight = new Map<string, { flight: Flight; result: Promise<PromResult<unknown>> }>();
  private last: { ok: boolean; at?: Date; error?: string } = { ok: false };
  private token: { value: string; readAt: number } | undefined;

  constructor(
    private readonly options: PrometheusOptions,
    private readonly timeoutMs: number,
    private readonly agent: Dispatcher,
    private readonly deps: ClientDeps,
  ) {
    this.base = options.url.replace(/\/+$/, "");
  }

  query(expr: string, opts: QueryOptions = {}): Promise<PromResult<QueryData>> {
    const form = new URLSearchParams({ query: expr });
    if (opts.time) form.set("time", (opts.time.getTime() / 1000).toFixed(3));
    return this.call("query", form.toString(), parseQueryBody, opts.wait);
  }

  series(
    match: readonly string[],
    opts: { start?: Date; end?: Date } = {},
  ): Promise<PromResult<SeriesLabels[]>> {
    const form = new URLSearchParams();
    for (const m of match) form.append("match[]", m);
    if (opts.start) form.set("start", (opts.start.getTime() / 1000).toFixed(3));
    if (opts.end) form.set("end", (opts.end.getTime() / 1000).toFixed(3));
    return this.call("series", form.toString(), parseSeriesBody);
  }

  lastCall(): { ok: boolean; at?: Date; error?: string } {
    return { ...this.last };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private call<T>(
    endpoint: PrometheusEndpoint,
    body: string,
    parse: (body: unknown) => PromResult<T>,
    wait?: BackendWaitTimer,
  ): Promise<PromResult<T>> {
    const key = `${endpoint}\n${body}`;
    let running = this.inflight.get(key);
    if (running) {
      this.deps.metrics?.coalescedQuery?.(endpoint);
    } else {
      const flight = new Flight();
      const result = this.send(endpoint, body, parse, () => flight.arrived()).finally(() =>
        this.inflight.delete(key),
      );
      running = { flight, result };
      this.inflight.set(key, running);
    }
    // Joiners of a coalesced call are timed from when they joined: what their request waited.
    if (wait !== undefined) running.flight.join(wait);
    return running.result as Promise<PromResult<T>>;
  }

  private async headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = {
      ...this.options.headers,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const auth = this.options.auth;
    if (auth?.bearerTokenFile) {
      const now = Date.now();
      if (!this.token || now - this.token.readAt > TOKEN_FILE_TTL_MS) {
        this.token = { value: (await readFile(auth.bearerTokenFile, "utf8")).trim(), readAt: now };
      }
      h.authorization = `Bearer ${this.token.value}`;
    } else if (auth?.bearerToken) {
      h.authorization = `Bearer ${auth.bearerToken}`;
    } else if (auth?.basic) {
      h.authorization = `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString("base64")}`;
    }
    return h;
  }

  private async send<T>(
    endpoint: PrometheusEndpoint,
    body: string,
    parse: (body: unknown) => PromResult<T>,
    arrived: () => void,
  ): Promise<PromResult<T>> {
    const started = performance.now();
    const result = await this.exchange(endpoint, body, parse, arrived);
    const outcome: PrometheusOutcome = result.ok ? "ok" : result.error.kind;
    const seconds = (performance.now() - started) / 1000;
    this.deps.metrics?.prometheusRequest?.(endpoint, outcome, seconds);
    // A refused query still proves Prometheus is up and answering.
    const reachable = result.ok || result.error.kind === "query_error";
    this.last = reachable
      ? { ok: true, at: new Date() }
      : { ok: false, at: new Date(), error: result.ok ? undefined : result.error.message };
    this.deps.onOutcome?.(outcome, result.ok ? undefined : result.error.message);
    return result;
  }

  private async exchange<T>(
    endpoint: PrometheusEndpoint,
    body: string,
    parse: (body: unknown) => PromResult<T>,
    arrived: () => void,
  ): Promise<PromResult<T>> {
    const url = `${this.base}/api/v1/${endpoint}`;
    let status: number;
    let text: string;
    try {
      const headers = await this.headers();
      const res = await request(url, {
        method: "POST",
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      return { ok: false, error: classifyNetworkError(e, url, this.timeoutMs) };
    } finally {
      arrived();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return {
        ok: false,
        error: {
          kind: "bad_response",
          status,
          message: `Prometheus at ${url} answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
        },
      };
    }
    const err = parseErrorBody(json);
    if (err) {
      return {
        ok: false,
        error: {
          kind: "query_error",
          errorType: err.errorType,
          status,
          message: `Prometheus refused the ${endpoint} (${err.errorType}): ${err.error}`,
        },
      };
    }
    if (status < 200 || status >= 300) {
      return {
        ok: false,
        error: { kind: "bad_response", status, message: `Prometheus at ${url} answered HTTP ${status}` },
      };
    }
    const parsed = parse(json);
    if (!parsed.ok && parsed.error.kind === "bad_response")
      return { ok: false, error: { ...parsed.error, status, message: `${url}: ${parsed.error.message}` } };
    return parsed;
  }
}

function classifyNetworkError(e: unknown, url: string, timeoutMs: number): PrometheusError {
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = err.code ?? err.cause?.code ?? "";
  const name = err.name ?? "";
  if (
    name === "TimeoutError" ||
    name === "AbortError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    return { kind: "timeout", message: `Prometheus at ${url} did not answer within ${timeoutMs} ms` };
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT")
    return { kind: "timeout", message: `connecting to Prometheus at ${url} timed out` };
  const reason = [code, err.message ?? String(e)].filter((x) => x !== "").join(": ");
  return { kind: "unreachable", message: `cannot reach Prometheus at ${url}: ${reason}` };
}
