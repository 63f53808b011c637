// startAdapter: the whole adapter in-process — HTTPS server, delegated authn/authz, API
// discovery + informer caches, and the Prometheus backend — for the CLI, tests and the demo.
import { readFile } from "node:fs/promises";
import type { MetricTimestamps } from "./providers/sample-times.js";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { createLogger, type Logger } from "../log/logger.js";
import type { PermissionCheckSettings } from "../rbac/startup.js";
import { DelegatingAuthenticator } from "./auth/authn.js";
import { SubjectAccessReviewAuthorizer, allowAll } from "./auth/authz.js";
import {
  kubeAccessReviewer,
  kubeTokenReviewer,
  mergeAuthenticationConfig,
  readAuthenticationConfigMap,
  type AuthenticationOverrides,
} from "./auth/kube.js";
import type { Authorizer } from "./auth/types.js";
import type { DelegateConfig, MetricsDiscoveryConfig } from "./config/types.js";
import { createDelegateTransport } from "./delegates/client.js";
import { DelegatingProvider } from "./delegates/provider.js";
import { compileRoute } from "./delegates/routing.js";
import { KubeClient } from "../kube/client.js";
import { RESTMapper } from "../kube/mapper.js";
import { InformerObjectLister } from "./cache/lister.js";
import { checkAdapterPermissions, resourcesNamedByRules } from "./permission-check.js";
import type { ObjectLister, ResourceMapper } from "./provider.js";
import type { PrometheusOptions } from "./prometheus/options.js";
import { watchConfigFile, type ConfigReloader } from "./config/reload.js";
import {
  createPrometheusBackend,
  createPrometheusBackends,
  type PrometheusBackend,
} from "./providers/index.js";
import type { ServedAPIs } from "./server/api-discovery.js";
import { answerClientError, MAX_HEADER_BYTES } from "./server/client-error.js";
import { createRequestHandler, type Providers } from "./server/handler.js";
import type { HealthCheck } from "./server/health.js";
import { AdapterMetrics } from "./server/metrics.js";
import { buildOpenAPIDocuments } from "./server/openapi.js";
import {
  readServingCertificate,
  selfSignedCertificate,
  watchServingCertificate,
  type ServingCertificate,
} from "./server/tls.js";

export const ADAPTER_VERSION = "v0.1.0";

/** A metrics backend: the three providers plus its lifecycle (D1's Prometheus backend is one). */
export interface MetricsBackend extends Providers {
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Discovery has run and Prometheus answered. */
  ready?(): boolean;
  /** False when the backend cannot answer metrics.k8s.io (no resourceRules). */
  servesResourceMetrics?: boolean;
  /** Parts failing without failing readiness (secondary Prometheus backends), one line each. */
  warnings?(): string[];
}

export interface AdapterOptions {
  /** Listen address; default 0.0.0.0 (tests pass 127.0.0.1). */
  bindAddress?: string;
  /** --secure-port; default 6443; 0 picks a free port. */
  securePort?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Names and IPs in the self-signed certificate used when no cert files are given. */
  selfSignedHosts?: string[];

  /** The Prometheus backend's inputs (config file contents, how to reach Prometheus). */
  prometheus?: {
    config: MetricsDiscoveryConfig;
    options: PrometheusOptions;
    relistIntervalMs?: number;
    /** --metrics-max-age: series seen within this span are discovered (default: the relist interval). */
    metricsMaxAgeMs?: number;
    /** --metric-timestamps: "query" (default, upstream's) or "sample" (one more query per request) */
    metricTimestamps?: MetricTimestamps;
    /** The file `config` was read from (and its text): watched, and reloaded when it changes. */
    configFile?: { path: string; text: string; pollIntervalMs?: number };
  };
  /** Or a ready-made backend (tests, other metric sources); wins over `prometheus`. */
  backend?: (deps: {
    mapper: ResourceMapper;
    lister: ObjectLister;
    logger: Logger;
    metrics: AdapterMetrics;
  }) => MetricsBackend;
  /**
   * Our front-proxy client certificate and key (PEM files) for forwarding to the config's
   * delegates: signed by the CA the delegates trust for request headers (the cluster's
   * front-proxy CA), with a CN in their allowed names. Required when the config has delegates.
   */
  delegateClientCertFile?: string;
  delegateClientKeyFile?: string;
  /** How often the delegates' discovery lists are fetched; default 30 s. */
  delegateRefreshIntervalMs?: number;
  /** Which API groups to serve; default all three (metrics.k8s.io only with resourceRules). */
  apis?: Partial<ServedAPIs>;

