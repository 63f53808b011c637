// prometheus-adapter's --prometheus-* flags turned into PrometheusOptions. --prometheus-auth-config
// is a kubeconfig-format file whose current context's cluster gives the CA / TLS settings and
// whose user gives the credentials (token, token file, basic auth, client certificate).
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import type { PrometheusOptions } from "./options.js";

/** prometheus-adapter's Prometheus flags, as the CLI parsed them (all optional but url). */
export interface PrometheusFlags {
  url: string; // --prometheus-url
  timeoutMs?: number;
  authConfigFile?: string; // --prometheus-auth-config (kubeconfig-format file)
  tokenFile?: string; // --prometheus-token-file
  caFile?: string; // --prometheus-ca-file
  clientCertFile?: string; // --prometheus-client-cert
  clientKeyFile?: string; // --prometheus-client-key
  insecureSkipTlsVerify?: boolean;
  headers?: string[]; // --prometheus-header "Name=Value" (repeatable)
}

const kubeconfig = z.object({
  "current-context": z.string().optional(),
  clusters: z
    .array(
      z.object({
        name: z.string(),
        cluster: z.object({
          "certificate-authority": z.string().optional(),
          "certificate-authority-data": z.string().optional(),
          "insecure-skip-tls-verify": z.boolean().optional(),
        }),
      }),
    )
    .default([]),
  users: z
    .array(
      z.object({
        name: z.string(),
        user: z.object({
          token: z.string().optional(),
          tokenFile: z.string().optional(),
          username: z.string().optional(),
          password: z.string().optional(),
          "client-certificate": z.string().optional(),
          "client-certificate-data": z.string().optional(),
          "client-key": z.string().optional(),
          "client-key-data": z.string().optional(),
        }),
      }),
    )
    .default([]),
  contexts: z
    .array(
      z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string().optional() }) }),
    )
    .default([]),
});

type FlagsResult = { ok: true; options: PrometheusOptions } | { ok: false; message: string };

export async function prometheusOptionsFromFlags(flags: PrometheusFlags): Promise<FlagsResult> {
  try {
    new URL(flags.url);
  } catch {
    return { ok: false, message: `--prometheus-url: ${JSON.stringify(flags.url)} is not a URL` };
  }
  const options: PrometheusOptions = { url: flags.url, auth: {}, tls: {} };
  if (flags.timeoutMs !== undefined) options.timeoutMs = flags.timeoutMs;
  const auth = options.auth ?? {};
  const tls = options.tls ?? {};
  if (flags.authConfigFile) {
    const r = await readAuthConfig(flags.authConfigFile);
    if (!r.ok) return r;
    Object.assign(auth, r.auth);
    Object.assign(tls, r.tls);
  }
  if (flags.tokenFile) auth.bearerTokenFile = flags.tokenFile;
  if (flags.caFile) tls.caFile = flags.caFile;
  if (flags.clientCertFile) tls.certFile = flags.clientCertFile;
  if (flags.clientKeyFile) tls.keyFile = flags.clientKeyFile;
  if (flags.insecureSkipTlsVerify) tls.insecureSkipVerify = true;
  if ((tls.certFile || tls.certData) !== (tls.keyFile || tls.keyData)) {
    if (!(tls.certFile || tls.certData) || !(tls.keyFile || tls.keyData)) {
      return {
        ok: false,
        message: "--prometheus-client-cert and --prometheus-client-key must be given together",
      };
    }
  }
  for (const h of flags.headers ?? []) {
    const m = /^([^=:]+)[=:]\s*(.*)$/.exec(h);
    if (!m?.[1]) return { ok: false, message: `--prometheus-header: ${JSON.stringify(h)} is not Name=Value` };
    options.headers = { ...options.headers, [m[1].trim().toLowerCase()]: m[2] ?? "" };
  }
  return { ok: true, options };
}

async function readAuthConfig(
  path: string,
): Promise<
  | { ok: true; auth: PrometheusOptions["auth"]; tls: PrometheusOptions["tls"] }
  | { ok: false; message: string }
> {
  let raw: unknown;
  try {
    raw = parse(await readFile(path, "utf8"));
  } catch (e) {
    return {
      ok: false,
      message: `--prometheus-auth-config: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const cfg = kubeconfig.safeParse(raw);
  if (!cfg.success)
    return {
      ok: false,
      message: `--prometheus-auth-config: ${path}: ${cfg.error.issues[0]?.path.join(".")}: ${cfg.error.issues[0]?.message}`,
    };
  const c = cfg.data;
  const ctx = c.contexts.find((x) => x.name === c["current-context"]) ?? c.contexts[0];
  const cluster = c.clusters.find((x) => x.name === ctx?.context.cluster) ?? c.clusters[0];
  const user = c.users.find((x) => x.name === ctx?.context.user) ?? c.users[0];
  const rel = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(path), p));
  const b64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");
  const auth: NonNullable<PrometheusOptions["auth"]> = {};
  const tls: NonNullable<PrometheusOptions["tls"]> = {};
  const cl = cluster?.cluster;
  if (cl?.["certificate-authority"]) tls.caFile = rel(cl["certificate-authority"]);
  if (cl?.["certificate-authority-data"]) tls.caData = b64(cl["certificate-authority-data"]);
  if (cl?.["insecure-skip-tls-verify"]) tls.insecureSkipVerify = true;
  const u = user?.user;
  if (u?.token) auth.bearerToken = u.token;
  if (u?.tokenFile) auth.bearerTokenFile = rel(u.tokenFile);
  if (u?.username !== undefined && u.password !== undefined)
    auth.basic = { username: u.username, password: u.password };
  if (u?.["client-certificate"]) tls.certFile = rel(u["client-certificate"]);
  if (u?.["client-certificate-data"]) tls.certData = b64(u["client-certificate-data"]);
  if (u?.["client-key"]) tls.keyFile = rel(u["client-key"]);
  if (u?.["client-key-data"]) tls.keyData = b64(u["client-key-data"]);
  return { ok: true, auth, tls };
}
