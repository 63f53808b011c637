// Requests to the Kubernetes API over undici connection pools: one bounded keep-alive pool for
// requests and one for long-running watches (a watch holds its connection for minutes, so it
// must not take a slot a request is waiting for). undici was picked by measurement; README.md
// ("Library choices") has the figures. Answers are KubeResult values; see errors.ts for why.
import { Pool, type Dispatcher } from "undici";
import type { z } from "zod";
import { ClusterConnection, loadKubeConfig, type ConnectionOptions, type KubeConfig } from "./config.js";
import { errorMessage, fail, KubeError, ok, statusError, type KubeResult } from "./errors.js";

export type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type PatchType = "merge" | "strategic" | "json";
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

export interface RequestOptions {
  /** query parameters; undefined values are left out */
  query?: Readonly<Record<string, string | undefined>>;
  body?: unknown;
  patchType?: PatchType;
  accept?: string;
  /** milliseconds until the headers, and then each chunk of the body, must have arrived */
  timeoutMs?: number;
}

/** The request surface API clients are written against (KubeClient; tests may fake it). */
export interface KubeApi {
  request(method: Verb, path: string, opts?: RequestOptions): Promise<KubeResult<unknown>>;
}

export interface WatchOptions {
  query?: Readonly<Record<string, string | undefined>>;
  accept?: string;
  signal: AbortSignal;
  /** End a watch that has sent nothing (not even a bookmark) for this long; default 6 min. */
  idleTimeoutMs?: number;
  /** Each decoded event line; "stop" ends the watch (the reflector does after an ERROR event). */
  onEvent: (event: unknown) => void | "stop";
}

export interface KubeClientOptions extends ConnectionOptions {
  /** parallel request connections to the API server (default 16); watches have their own */
  connections?: number;
  /** default deadline of one request (default 15 s) */
  timeoutMs?: number;
  userAgent?: string;
}

export class KubeClient implements KubeApi {
  private constructor(
    private readonly conn: ClusterConnection,
    private readonly requests: Dispatcher,
    private readonly watches: Dispatcher,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
  ) {}

  static async fromKubeConfig(
    kc: KubeConfig,
    options: KubeClientOptions = {},
  ): Promise<KubeResult<KubeClient>> {
    const conn = await ClusterConnection.fromKubeConfig(kc, options);
    if (!conn.ok) return conn;
    const { server, tls } = conn.value;
    const connect = {
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    };
    const requests = new Pool(server.origin, {
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      connect,
    });
    const watches = new Pool(server.origin, { connections: null, connect });
    return ok(
      new KubeClient(
        conn.value,
        requests,
        watches,
        options.timeoutMs ?? 15_000,
        options.userAgent ?? "prom-hpa",
      ),
    );
  }

  /** A kubeconfig file, or the default chain without a path. */
  static async fromPath(
    path: string | undefined,
    options: KubeClientOptions = {},
  ): Promise<KubeResult<KubeClient>> {
    const kc = await loadKubeConfig(path);
    return kc.ok ? KubeClient.fromKubeConfig(kc.value, options) : kc;
  }

  get serverURL(): string {
    return this.conn.server.toString();
  }

  private fullPath(path: string, query: RequestOptions["query"]): string {
    let full = this.conn.server.pathname.replace(/\/$/, "") + path;
    const q = Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    if (q.length > 0) full += `${full.includes("?") ? "&" : "?"}${new URLSearchParams(q).toString()}`;
    return full;
  }

  async request(method: Verb, path: string, opts: RequestOptions = {}): Promise<KubeResult<unknown>> {
    const first = await this.send(method, path, opts, false);
    // Credentials may have rotated since they were read (a new service-account token): once more.
    if (!first.ok && first.error.status === 401) return this.send(method, path, opts, true);
    return first;
  }

