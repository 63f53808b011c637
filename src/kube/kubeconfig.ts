// The common kubeconfigs — a file whose current user has a client certificate, a bearer token or
// a username and password, or the in-cluster service account — read without
// @kubernetes/client-node, whose import alone (its generated API) costs a program ~60 MB of
// RSS and over a second of start-up. Anything else a kubeconfig can say (exec and auth-provider
// plugins, impersonation, proxies, several files in KUBECONFIG) returns undefined here and is
// left to client-node's KubeConfig, which the caller imports only then.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { isIPv6 } from "node:net";
import type { Cluster, User } from "@kubernetes/client-node";
import { parse } from "yaml";
import { z } from "zod";

/** What the transport asks of a kubeconfig; client-node's KubeConfig has the same shape. */
export interface KubeConfigSource {
  getCurrentCluster(): Cluster | null;
  getCurrentUser(): User | null;
  applyToHTTPSOptions(opts: HttpsOptions): Promise<void>;
}

export interface HttpsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  headers?: Record<string, unknown>;
  rejectUnauthorized?: boolean;
  servername?: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A cluster and a user whose credentials are files or values, never a plugin. */
export class StaticKubeConfig implements KubeConfigSource {
  constructor(
    private readonly cluster: Cluster,
    private readonly user: User,
  ) {}

  getCurrentCluster(): Cluster {
    return this.cluster;
  }

  getCurrentUser(): User {
    return this.user;
  }

  applyToHTTPSOptions(opts: HttpsOptions): Promise<void> {
    const { cluster, user } = this;
    if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    const ca = fileOrBase64(cluster.caFile, cluster.caData);
    if (ca !== undefined) opts.ca = ca;
    const cert = fileOrBase64(user.certFile, user.certData);
    if (cert !== undefined) opts.cert = cert;
    const key = fileOrBase64(user.keyFile, user.keyData);
    if (key !== undefined) opts.key = key;
    if (user.token) opts.headers = { ...opts.headers, Authorization: `Bearer ${user.token}` };
    return Promise.resolve();
  }
}

function fileOrBase64(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, "base64");
  return undefined;
}

/** client-node's in-cluster configuration, same names and fields (`root` prefixes the paths). */
export function inClusterConfig(root = ""): StaticKubeConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const serverHost = host !== undefined && isIPv6(host) ? `[${host}]` : host;
  return new StaticKubeConfig(
    {
      name: "inCluster",
      caFile: `${root}${SERVICE_ACCOUNT_DIR}/ca.crt`,
      server: `${scheme}://${serverHost}:${port}`,
      skipTLSVerify: false,
    },
    {
      name: "inClusterUser",
      authProvider: { name: "tokenFile", config: { tokenFile: `${root}${SERVICE_ACCOUNT_DIR}/token` } },
    },
  );
}

// Only the keys read here; any other key under a user or cluster sends the file to client-node.
const clusterFields = z.strictObject({
  server: z.string(),
  "certificate-authority": z.string().optional(),
  "certificate-authority-data": z.string().optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
  "tls-server-name": z.string().optional(),
  extensions: z.unknown().optional(),
});
const userFields = z.strictObject({
  "client-certificate": z.string().optional(),
  "client-certificate-data": z.string().optional(),
  "client-key": z.string().optional(),
  "client-key-data": z.string().optional(),
  token: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  extensions: z.unknown().optional(),
});
const kubeconfigFile = z.object({
  "current-context": z.string(),
  contexts: z.array(
    z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) }),
  ),
  clusters: z.array(z.object({ name: z.string(), cluster: clusterFields })),
  users: z.array(z.object({ name: z.string(), user: userFields.nullish() })),
});

/**
 * The kubeconfig at `path` when its current context is one this file reads, else undefined
 * (client-node's turn, which also reports a file that is missing or malformed).
 */
export function readStaticKubeConfig(path: string): StaticKubeConfig | undefined {
  let parsed: z.infer<typeof kubeconfigFile>;
  try {
    const r = kubeconfigFile.safeParse(parse(readFileSync(path, "utf8")));
    if (!r.success) return undefined;
    parsed = r.data;
  } catch {
    return undefined;
  }
  const context = parsed.contexts.find((c) => c.name === parsed["current-context"])?.context;
  const cluster = parsed.clusters.find((c) => c.name === context?.cluster);
  const user = parsed.users.find((u) => u.name === context?.user);
  if (context === undefined || cluster === undefined || user === undefined) return undefined;
  // Relative file names are relative to the kubeconfig's folder, as kubectl reads them.
  const at = (file: string | undefined) =>
    file === undefined || isAbsolute(file) ? file : join(dirname(path), file);
  const c = cluster.cluster;
  const u = user.user ?? {};
  return new StaticKubeConfig(
    {
      name: cluster.name,
      server: c.server,
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      ...(c["certificate-authority"] !== undefined ? { caFile: at(c["certificate-authority"]) } : {}),
      ...(c["certificate-authority-data"] !== undefined ? { caData: c["certificate-authority-data"] } : {}),
      ...(c["tls-server-name"] !== undefined ? { tlsServerName: c["tls-server-name"] } : {}),
    },
    {
      name: user.name,
      ...(u["client-certificate"] !== undefined ? { certFile: at(u["client-certificate"]) } : {}),
      ...(u["client-certificate-data"] !== undefined ? { certData: u["client-certificate-data"] } : {}),
      ...(u["client-key"] !== undefined ? { keyFile: at(u["client-key"]) } : {}),
      ...(u["client-key-data"] !== undefined ? { keyData: u["client-key-data"] } : {}),
      ...(u.token !== undefined ? { token: u.token } : {}),
      ...(u.username !== undefined ? { username: u.username } : {}),
      ...(u.password !== undefined ? { password: u.password } : {}),
    },
  );
}

/**
 * client-node's default chain (KUBECONFIG, ~/.kube/config, in-cluster) where it lands on a
 * case read here; undefined where client-node must decide.
 */
export function readDefaultStaticKubeConfig(): StaticKubeConfig | undefined {
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env.length > 0) {
    const files = env.split(delimiter).filter((f) => f !== "");
    return files.length === 1 && files[0] !== undefined ? readStaticKubeConfig(files[0]) : undefined;
  }
  const home = join(homedir(), ".kube", "config");
  if (existsSync(home)) return readStaticKubeConfig(home);
  if (existsSync(`${SERVICE_ACCOUNT_DIR}/token`)) return inClusterConfig();
  return undefined;
}