  /** --kubeconfig: default for the three below; in-cluster or ~/.kube/config when absent. */
  kubeconfig?: string;
  listerKubeconfig?: string;
  authenticationKubeconfig?: string;
  authorizationKubeconfig?: string;

  /** Serve requests without credentials as system:anonymous (still authorized). */
  allowAnonymous?: boolean;
  /** Do not read kube-system/extension-apiserver-authentication (use the overrides only). */
  authenticationSkipLookup?: boolean;
  authentication?: AuthenticationOverrides;
  /** Skip SubjectAccessReviews (development only). */
  authorizationAlwaysAllow?: boolean;
  /** How long TokenReview answers are reused; default 10 s. */
  tokenCacheTtlMs?: number;
  /** How long SubjectAccessReview answers are reused: allowed / denied; default 10 s each. */
  authorizedCacheTtlMs?: number;
  unauthorizedCacheTtlMs?: number;

  logger?: Logger;
  /**
   * After API discovery, ask (SelfSubjectAccessReview) for every permission the adapter needs
   * under these options and refuse to start, naming each missing one, without them. The CLI
   * turns it on; off by default so in-process tests need not grant RBAC.
   */
  checkPermissions?: boolean | PermissionCheckSettings;
}

export interface RunningAdapter {
  /** https://<bind>:<port> */
  url: string;
  port: number;
  /** The serving certificate in use (PEM): the caBundle for a self-signed adapter's APIServices. */
  servingCertificate: string;
  metrics: AdapterMetrics;
  /** The same answer /readyz gives. */
  ready(): boolean;
  stop(): Promise<void>;
}

function hasBackends(config: MetricsDiscoveryConfig): boolean {
  return (config.backends?.length ?? 0) > 0;
}

function joinWarnings(lines: string[]): string | undefined {
  return lines.length === 0 ? undefined : lines.join("; ");
}