  private async send(
    method: Verb,
    path: string,
    opts: RequestOptions,
    freshAuth: boolean,
  ): Promise<KubeResult<unknown>> {
    const auth = await this.conn.authHeaders(freshAuth);
    if (!auth.ok) return auth;
    const headers: Record<string, string> = {
      ...auth.value,
      accept: opts.accept ?? "application/json",
      "user-agent": this.userAgent,
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] =
        method === "PATCH" ? PATCH_CONTENT_TYPE[opts.patchType ?? "merge"] : "application/json";
    }
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.requests.request({
        origin: this.conn.server.origin,
        method,
        path: this.fullPath(path, opts.query),
        headers,
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      text = await res.body.text();
    } catch (err) {
      return fail(new KubeError("network", `${method} ${path}: ${errorMessage(err)}`));
    }
    if (res.statusCode < 200 || res.statusCode >= 300)
      return fail(statusError(method, path, res.statusCode, text));
    if (text === "") return ok(undefined);
    try {
      return ok(JSON.parse(text) as unknown);
    } catch {
      return fail(new KubeError("decode", `${method} ${path}: the answer is not JSON`, res.statusCode));
    }
  }

  /** One request whose answer is parsed by `schema`. */
  async requestParsed<T>(
    method: Verb,
    path: string,
    schema: z.ZodType<T>,
    opts: RequestOptions = {},
  ): Promise<KubeResult<T>> {
    const r = await this.request(method, path, opts);
    if (!r.ok) return r;
    return parseAnswer(method, path, schema, r.value);
  }

  get<T>(path: string, schema: z.ZodType<T>, opts: RequestOptions = {}): Promise<KubeResult<T>> {
    return this.requestParsed("GET", path, schema, opts);
  }

  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<KubeResult<T>> {
    return this.requestParsed("POST", path, schema, { body });
  }

  /**
   * Streams a watch until the server ends it (ok), it fails (the error), or `signal` aborts
   * (ok). A non-200 answer is an "api" error with the server's status (410 Gone included).
   */
  async watch(path: string, opts: WatchOptions): Promise<KubeResult<void>> {
    const auth = await this.conn.authHeaders();
    if (!auth.ok) return auth;
    const idle = opts.idleTimeoutMs ?? 360_000;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.watches.request({
        origin: this.conn.server.origin,
        method: "GET",
        path: this.fullPath(path, opts.query),
        headers: { ...auth.value, accept: opts.accept ?? "application/json", "user-agent": this.userAgent },
        signal: opts.signal,
        headersTimeout: this.timeoutMs,
        // A connection that died without a FIN would hang the watch; the server closes it after
        // timeoutSeconds, and bookmarks keep a healthy one busy.
        bodyTimeout: idle,
      });
    } catch (err) {
      if (opts.signal.aborted) return ok(undefined);
      return fail(new KubeError("network", `watch ${path}: ${errorMessage(err)}`));
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => "");
      return fail(statusError("GET", `${path} (watch)`, res.statusCode, text));
    }
    let buffered = "";
    try {
      res.body.setEncoding("utf8");
      for await (const chunk of res.body as AsyncIterable<string>) {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === "") continue;
          let event: unknown;
          try {
            event = JSON.parse(line);
          } catch {
            res.body.destroy();
            return fail(new KubeError("decode", `watch ${path}: an event is not JSON`, 200));
          }
          if (opts.onEvent(event) === "stop") {
            res.body.destroy();
            return ok(undefined);
          }
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return ok(undefined);
      return fail(new KubeError("network", `watch ${path}: ${errorMessage(err)}`));
    }
    return ok(undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.requests.close(), this.watches.destroy()]);
  }
}

/** A decoded answer checked against the shape the caller expects. */
export function parseAnswer<T>(
  method: string,
  path: string,
  schema: z.ZodType<T>,
  json: unknown,
): KubeResult<T> {
  const checked = schema.safeParse(json);
  return checked.success
    ? ok(checked.data)
    : fail(new KubeError("decode", `${method} ${path}: unexpected answer: ${checked.error.message}`, 200));
}

/** An API path segment, escaped. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
