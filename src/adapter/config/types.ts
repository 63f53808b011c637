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

export interface MetricsDiscoveryConfig {
  rules: DiscoveryRule[];
  externalRules: DiscoveryRule[];
  resourceRules?: ResourceRules;
}

/** One problem found in a config file, with the path of the field it is about. */
export interface ConfigIssue {
  path: string; // "rules[3].name.matches", "" for the whole document
  message: string;
}
