// `prom-hpa adapter`: prometheus-adapter's flags (same names where they exist) → AdapterOptions,
// then serve until SIGTERM/SIGINT. Every bad value is reported naming its flag.
import { METRIC_TIMESTAMPS } from "./providers/sample-times.js";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { Command } from "commander";
import { parseDurationField } from "../kube/duration.js";
import { createLogger } from "../log/logger.js";
import { defaultConfig, parseConfig } from "./config/index.js";
import { startAdapter, type AdapterOptions } from "./index.js";
import { prometheusOptionsFromFlags } from "./providers/index.js";

export interface AdapterFlags {
  securePort: string;
  bindAddress: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  selfSignedHosts: string;
  prometheusUrl: string;
  prometheusTimeout: string;
  prometheusAuthConfig?: string;
  prometheusTokenFile?: string;
  prometheusCaFile?: string;
  prometheusClientCert?: string;
  prometheusClientKey?: string;
  prometheusInsecureSkipTlsVerify?: boolean;
  prometheusAuthIncluster?: boolean;
  prometheusVerb: string;
  metricsMaxAge?: string;
  metricTimestamps?: string;
  prometheusHeader: string[];
  metricsRelistInterval: string;
  config?: string;
  delegateClientCertFile?: string;
  delegateClientKeyFile?: string;
  kubeconfig?: string;
  listerKubeconfig?: string;
  authenticationKubeconfig?: string;
  authorizationKubeconfig?: string;
  clientCaFile?: string;
  requestheaderClientCaFile?: string;
  requestheaderAllowedNames?: string;
  requestheaderUsernameHeaders?: string;
  requestheaderGroupHeaders?: string;
  requestheaderExtraHeadersPrefix?: string;
  requestheaderUidHeaders?: string;
  authenticationSkipLookup?: boolean;
  allowAnonymous?: boolean;
  authorizationAlwaysAllow?: boolean;
  authenticationTokenWebhookCacheTtl: string;
  authorizationWebhookCacheAuthorizedTtl: string;
  authorizationWebhookCacheUnauthorizedTtl: string;
  logLevel: string;
  skipPermissionCheck?: boolean;
}

const IN_CLUSTER_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

async function readPem(path: string | undefined, flag: string): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${flag} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(`${flag} ${path}: no PEM certificate in the file`);
  return text;
}

