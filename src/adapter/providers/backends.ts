// Several Prometheus backends behind one set of providers: the config's `backends:` each get
// their own client and series discovery over the rules naming them (`rules[].backend`); the
// rules naming none, and resourceRules, stay with the flag-configured Prometheus (the default
// backend). Lists are merged; a request goes to the first backend, default first, whose
// discovery found the metric. A secondary backend failing makes only its metrics 503, saying
// which backend, and is a readiness warning, not a failure.
import { readFile } from "node:fs/promises";
import type { BackendConfig, DiscoveryRule, MetricsDiscoveryConfig } from "../config/types.js";
import type {
  CustomMetricByNameRequest,
  CustomMetricBySelectorRequest,
  CustomMetricInfo,
  CustomMetricsProvider,
  ExternalMetricRequest,
  ExternalMetricsProvider,
  GroupResource,
  Result,
} from "../provider.js";
import type { PrometheusOptions } from "../prometheus/options.js";
import { resolveResource } from "../rules/resources.js";
import { createPrometheusBackend, type PrometheusBackend, type PrometheusBackendOptions } from "./backend.js";

/** One backend's PrometheusOptions from its config entry; the default's timeout and pool size carry over. */
export async function backendPrometheusOptions(
  b: BackendConfig,
  defaults: PrometheusOptions,
): Promise<{ ok: true; options: PrometheusOptions } | { ok: false; message: string }> {
  const options: PrometheusOptions = { url: b.url, auth: {}, tls: {} };
  if (defaults.timeoutMs !== undefined) options.timeoutMs = defaults.timeoutMs;
  if (defaults.connections !== undefined) options.connections = defaults.connections;
  const headers = Object.fromEntries(Object.entries(b.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (Object.keys(headers).length > 0) options.headers = headers;
  if (b.bearerTokenFile) options.auth = { bearerTokenFile: b.bearerTokenFile };
  if (b.basicAuthFile) {
    let text: string;
    try {
      text = (await readFile(b.basicAuthFile, "utf8")).trim();
    } catch (err) {
      return {
        ok: false,
        message: `backends ${b.name}: basicAuthFile ${b.basicAuthFile}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const colon = text.indexOf(":");
    if (colon < 0)
      return {
        ok: false,
        message: `backends ${b.name}: basicAuthFile ${b.basicAuthFile} is not user:password`,
      };
    options.auth = { basic: { username: text.slice(0, colon), password: text.slice(colon + 1) } };
  }
  if (b.caFile) options.tls = { ...options.tls, caFile: b.caFile };
  if (b.insecureSkipTLSVerify) options.tls = { ...options.tls, insecureSkipVerify: true };
  return { ok: true, options };
}

/** The config's rules split per backend, each with the path it has in the file. */
export function splitByBackend(config: MetricsDiscoveryConfig): Map<
  string | undefined,
  {
    rules: DiscoveryRule[];
    externalRules: DiscoveryRule[];
    paths: { rules: string[]; externalRules: string[] };
  }
> {
  const out = new Map<
    string | undefined,
    {
      rules: DiscoveryRule[];
      externalRules: DiscoveryRule[];
      paths: { rules: string[]; externalRules: string[] };
    }
  >();
  const part = (name: string | undefined) => {
    let p = out.get(name);
    if (!p) {
      p = { rules: [], externalRules: [], paths: { rules: [], externalRules: [] } };
      out.set(name, p);
    }
    return p;
  };
  part(undefined);
  for (const b of config.backends ?? []) part(b.name);
  config.rules.forEach((r, i) => {
    const p = part(r.backend);
    p.rules.push(r);
    p.paths.rules.push(`rules[${i}]`);
  });
  config.externalRules.forEach((r, i) => {
    const p = part(r.backend);
    p.externalRules.push(r);
    p.paths.externalRules.push(`externalRules[${i}]`);
  });
  return out;
}

export interface NamedBackend {
  /** undefined: the flag-configured Prometheus. */
  name: string | undefined;
  backend: PrometheusBackend;
}

export interface MultiBackend {
  custom: CustomMetricsProvider;
  external: ExternalMetricsProvider;
  resource: PrometheusBackend["resource"];
  servesResourceMetrics: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The default backend's readiness: secondary backends never fail readiness. */
  ready(): boolean;
  /** Secondary backends that are not ready, one line each. */
  warnings(): string[];
  parts: NamedBackend[];
}

/** Builds one PrometheusBackend per backend (the default first) over its rules. */
export async function createPrometheusBackends(
  options: Omit<PrometheusBackendOptions, "rulePaths">,
): Promise<MultiBackend> {
  const split = splitByBackend(options.config);
  const parts: NamedBackend[] = [];
  for (const [name, p] of split) {
    let prometheus = options.prometheus;
    if (name !== undefined) {
      const b = (options.config.backends ?? []).find((x) => x.name === name)!;
      const built = await backendPrometheusOptions(b, options.prometheus);
      if (!built.ok) throw new Error(built.message);
      prometheus = built.options;
    }
    const config: MetricsDiscoveryConfig = { rules: p.rules, externalRules: p.externalRules };
    if (name === undefined && options.config.resourceRules)
      config.resourceRules = options.config.resourceRules;
    parts.push({
      name,
      backend: createPrometheusBackend({
        ...options,
        config,
        prometheus,
        ...(name === undefined
          ? {}
          : { client: undefined, logger: options.logger?.child({ backend: name }) }),
        rulePaths: p.paths,
      }),
    });
  }
  return combineBackends(parts, options.mapper);
}

/** Unavailable messages from a secondary backend say which backend. */
function named<T>(name: string | undefined, r: Result<T>): Result<T> {
  if (r.ok || name === undefined || r.error.kind !== "Unavailable") return r;
  return { ok: false, error: { ...r.error, message: `backend ${name}: ${r.error.message}` } };
}

export function combineBackends(
  parts: NamedBackend[],
  mapper: PrometheusBackendOptions["mapper"],
): MultiBackend {
  const first = parts[0];
  if (first === undefined) throw new Error("combineBackends: no backends");
  const sameResource = (a: GroupResource, b: GroupResource): boolean =>
    a.group === b.group && a.resource === b.resource;
  const customPart = (req: {
    groupResource: GroupResource;
    metric: string;
    namespace?: string;
  }): NamedBackend => {
    const mapping = resolveResource(mapper, req.groupResource);
    if (mapping === undefined) return first;
    const namespaced = req.namespace !== undefined;
    const has = (i: CustomMetricInfo): boolean =>
      i.metric === req.metric &&
      i.namespaced === namespaced &&
      sameResource(i.groupResource, mapping.groupResource);
    return parts.find((p) => p.backend.custom.listCustomMetrics().some(has)) ?? first;
  };
  const externalPart = (metric: string): NamedBackend =>
    parts.find((p) => p.backend.external.listExternalMetrics().some((i) => i.metric === metric)) ?? first;

  const custom: CustomMetricsProvider = {
    listCustomMetrics: () => parts.flatMap((p) => p.backend.custom.listCustomMetrics()),
    async getMetricByName(req: CustomMetricByNameRequest) {
      const p = customPart(req);
      return named(p.name, await p.backend.custom.getMetricByName(req));
    },
    async getMetricBySelector(req: CustomMetricBySelectorRequest) {
      const p = customPart(req);
      return named(p.name, await p.backend.custom.getMetricBySelector(req));
    },
  };
  const external: ExternalMetricsProvider = {
    listExternalMetrics: () => parts.flatMap((p) => p.backend.external.listExternalMetrics()),
    async getExternalMetric(req: ExternalMetricRequest) {
      const p = externalPart(req.metric);
      return named(p.name, await p.backend.external.getExternalMetric(req));
    },
  };
  return {
    custom,
    external,
    resource: first.backend.resource,
    servesResourceMetrics: first.backend.servesResourceMetrics,
    async start() {
      await Promise.all(parts.map((p) => p.backend.start()));
    },
    async stop() {
      await Promise.all(parts.map((p) => p.backend.stop()));
    },
    ready: () => first.backend.ready(),
    warnings: () =>
      parts.flatMap((p) =>
        p.name === undefined || p.backend.ready()
          ? []
          : [`backend ${p.name}: series discovery has not succeeded or Prometheus is not answering`],
      ),
    parts,
  };
}
