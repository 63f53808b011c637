// The metrics-discovery configuration in prometheus-adapter's file format, after parsing and
// validation. Field names are upstream's so an operator's config file maps one to one.

export interface GroupResourceOverride {
  group: string; // "" for the core group
  resource: string; // as written: "pod", "pods", "namespace", "ingress"
}

export interface ResourceMappingConfig {
  /** Label name template over .Group/.Resource, e.g. "kube_<<.Group>>_<<.Resource>>". */
  template?: string;
  /** Label name → Kubernetes resource, taking precedence over the template. */
  overrides: Record<string, GroupResourceOverride>;
  /** External rules only: false means the namespace is not added as a label matcher. */
  namespaced?: boolean;
}

export interface SeriesFilter {
  is?: string;
  isNot?: string;
}

export interface NameMapping {
  /** Regex over the series name; "" means every name (".*"). */
  matches: string;
  /** Expansion template ($1, ${1}); "" means "$1" with one capture group, "$0" with none. */
  as: string;
}

export interface DiscoveryRule {
  seriesQuery: string;
  seriesFilters: SeriesFilter[];
  resources: ResourceMappingConfig;
  name: NameMapping;
  metricsQuery: string;
  /** Find/replace applied to label values before they go into an external query (upstream extension). */
  labelValueReplacements?: { find: string; replace: string }[];
  /**
   * Our extension: read a NaN sample (e.g. a rate over no traffic, 0/0) as 0. Off by default:
   * NaN and ±Inf are not measurements, so the object counts as missing (±Inf always does).
   */
  nanAsZero?: boolean;
  /** Our extension: the `backends[].name` whose Prometheus serves this rule; absent = the flag-configured one. */
  backend?: string;
}

export interface ResourceRule {
  containerQuery: string;
  nodeQuery: string;
  resources: ResourceMappingConfig;
  containerLabel: string;
}

export interface ResourceRules {
  cpu: ResourceRule;
  memory: ResourceRule;
  /** As written ("5m"); windowSeconds is the same span in seconds. */
  window: string;
  windowSeconds: number;
}

/** The metrics APIs a delegate may be given requests of (metrics.k8s.io is always ours). */
export type DelegatedAPI = "external" | "custom";

/**
 * Our extension: another aggregated API server serving the same metrics APIs (KEDA, Datadog's
 * cluster agent, another adapter). Requests it is routed are forwarded to it with the caller's
 * identity; its discovery lists are merged into ours.
 */
export interface DelegateConfig {
  name: string;
  /** Where it listens: a Service (as an APIService names one) or a URL. */
  endpoint: { kind: "service"; namespace: string; name: string; port: number } | { kind: "url"; url: string };
  /** PEM CA bundle verifying its serving certificate: caBundle inline or read from caFile. */
  caBundle?: string;
  caFile?: string;
  /** Do not verify its serving certificate (tests only). */
  insecureSkipTLSVerify?: boolean;
  /** Which APIs route to it; default both. */
  apis: DelegatedAPI[];
  /** RE2 regex, anchored at both ends, over metric names routed to it. */
  metrics?: string;
  /** Namespaces whose requests are routed to it. */
  namespaces?: string[];
}

/** Our extension: one more Prometheus-API server (a Prometheus, a Mimir or Thanos tenant). */
export interface BackendConfig {
  name: string;
  url: string;
  /** Sent on every call, e.g. X-Scope-OrgID. */
  headers: Record<string, string>;
  bearerTokenFile?: string;
  /** A file holding `user:password`. */
  basicAuthFile?: string;
  caFile?: string;
  insecureSkipTLSVerify?: boolean;
}

export interface MetricsDiscoveryConfig {
  rules: DiscoveryRule[];
  externalRules: DiscoveryRule[];
  resourceRules?: ResourceRules;
  /** Absent when the file has no `delegates:` section. */
  delegates?: DelegateConfig[];
  /** Absent when the file has no `backends:` section. */
  backends?: BackendConfig[];
}

/** One problem found in a config file, with the path of the field it is about. */
export interface ConfigIssue {
  path: string; // "rules[3].name.matches", "" for the whole document
  message: string;
}