/** Flags → options; throws an Error naming the flag for any bad value. */
export async function optionsFromFlags(f: AdapterFlags): Promise<AdapterOptions> {
  const port = Number(f.securePort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--secure-port: "${f.securePort}" is not a port number (0-65535)`);
  if (isIP(f.bindAddress) === 0) throw new Error(`--bind-address: "${f.bindAddress}" is not an IP address`);
  if ((f.tlsCertFile === undefined) !== (f.tlsPrivateKeyFile === undefined))
    throw new Error("--tls-cert-file and --tls-private-key-file must be given together");
  try {
    const u = new URL(f.prometheusUrl);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
  } catch {
    throw new Error(`--prometheus-url: "${f.prometheusUrl}" is not an http(s) URL`);
  }
  const relistMs = parseDurationField(f.metricsRelistInterval, "--metrics-relist-interval");
  if (relistMs < 1000)
    throw new Error(`--metrics-relist-interval: "${f.metricsRelistInterval}" is below the minimum of 1s`);
  const maxAgeMs =
    f.metricsMaxAge === undefined ? undefined : parseDurationField(f.metricsMaxAge, "--metrics-max-age");
  if (maxAgeMs !== undefined && maxAgeMs < relistMs) {
    throw new Error(
      `--metrics-max-age: "${f.metricsMaxAge}" is shorter than --metrics-relist-interval (${f.metricsRelistInterval}); series would be missed between relists`,
    );
  }
  const metricTimestamps = METRIC_TIMESTAMPS.find((m) => m === (f.metricTimestamps ?? "query"));
  if (metricTimestamps === undefined)
    throw new Error(`--metric-timestamps: "${f.metricTimestamps}" is neither "query" nor "sample"`);
  const verb = f.prometheusVerb.toUpperCase();
  if (verb !== "GET" && verb !== "POST")
    throw new Error(`--prometheus-verb: "${f.prometheusVerb}" is not GET or POST`);
  const timeoutMs = parseDurationField(f.prometheusTimeout, "--prometheus-timeout");
  if (timeoutMs <= 0) throw new Error(`--prometheus-timeout: must be greater than 0`);
  for (const h of f.prometheusHeader) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+=.*$/.test(h))
      throw new Error(`--prometheus-header: "${h}" is not Name=Value`);
  }

  let config = defaultConfig();
  let configFile: { path: string; text: string } | undefined;
  if (f.config !== undefined) {
    const path = f.config;
    const text = await readFile(path, "utf8").catch((err: unknown) => {
      throw new Error(
        `--config ${path}: cannot read it: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    const loaded = parseConfig(text);
    if (!loaded.ok) {
      const lines = loaded.issues.map((i) => `  ${i.path === "" ? "(file)" : i.path}: ${i.message}`);
      throw new Error(`--config ${path}: ${loaded.issues.length} problem(s)\n${lines.join("\n")}`);
    }
    config = loaded.config;
    // Watched from here on: a valid new version applies without a restart.
    configFile = { path, text };
  }
  const prometheus = await prometheusOptionsFromFlags({
    url: f.prometheusUrl,
    timeoutMs,
    authConfigFile: f.prometheusAuthConfig,
    // --prometheus-auth-incluster: the pod's own ServiceAccount token and cluster CA.
    tokenFile:
      f.prometheusTokenFile ?? (f.prometheusAuthIncluster ? `${IN_CLUSTER_SA_DIR}/token` : undefined),
    caFile: f.prometheusCaFile ?? (f.prometheusAuthIncluster ? `${IN_CLUSTER_SA_DIR}/ca.crt` : undefined),
    clientCertFile: f.prometheusClientCert,
    clientKeyFile: f.prometheusClientKey,
    insecureSkipTlsVerify: f.prometheusInsecureSkipTlsVerify,
    headers: f.prometheusHeader,
  });
  if (!prometheus.ok) throw new Error(prometheus.message);

  const options: AdapterOptions = {
    bindAddress: f.bindAddress,
    securePort: port,
    tlsCertFile: f.tlsCertFile,
    tlsPrivateKeyFile: f.tlsPrivateKeyFile,
    selfSignedHosts: list(f.selfSignedHosts),
    prometheus: {
      config,
      configFile,
      options: prometheus.options,
      relistIntervalMs: relistMs,
      metricsMaxAgeMs: maxAgeMs,
      metricTimestamps,
    },
    delegateClientCertFile: f.delegateClientCertFile,
    delegateClientKeyFile: f.delegateClientKeyFile,
    kubeconfig: f.kubeconfig,
    listerKubeconfig: f.listerKubeconfig,
    authenticationKubeconfig: f.authenticationKubeconfig,
    authorizationKubeconfig: f.authorizationKubeconfig,
    allowAnonymous: f.allowAnonymous === true,
    authenticationSkipLookup: f.authenticationSkipLookup === true,
    authorizationAlwaysAllow: f.authorizationAlwaysAllow === true,
    tokenCacheTtlMs: parseDurationField(
      f.authenticationTokenWebhookCacheTtl,
      "--authentication-token-webhook-cache-ttl",
    ),
    authorizedCacheTtlMs: parseDurationField(
      f.authorizationWebhookCacheAuthorizedTtl,
      "--authorization-webhook-cache-authorized-ttl",
    ),
    unauthorizedCacheTtlMs: parseDurationField(
      f.authorizationWebhookCacheUnauthorizedTtl,
      "--authorization-webhook-cache-unauthorized-ttl",
    ),
    authentication: {
      clientCA: await readPem(f.clientCaFile, "--client-ca-file"),
      requestHeaderClientCA: await readPem(f.requestheaderClientCaFile, "--requestheader-client-ca-file"),
      requestHeaderAllowedNames: list(f.requestheaderAllowedNames),
      requestHeaderUsernameHeaders: list(f.requestheaderUsernameHeaders),
      requestHeaderGroupHeaders: list(f.requestheaderGroupHeaders),
      requestHeaderExtraHeadersPrefix: list(f.requestheaderExtraHeadersPrefix),
      requestHeaderUidHeaders: list(f.requestheaderUidHeaders),
    },
  };
  return options;
}

