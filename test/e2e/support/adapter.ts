// Our adapter in this process behind the aggregator, as the e2e files that read metrics through
// kube-apiserver use it: a serving certificate for <service>.<namespace>.svc, startAdapter with
// the file's rules, the APIServices registered (scripts/cluster/aggregator.ts) and Available.
import type { MetricTimestamps } from "../../../src/adapter/providers/sample-times.js";
import type { AdapterOptions, RunningAdapter } from "../../../src/adapter/index.js";
import type { MetricsDiscoveryConfig } from "../../../src/adapter/config/index.js";
import { resourceRulesYaml as defaultResourceRulesYaml } from "../../../src/adapter/config/default.js";
import { SHIPPED_RESOURCE_RULES } from "../../../src/manifests/adapter-config.js";
import { silentLogger } from "../../../src/log/logger.js";
import { BUILTIN_HPA_CONTROLLER } from "../../../src/rbac/permissions.js";
import type { KubeObject } from "../../../src/kube/rendered-object.js";
import { registerWithAggregator, type Registration } from "../../../scripts/cluster/aggregator.js";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";
import { startLocalAdapter } from "../../../scripts/cluster/local-adapter.js";

/**
 * A ClusterRole to read the three metrics APIs, bound to kube-controller-manager's HPA
 * controller, as the install's metrics-reader roles grant it (named per test, so files never share it).
 */
export function hpaControllerMetricsReader(name: string): KubeObject[] {
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [
        {
          apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io", "metrics.k8s.io"],
          resources: ["*"],
          verbs: ["get", "list"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", ...BUILTIN_HPA_CONTROLLER }],
    },
  ];
}

/**
 * The `resourceRules:` section of the e2e adapter configs: the shipped resource rules (the
 * cAdvisor-named container series the pods export), the cpu counter read with `fn` over `window`.
 */
export function resourceRulesYaml(fn: "rate" | "irate" = "rate", window = "1m"): string {
  return defaultResourceRulesYaml({ ...SHIPPED_RESOURCE_RULES, rateFunction: fn, window });
}

export interface RegisteredAdapterOptions {
  namespace: string;
  config: MetricsDiscoveryConfig;
  prometheusUrl: string;
  /** Default "prom-hpa-adapter". */
  service?: string;
  /** Prometheus request timeout (default 5s). */
  timeoutMs?: number;
  /** Default 2s, so new series show up quickly. */
  relistIntervalMs?: number;
  /** The file `config` came from: watched and reloaded, as the CLI's --config is. */
  configFile?: { path: string; text: string; pollIntervalMs?: number };
  /** More adapter options (e.g. --delegate-client-cert-file's). */
  extra?: Partial<AdapterOptions>;
  /** A name for hpaControllerMetricsReader(), when kube-controller-manager's HPA controller reads through it. */
  hpaReaderRole?: string;
  /** --metric-timestamps (default "query") */
  metricTimestamps?: MetricTimestamps;
}

export interface RegisteredAdapter {
  adapter: RunningAdapter;
  registration: Registration;
  /** Unregisters (APIServices first, or namespace deletion hangs on discovery), then stops the adapter. */
  stop(): Promise<void>;
}

/** Starts the adapter in this process, serving with a certificate for <service>.<namespace>.svc. */
export async function startServingAdapter(
  cluster: ClusterHandle,
  opts: Omit<RegisteredAdapterOptions, "hpaReaderRole">,
): Promise<{ adapter: RunningAdapter; caPem: string; service: string }> {
  const service = opts.service ?? "prom-hpa-adapter";
  const { adapter, caPem } = await startLocalAdapter(cluster, {
    namespace: opts.namespace,
    service,
    prometheus: {
      config: opts.config,
      options: { url: opts.prometheusUrl, timeoutMs: opts.timeoutMs ?? 5_000 },
      relistIntervalMs: opts.relistIntervalMs ?? 2_000,
      configFile: opts.configFile,
      ...(opts.metricTimestamps !== undefined ? { metricTimestamps: opts.metricTimestamps } : {}),
    },
    logger: silentLogger,
    ...(opts.extra === undefined ? {} : { extra: opts.extra }),
  });
  return { adapter, caPem, service };
}

/** Starts the adapter, registers it and resolves once every APIService is Available. */
export async function startRegisteredAdapter(
  cluster: ClusterHandle,
  opts: RegisteredAdapterOptions,
): Promise<RegisteredAdapter> {
  const { adapter, caPem, service } = await startServingAdapter(cluster, opts);
  let registration: Registration | undefined;
  try {
    registration = await registerWithAggregator(
      cluster,
      { namespace: opts.namespace, service, port: adapter.port, caPem },
      {
        clusterObjects:
          opts.hpaReaderRole === undefined ? [] : hpaControllerMetricsReader(opts.hpaReaderRole),
      },
    );
    await registration.waitAvailable();
  } catch (err) {
    await registration?.unregister();
    await adapter.stop();
    throw err;
  }
  const r = registration;
  return {
    adapter,
    registration: r,
    stop: async () => {
      await r.unregister();
      await adapter.stop();
    },
  };
}
