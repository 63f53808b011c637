// A small JSON client for the Kubernetes API: the kubeconfig (via @kubernetes/client-node)
// supplies the server, TLS material and credentials; requests go over one keep-alive agent;
// watches stream newline-delimited events. Used for API discovery, metadata list/watch,
// TokenReview, SubjectAccessReview and the extension-apiserver-authentication ConfigMap.
// Every call has a deadline and answers a value, never throws.
import * as http from "node:http";
import * as https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { z } from "zod";

export type KubeResult<T> = { ok: true; value: T } | { ok: false; status?: number; message: string };

export interface KubeClientOptions {
  /** Path to a kubeconfig; in-cluster config or $KUBECONFIG/~/.kube/config when absent. */
  kubeconfig?: string;
  /** Deadline of one non-watch request. */
  timeoutMs?: number;
  userAgent?: string;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined && path !== "") kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export class KubeClient {
  private agent: https.Agent | http.Agent | undefined;
  private readonly server: URL;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(
    private readonly kc: KubeConfig,
    options: Omit<KubeClientOptions, "kubeconfig"> = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? "prom-hpa-adapter";
  }

  static fromOptions(options: KubeClientOptions): KubeClient {
    return new KubeClient(loadKubeConfig(options.kubeconfig), options);
  }

  get serverURL(): string {
    return this.server.toString();
  }

  private async requestOptions(
    method: string,
    headers: Record<string, string>,
  ): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: { "User-Agent": this.userAgent, ...headers } };
    // Credentials (tokens from exec plugins rotate) are applied per request; the TLS material
    // goes into one keep-alive agent built on first use.
    await this.kc.applyToHTTPSOptions(opts);
    if (this.agent === undefined) {
      this.agent =
        this.server.protocol === "http:"
          ? new http.Agent({ keepAlive: true, maxSockets: 32 })
          : new https.Agent({
              keepAlive: true,
              maxSockets: 32,
              ca: opts.ca,
              cert: opts.cert,
              key: opts.key,
              rejectUnauthorized: opts.rejectUnauthorized,
              servername: opts.servername ?? undefined,
            });
    }
    opts.agent = this.agent;
    return opts;
  }

  private url(path: string): URL {
    const base = this.server.pathname.replace(/\/$/, "");
    return new URL(base + path, this.server);
  }

  /** One request with a JSON body (or none) and a JSON answer parsed by `schema`. */
  async requestJSON<T>(
    method: string,
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
    accept = "application/json",
  ): Promise<KubeResult<T>> {
    let opts: https.RequestOptions;
    try {
      const headers: Record<string, string> = { Accept: accept };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      opts = await this.requestOptions(method, headers);
    } catch (err) {
      return { ok: false, message: `kubeconfig credentials: ${errorMessage(err)}` };
    }
    const url = this.url(path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve) => {
      const mod = url.protocol === "http:" ? http : https;
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => resolve({ ok: false, message: `${method} ${path}: ${err.message}` }));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            resolve({ ok: false, status, message: `${method} ${path}: ${status} ${statusMessage(text)}` });
            return;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            resolve({ ok: false, status, message: `${method} ${path}: answer is not JSON` });
            return;
          }
          const checked = schema.safeParse(parsed);
          resolve(
            checked.success
              ? { ok: true, value: checked.data }
              : {
                  ok: false,
                  status,
                  message: `${method} ${path}: unexpected answer: ${checked.error.message}`,
                },
          );
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on("error", (err) => resolve({ ok: false, message: `${method} ${path}: ${err.message}` }));
      req.end(payload);
    });
  }

  get<T>(path: string, schema: z.ZodType<T>, accept?: string): Promise<KubeResult<T>> {
    return this.requestJSON("GET", path, schema, undefined, accept);
  }

  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<KubeResult<T>> {
    return this.requestJSON("POST", path, schema, body);
  }

  /**
   * Streams a watch: `onEvent` gets each decoded event line; resolves when the stream ends
   * (server timeout, error, or `signal` aborted) with the reason.
   */
  async watch(
    path: string,
    accept: string,
    onEvent: (event: unknown) => void,
    signal: AbortSignal,
    idleTimeoutMs = 360_000,
  ): Promise<{ status?: number; message: string }> {
    let opts: https.RequestOptions;
    try {
      opts = await this.requestOptions("GET", { Accept: accept });
    } catch (err) {
      return { message: `kubeconfig credentials: ${errorMessage(err)}` };
    }
    const url = this.url(path);
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: { status?: number; message: string }): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      const mod = url.protocol === "http:" ? http : https;
      const req = mod.request(url, { ...opts, signal }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            done({
              status,
              message: `watch ${path}: ${status} ${statusMessage(Buffer.concat(chunks).toString("utf8"))}`,
            }),
          );
          res.on("error", (err) => done({ message: err.message }));
          return;
        }
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === "") continue;
            try {
              onEvent(JSON.parse(line));
            } catch {
              // A line we cannot decode ends this watch; the reflector relists.
              req.destroy(new Error("undecodable watch event"));
            }
          }
        });
        res.on("end", () => done({ status: 200, message: "watch closed by the server" }));
        res.on("error", (err) => done({ message: err.message }));
        res.on("close", () => done({ message: "watch connection closed" }));
      });
      // A connection that died without a FIN would otherwise hang this watch forever; the
      // server closes it after timeoutSeconds and bookmarks keep a healthy one busy.
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data for ${idleTimeoutMs} ms`)));
      const onAbort = (): void => done({ message: "stopped" });
      signal.addEventListener("abort", onAbort);
      req.on("error", (err) => done({ message: `watch ${path}: ${err.message}` }));
      req.end();
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The message of a Status body when there is one, the raw text (shortened) otherwise. */
function statusMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "message" in parsed &&
      typeof parsed.message === "string"
    )
      return parsed.message;
  } catch {
    // not JSON
  }
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}