const HELP_AFTER = `
A drop-in for prometheus-adapter: the same --config file format (rules, externalRules,
resourceRules) and the same flag names where they exist. Register it with APIServices for
v1beta1.custom.metrics.k8s.io, v1beta2.custom.metrics.k8s.io, v1beta1.external.metrics.k8s.io
and (with resourceRules) v1beta1.metrics.k8s.io.

Authentication follows kube-apiserver's delegation: front-proxy client certificates
(requestheader CA and allowed names from kube-system/extension-apiserver-authentication,
overridable with --requestheader-*), client certificates (--client-ca-file or the ConfigMap),
bearer tokens by TokenReview; authorization by SubjectAccessReview. /healthz, /livez and
/readyz need no credentials. Durations are Go durations: 30s, 10m, 1h.`;

export function registerAdapterCommand(program: Command): void {
  program
    .command("adapter")
    .description("serve the custom, external and resource metrics APIs from Prometheus")
    .option("--secure-port <port>", "HTTPS port to serve on (0 = any free port)", "6443")
    .option("--bind-address <ip>", "IP address to listen on", "0.0.0.0")
    .option(
      "--tls-cert-file <path>",
      "serving certificate (PEM, may include the chain); reloaded when it changes. Without it a self-signed certificate is used (development only)",
    )
    .option("--tls-private-key-file <path>", "private key of --tls-cert-file (PEM)")
    .option(
      "--self-signed-hosts <list>",
      "DNS names/IPs of the self-signed certificate used without --tls-cert-file",
      "localhost,127.0.0.1",
    )
    .option(
      "--prometheus-url <url>",
      "URL of Prometheus (or Thanos, Mimir, Cortex, VictoriaMetrics) to query",
      "https://localhost",
    )
    .option("--prometheus-timeout <duration>", "deadline of each call to Prometheus", "10s")
    .option(
      "--prometheus-auth-config <path>",
      "kubeconfig-format file with the credentials and TLS settings for Prometheus",
    )
    .option("--prometheus-token-file <path>", "file with a bearer token for Prometheus (re-read on change)")
    .option("--prometheus-ca-file <path>", "CA bundle (PEM) to verify Prometheus' certificate")
    .option("--prometheus-client-cert <path>", "client certificate (PEM) presented to Prometheus")
    .option("--prometheus-client-key <path>", "key of --prometheus-client-cert (PEM)")
    .option("--prometheus-insecure-skip-tls-verify", "do not verify Prometheus' certificate (testing only)")
    .option(
      "--prometheus-header <name=value>",
      "extra header on every call to Prometheus, e.g. X-Scope-OrgID=tenant (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--prometheus-auth-incluster",
      "authenticate to Prometheus with this pod's ServiceAccount token and cluster CA",
    )
    .option(
      "--prometheus-verb <GET|POST>",
      "accepted for prometheus-adapter compatibility; queries are always POSTed so large selections never make a URL too long",
      "GET",
    )
    .option(
      "--metrics-relist-interval <duration>",
      "how often the series API is asked which metrics exist",
      "10m",
    )
    .option(
      "--metrics-max-age <duration>",
      "series seen within this span count as existing at discovery (default: --metrics-relist-interval)",
    )
    .option(
      "--metric-timestamps <query|sample>",
      "a custom/external value's timestamp: when the query ran (query, upstream's) or when its newest sample was scraped (sample: one more Prometheus query per request, run alongside)",
      "query",
    )
    .option(
      "--config <path>",
      "prometheus-adapter configuration file (rules, externalRules, resourceRules); default: the built-in default rules",
    )
    .option(
      "--delegate-client-cert-file <path>",
      "client certificate (PEM) presented to the config's delegates with the caller's identity in front-proxy headers: in a cluster, signed by the front-proxy CA with a CN in the delegates' requestheader allowed names",
    )
    .option("--delegate-client-key-file <path>", "key of --delegate-client-cert-file (PEM)")
    .option(
      "--kubeconfig <path>",
      "kubeconfig for talking to the cluster (default: in-cluster, then KUBECONFIG / ~/.kube/config)",
    )
    .option(
      "--lister-kubeconfig <path>",
      "kubeconfig for API discovery and the object caches (default: --kubeconfig)",
    )
    .option(
      "--authentication-kubeconfig <path>",
      "kubeconfig for TokenReviews and the extension-apiserver-authentication ConfigMap (default: --kubeconfig)",
    )
    .option(
      "--authorization-kubeconfig <path>",
      "kubeconfig for SubjectAccessReviews (default: --authentication-kubeconfig, then --kubeconfig)",
    )
    .option(
      "--client-ca-file <path>",
      "CA bundle for client-certificate authentication (overrides the ConfigMap's client-ca-file)",
    )
    .option(
      "--requestheader-client-ca-file <path>",
      "CA bundle that signs the front proxy's (aggregator's) client certificate (overrides the ConfigMap)",
    )
    .option(
      "--requestheader-allowed-names <list>",
      "common names the front proxy's certificate may have (comma-separated; empty = any)",
    )
    .option(
      "--requestheader-username-headers <list>",
      "headers carrying the user name, first non-empty wins (e.g. X-Remote-User)",
    )
    .option("--requestheader-group-headers <list>", "headers carrying the groups (e.g. X-Remote-Group)")
    .option(
      "--requestheader-extra-headers-prefix <list>",
      "header prefixes carrying extra user info (e.g. X-Remote-Extra-)",
    )
    .option("--requestheader-uid-headers <list>", "headers carrying the user's UID (e.g. X-Remote-Uid)")
    .option(
      "--authentication-skip-lookup",
      "do not read kube-system/extension-apiserver-authentication; use only the flags above",
    )
    .option(
      "--allow-anonymous",
      "serve requests without credentials as system:anonymous (still subject to authorization)",
    )
    .option(
      "--authorization-always-allow",
      "skip SubjectAccessReviews and allow every authenticated request (development only)",
    )
    .option(
      "--authentication-token-webhook-cache-ttl <duration>",
      "how long TokenReview answers are reused",
      "10s",
    )
    .option(
      "--authorization-webhook-cache-authorized-ttl <duration>",
      "how long allowed SubjectAccessReview answers are reused",
      "10s",
    )
    .option(
      "--authorization-webhook-cache-unauthorized-ttl <duration>",
      "how long denied SubjectAccessReview answers are reused",
      "10s",
    )
    .option(
      "--skip-permission-check",
      "start without first checking (SelfSubjectAccessReview) that every permission the adapter needs is granted",
    )
    .option(
      "--log-level <level>",
      "log level: fatal, error, warn, info, debug, trace",
      process.env.LOG_LEVEL ?? "info",
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: AdapterFlags) => {
      const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
      if (!levels.includes(flags.logLevel))
        throw new Error(`--log-level: "${flags.logLevel}" is not one of ${levels.join(", ")}`);
      const options = await optionsFromFlags(flags);
      const logger = createLogger("adapter", flags.logLevel);
      const adapter = await startAdapter({
        ...options,
        logger,
        checkPermissions: flags.skipPermissionCheck !== true,
      });
      await new Promise<void>((resolve) => {
        let signalled = false;
        const onSignal = (signal: NodeJS.Signals): void => {
          if (signalled) {
            logger.warn({ signal }, "second signal: exiting now");
            process.exit(1);
          }
          signalled = true;
          logger.info({ signal }, "shutting down");
          adapter.stop().then(resolve, (err: unknown) => {
            logger.error({ err: err instanceof Error ? err.message : String(err) }, "shutdown failed");
            resolve();
          });
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      });
    });
}
