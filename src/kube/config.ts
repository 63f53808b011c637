// Where the API server is and how to talk to it. Common kubeconfigs (certificates, tokens, the
// in-cluster service account) are read by ./kubeconfig.ts; the rest — merging several files,
// exec/auth-provider plugins — by @kubernetes/client-node's KubeConfig, imported only then (its
// import alone costs ~60 MB). This file turns either into what the transport needs: the server
// URL, TLS material, and request headers that are refreshed while the program runs (rotated
// service-account tokens, exec plugin tokens).
import { readFile } from "node:fs/promises";
import { errorMessage, fail, KubeError, ok, type KubeResult } from "./errors.js";
import {
  inClusterConfig,
  readDefaultStaticKubeConfig,
  readStaticKubeConfig,
  type HttpsOptions,
  type KubeConfigSource,
} from "./kubeconfig.js";

/** A loaded kubeconfig: ours for the common cases, client-node's KubeConfig otherwise. */
export type KubeConfig = KubeConfigSource;

/** A kubeconfig file, or the default chain (KUBECONFIG, ~/.kube/config, in-cluster) without a path. */
export async function loadKubeConfig(path: string | undefined): Promise<KubeResult<KubeConfig>> {
  const given = path !== undefined && path !== "";
  let kc: KubeConfig | undefined = given ? readStaticKubeConfig(path) : readDefaultStaticKubeConfig();
  if (kc === undefined) {
    try {
      const { KubeConfig: ClientNodeKubeConfig } = await import("@kubernetes/client-node");
      const full = new ClientNodeKubeConfig();
      if (given) full.loadFromFile(path);
      else full.loadFromDefault();
      kc = full;
    } catch (err) {
      return fail(new KubeError("config", `kubeconfig ${path ?? "(default)"}: ${errorMessage(err)}`));
    }
  }
  if (kc.getCurrentCluster() === null)
    return fail(
      new KubeError("config", "kubeconfig: no current cluster (set a context or pass --kubeconfig)"),
    );
  return ok(kc);
}

/**
 * The in-cluster configuration from a service-account directory (`root` prefixes
 * /var/run/secrets/kubernetes.io/serviceaccount) and KUBERNETES_SERVICE_HOST/PORT.
 */
export function inClusterKubeConfig(root = ""): KubeResult<KubeConfig> {
  return ok(inClusterConfig(root));
}

export interface TlsSettings {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** Request headers that carry credentials. */
export type AuthHeaders = Readonly<Record<string, string>>;

export interface ConnectionOptions {
  /**
   * Re-read token files and re-ask credential plugins this often (default 60 s, as client-go
   * re-reads a service-account token file; kubelet rotates it well before it expires).
   */
  authRefreshMs?: number;
  now?: () => number;
}

/** What the transport needs from a kubeconfig. */
export class ClusterConnection {
  private cached: { at: number; headers: AuthHeaders } | undefined;
  private readonly authRefreshMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly kc: KubeConfig,
    readonly server: URL,
    readonly tls: TlsSettings,
    options: ConnectionOptions,
  ) {
    this.authRefreshMs = options.authRefreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  static async fromKubeConfig(
    kc: KubeConfig,
    options: ConnectionOptions = {},
  ): Promise<KubeResult<ClusterConnection>> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) return fail(new KubeError("config", "kubeconfig: no current cluster"));
    let server: URL;
    try {
      server = new URL(cluster.server);
    } catch {
      return fail(
        new KubeError("config", `kubeconfig: the server ${JSON.stringify(cluster.server)} is not a URL`),
      );
    }
    // client-node resolves certificate-authority(-data), client-certificate(-data) and keys,
    // files or inline, into these fields.
    const https: HttpsOptions = {};
    try {
      await kc.applyToHTTPSOptions(https);
    } catch (err) {
      return fail(new KubeError("config", `kubeconfig credentials: ${errorMessage(err)}`));
    }
    const tls: TlsSettings = {
      ...(https.ca !== undefined ? { ca: https.ca } : {}),
      ...(https.cert !== undefined ? { cert: https.cert } : {}),
      ...(https.key !== undefined ? { key: https.key } : {}),
      rejectUnauthorized: cluster.skipTLSVerify !== true,
      ...(cluster.tlsServerName !== undefined && cluster.tlsServerName !== ""
        ? { servername: cluster.tlsServerName }
        : {}),
    };
    // Credentials are read on the first request (and refreshed from then on), so a program starts
    // and reports a failing credential plugin through its requests instead of not starting.
    return ok(new ClusterConnection(kc, server, tls, options));
  }

  /** The credential headers, re-read when older than the refresh interval (or when `force`). */
  async authHeaders(force = false): Promise<KubeResult<AuthHeaders>> {
    const now = this.now();
    if (!force && this.cached !== undefined && now - this.cached.at < this.authRefreshMs)
      return ok(this.cached.headers);
    const headers: Record<string, string> = {};
    const user = this.kc.getCurrentUser();
    try {
      const tokenFile = user?.authProvider?.config?.tokenFile as unknown;
      if (typeof tokenFile === "string" && tokenFile !== "") {
        // In-cluster: read the projected token ourselves so the refresh interval is ours.
        const token = (await readFile(tokenFile, "utf8")).trim();
        if (token !== "") headers.Authorization = `Bearer ${token}`;
      } else {
        const o: HttpsOptions = { headers: {} };
        await this.kc.applyToHTTPSOptions(o);
        for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        if (user?.username !== undefined && user.password !== undefined)
          headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
      }
    } catch (err) {
      // Keep using the last good credentials while a refresh fails.
      if (this.cached !== undefined) return ok(this.cached.headers);
      return fail(new KubeError("config", `kubeconfig credentials: ${errorMessage(err)}`));
    }
    this.cached = { at: now, headers };
    return ok(headers);
  }
}