async function createDelegatingProvider(
  ours: MetricsBackend,
  configs: DelegateConfig[],
  options: AdapterOptions,
  logger: Logger,
): Promise<DelegatingProvider> {
  if (options.delegateClientCertFile === undefined || options.delegateClientKeyFile === undefined) {
    throw new Error(
      "the config has delegates: give --delegate-client-cert-file and --delegate-client-key-file (a client certificate the delegates trust for front-proxy headers)",
    );
  }
  const readPem = async (path: string, flag: string): Promise<string> => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new Error(`${flag} ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const clientCert = {
    certPem: await readPem(options.delegateClientCertFile, "--delegate-client-cert-file"),
    keyPem: await readPem(options.delegateClientKeyFile, "--delegate-client-key-file"),
  };
  const delegates = await Promise.all(
    configs.map(async (c) => ({
      route: compileRoute(c),
      transport: await createDelegateTransport(c, clientCert),
    })),
  );
  return new DelegatingProvider({
    ours,
    delegates,
    refreshIntervalMs: options.delegateRefreshIntervalMs,
    logger: logger.child({ component: "delegates" }),
  });
}

export async function startAdapter(options: AdapterOptions): Promise<RunningAdapter> {
  const logger = options.logger ?? createLogger("adapter");
  const metrics = new AdapterMetrics();
  const stops: (() => void | Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s();
      } catch (err) {
        logger.warn({ err }, "error while stopping");
      }
    }
  };

  try {
    // --- Kubernetes: discovery-backed mapper and informer-backed lister
    const clientFor = async (path: string | undefined): Promise<KubeClient> => {
      const client = await KubeClient.fromPath(path ?? options.kubeconfig, {
        connections: 32,
        timeoutMs: 10_000,
        userAgent: "prom-hpa-adapter",
      });
      if (!client.ok) throw client.error;
      return client.value;
    };
    const listerClient = await clientFor(options.listerKubeconfig);
    stops.push(() => listerClient.close());
    const mapper = new RESTMapper({
      client: listerClient,
      logger,
      onRun: (ok, s) => metrics.apiDiscoveryRun(ok, s),
    });
    const lister = new InformerObjectLister({ client: listerClient, mapper, logger });
    stops.push(
      () => mapper.stop(),
      () => lister.stop(),
    );
    const discovered = await mapper.start();
    if (options.checkPermissions !== undefined && options.checkPermissions !== false) {
      // After discovery, so the resources the rules name resolve to what the cluster serves.
      await checkAdapterPermissions({
        ...options,
        extraResources: options.prometheus ? resourcesNamedByRules(options.prometheus.config, mapper) : [],
        settings: typeof options.checkPermissions === "object" ? options.checkPermissions : {},
        logger,
      });
    }
    if (discovered) lister.warm({ group: "", resource: "pods" });

    // --- metrics backend
    let backend: MetricsBackend;
    let prometheusBackend: PrometheusBackend | undefined;
    if (options.backend !== undefined) backend = options.backend({ mapper, lister, logger, metrics });
    else if (options.prometheus !== undefined && hasBackends(options.prometheus.config)) {
      backend = await createPrometheusBackends({
        config: options.prometheus.config,
        prometheus: options.prometheus.options,
        relistIntervalMs: options.prometheus.relistIntervalMs,
        metricsMaxAgeMs: options.prometheus.metricsMaxAgeMs,
        mapper,
        lister,
        logger: logger.child({ component: "backend" }),
        metrics: metrics.backendHooks(),
      });
    } else if (options.prometheus !== undefined) {
      backend = prometheusBackend = createPrometheusBackend({
        config: options.prometheus.config,
        prometheus: options.prometheus.options,
        relistIntervalMs: options.prometheus.relistIntervalMs,
        metricsMaxAgeMs: options.prometheus.metricsMaxAgeMs,
        ...(options.prometheus.metricTimestamps !== undefined
          ? { metricTimestamps: options.prometheus.metricTimestamps }
          : {}),
        mapper,
        lister,
        logger: logger.child({ component: "backend" }),
        metrics: metrics.backendHooks(),
      });
    } else throw new Error("startAdapter: give `prometheus` (config and Prometheus options) or `backend`");
    const delegateConfigs = options.prometheus?.config.delegates ?? [];
    let delegating: DelegatingProvider | undefined;
    if (delegateConfigs.length > 0) {
      delegating = await createDelegatingProvider(backend, delegateConfigs, options, logger);
      const ours = backend;
      backend = {
        custom: delegating,
        external: delegating,
        resource: ours.resource,
        start: async () => ours.start?.(),
        stop: async () => ours.stop?.(),
        ready: () => ours.ready?.() ?? true,
        warnings: () => ours.warnings?.() ?? [],
      };
      if (ours.servesResourceMetrics !== undefined)
        backend.servesResourceMetrics = ours.servesResourceMetrics;
    }
    await backend.start?.();
    stops.push(async () => backend.stop?.());
    if (delegating !== undefined) {
      const d = delegating;
      await d.start();
      stops.push(() => d.stop());
    }
    let reloader: ConfigReloader | undefined;
    const configFile = options.prometheus?.configFile;
    // Rules reload serves one Prometheus backend without delegates; backends: and delegates:
    // take a restart to change (logged when a new file has them).
    if (configFile !== undefined && prometheusBackend !== undefined && delegating === undefined) {
      const b = prometheusBackend;
      reloader = watchConfigFile({
        path: configFile.path,
        initialText: configFile.text,
        pollIntervalMs: configFile.pollIntervalMs,
        logger: logger.child({ component: "rules-reload" }),
        onResult: (result) => metrics.configReload(result),
        apply: async (config) => {
          if (hasBackends(config) || (config.delegates?.length ?? 0) > 0)
            return "the new file has backends: or delegates:, which take a restart to put in force";
          const r = await b.reload(config);
          return r.ok ? undefined : r.message;
        },
      });
      const r = reloader;
      stops.push(() => r.stop());
    }
    const apis: ServedAPIs = {
      custom: options.apis?.custom ?? true,
      external: options.apis?.external ?? true,
      resource: options.apis?.resource ?? backend.servesResourceMetrics ?? true,
    };

    // --- authentication and authorization
    const authnClient =
      options.authenticationKubeconfig === undefined
        ? listerClient
        : await clientFor(options.authenticationKubeconfig);
    if (authnClient !== listerClient) stops.push(() => authnClient.close());
    const authenticator = new DelegatingAuthenticator({
      tokenReviewer: kubeTokenReviewer(authnClient),
      allowAnonymous: options.allowAnonymous ?? false,
      tokenCacheTtlMs: options.tokenCacheTtlMs ?? 10_000,
      onCacheLookup: (hit) => metrics.authCacheLookup("tokenreview", hit),
    });
    const loadAuthConfig = async (): Promise<boolean> => {
      let fromCluster = {};
      if (!options.authenticationSkipLookup) {
        const r = await readAuthenticationConfigMap(authnClient);
        if (!r.ok) {
          logger.warn(
            { err: r.error.message },
            "cannot read kube-system/extension-apiserver-authentication; front-proxy and client-certificate authentication wait for it",
          );
          return false;
        }
        fromCluster = r.value;
      }
      authenticator.configure(mergeAuthenticationConfig(fromCluster, options.authentication ?? {}));
      return true;
    };
    await loadAuthConfig();

    let authorizer: Authorizer = allowAll;
    if (!options.authorizationAlwaysAllow) {
      const authzClient =
        options.authorizationKubeconfig === undefined
          ? authnClient
          : await clientFor(options.authorizationKubeconfig);
      if (authzClient !== authnClient && authzClient !== listerClient) stops.push(() => authzClient.close());
      authorizer = new SubjectAccessReviewAuthorizer({
        reviewer: kubeAccessReviewer(authzClient),
        allowTtlMs: options.authorizedCacheTtlMs ?? 10_000,
        denyTtlMs: options.unauthorizedCacheTtlMs ?? 10_000,
        onCacheLookup: (hit) => metrics.authCacheLookup("subjectaccessreview", hit),
      });
    }

    // --- health
    let shuttingDown = false;
    const ping: HealthCheck = { name: "ping", check: () => undefined };
    const readyz: HealthCheck[] = [
      ping,
      {
        name: "api-discovery",
        check: () => (mapper.ready ? undefined : (mapper.lastError ?? "not run yet")),
      },
      { name: "informer-sync", check: () => (lister.synced ? undefined : "object caches have not synced") },
      {
        name: "metrics-backend",
        check: () =>
          backend.ready === undefined || backend.ready()
            ? undefined
            : "series discovery has not succeeded or Prometheus is not answering",
        warning: () => joinWarnings(backend.warnings?.() ?? []),
      },
      ...(delegating === undefined
        ? []
        : [
            {
              name: "delegates",
              check: () => undefined,
              warning: () => joinWarnings(delegating!.warnings()),
            },
          ]),
      { name: "shutdown", check: () => (shuttingDown ? "shutting down" : undefined) },
      // A refused rules file is worth seeing, not worth taking the adapter out of service.
      { name: "rules-reload", check: () => undefined, warning: () => reloader?.warning() },
    ];
    const isReady = (): boolean => readyz.every((c) => c.check() === undefined);

    // --- serving
    let serving: ServingCertificate;
    if (options.tlsCertFile !== undefined || options.tlsPrivateKeyFile !== undefined) {
      if (options.tlsCertFile === undefined || options.tlsPrivateKeyFile === undefined) {
        throw new Error("--tls-cert-file and --tls-private-key-file must be given together");
      }
      const r = await readServingCertificate(options.tlsCertFile, options.tlsPrivateKeyFile);
      if (!r.ok) throw new Error(r.message);
      serving = r.value;
    } else {
      serving = await selfSignedCertificate(options.selfSignedHosts ?? ["localhost", "127.0.0.1"]);
      logger.warn("no --tls-cert-file given: serving with a self-signed certificate (development only)");
    }
    const secureContext = (): https.ServerOptions => {
      const cas = authenticator.trustedClientCAs();
      return { cert: serving.cert, key: serving.key, ...(cas.length > 0 ? { ca: cas } : {}) };
    };
    const handler = createRequestHandler({
      providers: backend,
      apis,
      authenticator,
      authorizer,
      health: { livez: [ping], readyz },
      metrics,
      openapi: buildOpenAPIDocuments(apis, ADAPTER_VERSION),
      logger,
      version: ADAPTER_VERSION,
    });
    const server = https.createServer(
      {
        ...secureContext(),
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      handler,
    );
    server.on("clientError", answerClientError);
    // The aggregator keeps connections open; do not drop them between its requests.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    server.requestTimeout = 60_000;
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      logger.debug({ err: err.message, remote: socket.remoteAddress }, "TLS handshake failed");
    });
    const refreshContext = (): void => server.setSecureContext(secureContext());
    if (options.tlsCertFile !== undefined && options.tlsPrivateKeyFile !== undefined) {
      stops.push(
        watchServingCertificate(options.tlsCertFile, options.tlsPrivateKeyFile, logger, (c) => {
          serving = c;
          refreshContext();
        }),
      );
    }
    // kube-apiserver rotates its CAs in the ConfigMap; pick changes up every minute.
    let lastCAs = authenticator.trustedClientCAs().join("");
    const authRefresh = setInterval(() => {
      void loadAuthConfig().then((ok) => {
        const now = authenticator.trustedClientCAs().join("");
        if (ok && now !== lastCAs) {
          lastCAs = now;
          refreshContext();
          logger.info("client CAs changed: TLS context refreshed");
        }
      });
    }, 60_000);
    authRefresh.unref();
    stops.push(() => clearInterval(authRefresh));

    const host = options.bindAddress ?? "0.0.0.0";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.securePort ?? 6443, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          shuttingDown = true;
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2_000).unref();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const shownHost =
      host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    logger.info({ port, host, apis }, "adapter serving");
    return {
      url: `https://${shownHost}:${port}`,
      port,
      get servingCertificate() {
        return serving.cert;
      },
      metrics,
      ready: isReady,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
