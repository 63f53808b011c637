// A small JSON client for the Kubernetes API on one keep-alive connection pool (undici), with
// TLS and credentials taken from a KubeConfig. The typed client-node APIs cover only built-in
// resources; the autoscaler also talks to scale subresources of custom resources and to the
// aggregated metrics APIs, so every call goes through this one path and is parsed with zod by
// the caller.
import { Pool, type Dispatcher } from "undici";
import type { KubeConfig } from "@kubernetes/client-node";

/** A failed API call: the HTTP status and, when the server sent one, its Status reason/message. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: string | undefined,
  ) {
    super(message);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === "AlreadyExists";
}

export type PatchType = "merge" | "strategic" | "json";
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  patchType?: PatchType;
  /** milliseconds until the whole answer must have arrived */
  timeoutMs?: number;
}

/** The HTTP surface the autoscaler's Kubernetes parts need; tests fake it. */
export interface KubeHttp {
  request(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts?: RequestOptions): Promise<unknown>;
}

export interface KubeRestOptions {
  /** parallel connections to the apiserver (default 16) */
  connections?: number;
  /** per-request timeout (default 15s) */
  timeoutMs?: number;
  /** refresh bearer tokens (service-account token files, exec plugins) this often (default 60s) */
  authRefreshMs?: number;
  userAgent?: string;
}

export class KubeRest implements KubeHttp {
  private headers: Record<string, string> = {};
  private refreshedAt = 0;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly origin: string,
    private readonly basePath: string,
    private readonly pool: Dispatcher,
    private readonly opts: Required<KubeRestOptions>,
  ) {}

  static async fromKubeConfig(kc: KubeConfig, options: KubeRestOptions = {}): Promise<KubeRest> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig: no current cluster");
    const url = new URL(cluster.server);
    const https: { ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean; servername?: string } = {};
    await kc.applyToHTTPSOptions(https as Parameters<KubeConfig["applyToHTTPSOptions"]>[0]);
    const opts: Required<KubeRestOptions> = {
      connections: options.connections ?? 16,
      timeoutMs: options.timeoutMs ?? 15_000,
      authRefreshMs: options.authRefreshMs ?? 60_000,
      userAgent: options.userAgent ?? "prom-hpa-autoscaler",
    };
    const pool = new Pool(url.origin, {
      connections: opts.connections,
      keepAliveTimeout: 30_000,
      connect: {
        ca: https.ca as string | Buffer | undefined,
        cert: https.cert as string | Buffer | undefined,
        key: https.key as string | Buffer | undefined,
        ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
        ...(cluster.tlsServerName !== undefined ? { servername: cluster.tlsServerName } : {}),
      },
    });
    const rest = new KubeRest(kc, url.origin, url.pathname.replace(/\/$/, ""), pool, opts);
    await rest.refreshAuth(Date.now());
    return rest;
  }

  private async refreshAuth(now: number): Promise<void> {
    const o: { headers?: Record<string, unknown> } = {};
    await this.kc.applyToHTTPSOptions(o as Parameters<KubeConfig["applyToHTTPSOptions"]>[0]);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    const user = this.kc.getCurrentUser();
    if (user?.username !== undefined && user.password !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
    }
    this.headers = headers;
    this.refreshedAt = now;
  }

  async request(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts: RequestOptions = {}): Promise<unknown> {
    const now = Date.now();
    if (now - this.refreshedAt > this.opts.authRefreshMs) await this.refreshAuth(now);
    let fullPath = this.basePath + path;
    const q = Object.entries(opts.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    if (q.length > 0) fullPath += `?${new URLSearchParams(q).toString()}`;
    const headers: Record<string, string> = { ...this.headers, accept: "application/json", "user-agent": this.opts.userAgent };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = method === "PATCH" ? PATCH_CONTENT_TYPE[opts.patchType ?? "merge"] : "application/json";
    }
    const timeout = opts.timeoutMs ?? this.opts.timeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({ origin: this.origin, method, path: fullPath, headers, body, headersTimeout: timeout, bodyTimeout: timeout });
    } catch (err) {
      throw new KubeApiError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, 0, "ConnectionError");
    }
    const text = await res.body.text();
    let json: unknown = undefined;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (json === undefined && text !== "") throw new KubeApiError(`${method} ${path}: the answer is not JSON`, res.statusCode, "BadResponse");
      return json;
    }
    throw statusError(method, path, res.statusCode, json, text);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** The error a non-2xx answer becomes: the Status message when the server sent a Status, as client-go reports it. */
export function statusError(method: string, path: string, statusCode: number, json: unknown, text: string): KubeApiError {
  if (typeof json === "object" && json !== null && (json as { kind?: unknown }).kind === "Status") {
    const s = json as { message?: unknown; reason?: unknown };
    const message = typeof s.message === "string" && s.message !== "" ? s.message : `${method} ${path}: HTTP ${statusCode}`;
    return new KubeApiError(message, statusCode, typeof s.reason === "string" ? s.reason : undefined);
  }
  const snippet = text.trim().slice(0, 200);
  const generic = GENERIC_MESSAGES[statusCode];
  return new KubeApiError(
    `${generic ?? `HTTP ${statusCode}`}${snippet !== "" ? `: ${snippet}` : ""} (${method} ${path})`,
    statusCode,
    undefined,
  );
}

const GENERIC_MESSAGES: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "the server could not find the requested resource",
  409: "the object has been modified",
  429: "the server has received too many requests",
  500: "an error on the server has prevented the request from succeeding",
  503: "the server is currently unable to handle the request",
};

/** An API path segment, escaped. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
