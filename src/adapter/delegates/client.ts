// Requests to one delegate over an undici pool: TLS verified against the delegate's CA, our
// front-proxy client certificate presented, and the caller's identity in the front-proxy
// headers the delegate's requestheader authenticator reads (as the aggregator sends them).
import { readFile } from "node:fs/promises";
import { Pool } from "undici";
import type { DelegateConfig } from "../config/types.js";
import type { Caller } from "../provider.js";

/** Our front-proxy client certificate (--delegate-client-cert-file / --delegate-client-key-file). */
export interface DelegateClientCertificate {
  certPem: string;
  keyPem: string;
}

export type DelegateAnswer =
  | { ok: true; status: number; body: unknown }
  /** No HTTP answer (refused, TLS failure, timeout); `cause` names the address, for our log only. */
  | { ok: false; cause: string };

export interface DelegateTransport {
  get(path: string, caller?: Caller): Promise<DelegateAnswer>;
  close(): Promise<void>;
}

// The header names kube-apiserver's front-proxy uses by default (--requestheader-*-headers).
export const REMOTE_USER = "x-remote-user";
export const REMOTE_GROUP = "x-remote-group";
export const REMOTE_EXTRA_PREFIX = "x-remote-extra-";

/** An extra's key as a header-name suffix: percent-escaped as the aggregator does (url.PathEscape). */
function escapeExtraKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The front-proxy headers naming `caller`; nothing for an unknown caller. */
export function frontProxyHeaders(caller: Caller | undefined): Record<string, string | string[]> {
  if (caller === undefined) return {};
  const headers: Record<string, string | string[]> = { [REMOTE_USER]: caller.name };
  if (caller.groups.length > 0) headers[REMOTE_GROUP] = [...caller.groups];
  for (const [key, values] of Object.entries(caller.extra)) {
    if (values.length > 0)
      headers[`${REMOTE_EXTRA_PREFIX}${escapeExtraKey(key).toLowerCase()}`] = [...values];
  }
  return headers;
}

/** https://<name>.<namespace>.svc:<port>, as the aggregator reaches an APIService's Service, or the URL. */
export function delegateBaseUrl(endpoint: DelegateConfig["endpoint"]): URL {
  return endpoint.kind === "service"
    ? new URL(`https://${endpoint.name}.${endpoint.namespace}.svc:${endpoint.port}`)
    : new URL(endpoint.url);
}

export async function createDelegateTransport(
  config: DelegateConfig,
  clientCert: DelegateClientCertificate | undefined,
  timeoutMs = 10_000,
): Promise<DelegateTransport> {
  const base = delegateBaseUrl(config.endpoint);
  const ca = config.caBundle ?? (config.caFile ? await readFile(config.caFile, "utf8") : undefined);
  const prefix = base.pathname.replace(/\/+$/, "");
  const pool = new Pool(base.origin, {
    connections: 16,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: {
      ...(ca !== undefined ? { ca } : {}),
      ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}),
      rejectUnauthorized: config.insecureSkipTLSVerify !== true,
      timeout: timeoutMs,
    },
  });
  return {
    async get(path, caller) {
      try {
        const res = await pool.request({
          method: "GET",
          path: prefix + path,
          headers: {
            accept: "application/json",
            "user-agent": "prom-hpa-adapter (delegating)",
            ...frontProxyHeaders(caller),
          },
        });
        const text = await res.body.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        return { ok: true, status: res.statusCode, body };
      } catch (err) {
        return {
          ok: false,
          cause: `${base.origin}${prefix}${path}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    },
    close: () => pool.close(),
  };
}
